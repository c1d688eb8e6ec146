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
// Model: libmicrohttpd (MHD) runs one event thread in epoll mode that accepts, reads and
// writes every connection; an idle or slowloris connection costs a descriptor and a little
// memory, never a thread. A request whose head and body have arrived is suspended in MHD and
// handed to one of `workers` threads of our own, which runs its handler (handlers may block);
// the answer is queued when the connection is resumed. A slow handler therefore never delays
// other connections, only requests queued behind it for a worker.
//
// Protocol (MHD, plus the checks below):
// - HTTP/1.1 and 1.0; keep-alive by default on 1.1 ("Connection: close" ends it), pipelined
//   requests are answered in order. Bodies by Content-Length or "Transfer-Encoding: chunked";
//   "Expect: 100-continue" is answered. HTTP/1.1 without a Host header -> 400.
// - Limits: request line + headers over max_header_bytes -> 431, body over max_body_bytes ->
//   413 (a chunked body as soon as it grows past the limit), a malformed request -> 400; each
//   of these closes the connection. A connection silent for read_timeout (idle_timeout once a
//   response was sent) is closed; MHD counts in whole seconds, so both round up to a second.
//   More than max_connections open: new ones are closed at once (counted as rejected).
// - Addresses: IPv4 ("127.0.0.1", "0.0.0.0") or IPv6 ("::1"; "::" is dual stack and takes
//   IPv4 too). start() raises the soft RLIMIT_NOFILE towards the hard one when it is below
//   what max_connections needs.
// - Routing: exact path, or a prefix route registered as "/prefix/*". Path unknown -> 404;
//   known path, other method -> 405 with Allow. HEAD is served by a GET route without the body.
// - A handler that throws gets 500 with a generic body: nothing of the exception is sent (it
//   is counted in stats().handler_errors and kept as last_handler_error() for logs).
//
// Shutdown: close() stops accepting, lets requests in flight finish for up to
// shutdown_timeout (their responses carry "Connection: close"), then requests the handlers'
// stop token, waits for the handlers, and stops MHD, which closes every connection. It returns
// only when no thread or descriptor of the server is left. A handler that ignores its stop
// token and never returns would block close(): handlers that wait must watch Request::stop.
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
    std::string address = "127.0.0.1";                 // IPv4 or IPv6 ("::1", "[::1]"; "::": all)
    std::uint16_t port = 0;                            // 0: an ephemeral port (see port())
    std::size_t workers = 4;                           // threads running handlers
    std::size_t max_connections = 4096;                // open at once; more are closed at once
    std::size_t max_header_bytes = 16 * 1024;          // request line + headers: above, 431
    std::size_t max_body_bytes = 1024 * 1024;          // body above (any framing): 413
    std::chrono::milliseconds read_timeout{10'000};    // silence while a request is received
    std::chrono::milliseconds idle_timeout{60'000};    // keep-alive connection with no request
    std::chrono::milliseconds shutdown_timeout{5000};  // close(): wait for requests in flight
    int backlog = 1024;                                // listen(2) queue
};

struct ServerStats {
    std::uint64_t connections_accepted = 0;  // accept(2) successes
    std::uint64_t connections_rejected = 0;  // over max_connections (closed at once)
    std::uint64_t connections_open = 0;      // now
    std::uint64_t requests = 0;              // requests read completely and routed
    std::uint64_t responses_4xx = 0;  // error answers, ours included (not MHD's own 400/431/505)
    std::uint64_t responses_5xx = 0;
    std::uint64_t handler_errors = 0;  // handlers that threw (answered 500)
    std::uint64_t timeouts = 0;        // requests whose body stopped arriving (read_timeout)
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
    // (UsageError otherwise); a duplicate method + path is a ConfigError.
    void route(std::string method, std::string path, Handler handler);

    // Binds, listens and starts the threads. Throws Error naming address:port (in use, ...).
    void start();
    // See "Shutdown" above. Idempotent.
    void close();

    // The bound port (the ephemeral one when options.port was 0); 0 before start().
    [[nodiscard]] std::uint16_t port() const noexcept;
    // "http://127.0.0.1:<port>", "http://[::1]:<port>"
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
