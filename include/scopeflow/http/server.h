// Server: a small embedded HTTP/1.1 server for admin endpoints (/metrics, /healthz) and HTTP
// ingest, with bounded resources and a clean shutdown.
//
//   scopeflow::http::Server server({.name = "admin", .port = 9464, .workers = 2});
//   server.route("GET", "/healthz", [](const scopeflow::http::Request&) {
//       return scopeflow::http::Response::text(200, "ok\n");
//   });
//   server.route("POST", "/ingest/*", ingest_handler);   // prefix route: /ingest/anything
//   server.start();                                      // binds; port 0 picks a free port
//   std::uint16_t port = server.port();
//   ...
//   server.close();                                      // or the destructor
//
// Model: one I/O thread polls the listening socket and the idle keep-alive connections; a
// connection with data is handed to one of `workers` threads, which reads one request (with
// the read timeout), runs its handler, writes the response and hands the connection back. Idle
// connections therefore cost no worker, and a slow client (slowloris) holds one worker for at
// most read_timeout before it is answered 408 and closed.
//
// Protocol:
// - HTTP/1.1 and 1.0; keep-alive by default on 1.1 ("Connection: close" ends it), pipelined
//   requests are answered in order. The body is read by Content-Length; "Expect: 100-continue"
//   is answered. Transfer-Encoding (chunked) is refused with 411.
// - Limits: request line + headers over max_header_bytes -> 431, body over max_body_bytes ->
//   413, a malformed request -> 400, no complete request within read_timeout -> 408; each of
//   these closes the connection. More than max_connections open: new ones get 503 and close.
// - Routing: exact path, or a prefix route registered as "/prefix/*". Path unknown -> 404;
//   known path, other method -> 405 with Allow. HEAD is served by a GET route without the body.
// - A handler that throws gets 500 with a generic body: nothing of the exception is sent (it
//   is counted in stats().handler_errors and kept as last_handler_error() for logs).
//
// Shutdown: close() stops accepting and closes idle connections at once, lets requests in
// flight finish for up to shutdown_timeout (their responses carry "Connection: close"), then
// shuts the remaining sockets down so blocked reads and writes end, requests the handlers' stop
// token, and joins every thread. It returns only when no thread or descriptor of the server is
// left. A handler that ignores its stop token and never returns would block close(): handlers
// that wait must watch Request::stop.
//
// Thread safety: route() before start() only; start/close from one thread; port(), url() and
// stats() from any thread. Handlers run concurrently on the worker threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <scopeflow/http/message.h>

namespace scopeflow::http {

struct ServerOptions {
    std::string name = "http";                         // shown in errors and thread names
    std::string address = "127.0.0.1";                 // IPv4 address to bind ("0.0.0.0": all)
    std::uint16_t port = 0;                            // 0: an ephemeral port (see port())
    std::size_t workers = 4;                           // threads running handlers
    std::size_t max_connections = 256;                 // open at once; more get 503
    std::size_t max_header_bytes = 16 * 1024;          // request line + headers
    std::size_t max_body_bytes = 1024 * 1024;          // Content-Length above: 413
    std::chrono::milliseconds read_timeout{10'000};    // to receive one whole request
    std::chrono::milliseconds write_timeout{10'000};   // to send one whole response
    std::chrono::milliseconds idle_timeout{60'000};    // keep-alive connection with no request
    std::chrono::milliseconds shutdown_timeout{5000};  // close(): wait for requests in flight
    int backlog = 128;                                 // listen(2) queue
};

struct ServerStats {
    std::uint64_t connections_accepted = 0;  // accept(2) successes
    std::uint64_t connections_rejected = 0;  // over max_connections
    std::uint64_t connections_open = 0;      // now
    std::uint64_t requests = 0;              // requests read completely and routed
    std::uint64_t responses_4xx = 0;         // error answers, the server's own included
    std::uint64_t responses_5xx = 0;
    std::uint64_t handler_errors = 0;  // handlers that threw (answered 500)
    std::uint64_t timeouts = 0;        // requests not received within read_timeout
};

class Server {
public:
    using Handler = std::function<Response(const Request&)>;

    // Validates the options (ConfigError "http_server.<name>.<field>"); binds nothing yet.
    explicit Server(ServerOptions options);
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;
    ~Server();  // close(); never throws

    // Adds a route; `path` is exact, or a prefix when it ends in "/*". Before start() only
    // (std::logic_error otherwise); a duplicate method + path is a ConfigError.
    void route(std::string method, std::string path, Handler handler);

    // Binds, listens and starts the threads. Throws Error naming address:port (in use, ...).
    void start();
    // See "Shutdown" above. Idempotent.
    void close();

    // The bound port (the ephemeral one when options.port was 0); 0 before start().
    [[nodiscard]] std::uint16_t port() const noexcept;
    // "http://127.0.0.1:<port>"
    [[nodiscard]] std::string url() const;
    [[nodiscard]] ServerStats stats() const;
    // The what() of the last exception a handler threw (for logs; never sent to clients).
    [[nodiscard]] std::string last_handler_error() const;
    [[nodiscard]] const ServerOptions& options() const noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace scopeflow::http
