#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <scopeflow/core/error.h>
#include <scopeflow/http/server.h>
#include <scopeflow/core/unique_fd.h>

namespace scopeflow::http {
namespace {

using Clock = std::chrono::steady_clock;

// The owner of one running MHD daemon: MHD_stop_daemon() on destruction.
class MhdDaemon {
public:
    MhdDaemon() noexcept = default;
    explicit MhdDaemon(MHD_Daemon* d) noexcept
        : d_(d) {}
    [[nodiscard]] MHD_Daemon* get() const noexcept { return d_.get(); }
    explicit operator bool() const noexcept { return d_ != nullptr; }
    // Stops the daemon: its thread is joined and every connection closed.
    void reset() noexcept { d_.reset(); }

private:
    struct Stop {
        void operator()(MHD_Daemon* d) const noexcept { MHD_stop_daemon(d); }
    };
    std::unique_ptr<MHD_Daemon, Stop> d_;
};

// The owner of one MHD response (reference counted by MHD once queued).
struct MhdResponseFree {
    void operator()(MHD_Response* r) const noexcept { MHD_destroy_response(r); }
};
using MhdResponse = std::unique_ptr<MHD_Response, MhdResponseFree>;

bool safe_header(const Header& h) {
    if (h.name.empty() || h.name.find_first_of(":\r\n ") != std::string::npos ||
        h.value.find_first_of("\r\n") != std::string::npos) {
        return false;
    }
    // The server owns the framing.
    return !iequals(h.name, "Content-Length") && !iequals(h.name, "Connection") &&
           !iequals(h.name, "Transfer-Encoding");
}

std::string peer_of(const sockaddr* a) {
    if (a == nullptr) {
        return {};
    }
    char buf[INET6_ADDRSTRLEN] = {};
    if (a->sa_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(a);
        ::inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
        return "[" + std::string(buf) + "]:" + std::to_string(ntohs(in6->sin6_port));
    }
    const auto* in = reinterpret_cast<const sockaddr_in*>(a);
    ::inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf);
    return std::string(buf) + ":" + std::to_string(ntohs(in->sin_port));
}

bool is_token(std::string_view s) {
    static constexpr std::string_view kSpecial = "!#$%&'*+-.^_`|~";
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
               kSpecial.find(c) != std::string_view::npos;
    });
}

// What MHD 0.9.75 lets through but RFC 9110/9112 forbid; nullptr when the head is fine.
const char* malformed(const Request& r) {
    if (!r.target.starts_with('/') && !(r.method == "OPTIONS" && r.target == "*")) {
        return "the request target must start with '/'";
    }
    std::optional<std::string_view> length;
    for (const auto& h : r.headers) {
        if (!is_token(h.name)) {
            return "a header field name is not a token";
        }
        if (iequals(h.name, "Content-Length")) {
            if (length && *length != h.value) {
                return "conflicting Content-Length fields";
            }
            length = h.value;
        }
    }
    return nullptr;
}

bool is_ipv6(const std::string& address) {
    in6_addr probe{};
    return ::inet_pton(AF_INET6, address.c_str(), &probe) == 1;
}

unsigned whole_seconds(std::chrono::milliseconds d) {
    return static_cast<unsigned>((d.count() + 999) / 1000);
}

// Raises the soft RLIMIT_NOFILE towards the hard one when it is below `needed`.
void ensure_descriptor_limit(std::size_t needed) {
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur >= needed) {
        return;
    }
    lim.rlim_cur = std::min<rlim_t>(lim.rlim_max, static_cast<rlim_t>(needed));
    (void)::setrlimit(RLIMIT_NOFILE, &lim);
}

}  // namespace

struct Server::Impl {
    struct Route {
        std::string method;
        std::string path;  // without the "*" of a prefix route
        bool prefix;
        Handler handler;
    };

    // One request, from its request line to the end of its response (MHD's con_cls).
    struct Exchange {
        Request req;
        bool head_seen = false;     // the access handler saw the head (first call done)
        int refuse = 0;             // status decided while the body still arrives (413)
        std::size_t discarded = 0;  // body bytes dropped after `refuse`
        bool dispatched = false;    // given to a worker (counts in `in_flight`)
        bool answered = false;      // guarded by mu: `resp` holds the handler's answer
        Response resp;
    };

    struct Job {
        MHD_Connection* connection;
        Exchange* exchange;
    };

    explicit Impl(ServerOptions o)
        : options(std::move(o)) {}

    ServerOptions options;
    std::vector<Route> routes;
    std::atomic<std::uint16_t> port{0};
    bool ipv6 = false;
    bool started = false;
    bool closed = false;
    std::atomic<bool> stopping{false};
    std::stop_source handler_stop;

    mutable std::mutex mu;
    std::condition_variable work_cv;  // workers: a job, or workers_stop
    std::condition_variable idle_cv;  // close(): in_flight == 0
    std::deque<Job> jobs;             // guarded by mu; at most one per connection
    std::size_t in_flight = 0;        // guarded by mu: dispatched, response not yet sent
    bool workers_stop = false;        // guarded by mu
    std::string last_error;           // guarded by mu

    std::atomic<std::uint64_t> accepted{0};
    std::atomic<std::uint64_t> rejected{0};
    std::atomic<std::uint64_t> open{0};
    std::atomic<std::uint64_t> requests{0};
    std::atomic<std::uint64_t> r4xx{0};
    std::atomic<std::uint64_t> r5xx{0};
    std::atomic<std::uint64_t> handler_errors{0};
    std::atomic<std::uint64_t> timeouts{0};

    MhdDaemon daemon;
    std::vector<std::thread> workers;

    std::string where() const {
        const std::uint16_t p = port.load() != 0 ? port.load() : options.port;
        const std::string host = ipv6 ? "[" + options.address + "]" : options.address;
        return "http server '" + options.name + "' (" + host + ":" + std::to_string(p) + ")";
    }

    void count(int status) {
        if (status >= 500) {
            r5xx.fetch_add(1, std::memory_order_relaxed);
        } else if (status >= 400) {
            r4xx.fetch_add(1, std::memory_order_relaxed);
        }
    }

    // Queues `r` on `c`; `close_after` ends the connection once it is sent.
    MHD_Result answer(MHD_Connection* c, const Response& r, bool close_after) {
        MhdResponse mr(MHD_create_response_from_buffer(
            r.body.size(), const_cast<char*>(r.body.data()), MHD_RESPMEM_MUST_COPY));
        if (!mr) {
            return MHD_NO;  // out of memory: MHD closes the connection
        }
        for (const auto& h : r.headers) {
            if (safe_header(h)) {
                (void)MHD_add_response_header(mr.get(), h.name.c_str(), h.value.c_str());
            }
        }
        if (close_after || stopping.load()) {
            (void)MHD_add_response_header(mr.get(), MHD_HTTP_HEADER_CONNECTION, "close");
        }
        count(r.status);
        return MHD_queue_response(c, static_cast<unsigned>(r.status), mr.get());
    }

    MHD_Result refuse(MHD_Connection* c, int status, std::string why) {
        return answer(c, Response::text(status, std::move(why)), true);
    }

    // --- MHD callbacks (all on MHD's event thread) ---

    static void* on_uri(void* /*cls*/, const char* uri, MHD_Connection* /*c*/) {
        auto* ex = new Exchange();  // owned by MHD as con_cls; freed in on_completed
        ex->req.target = uri;
        return ex;
    }

    static MHD_Result on_accept(void* cls, const sockaddr* /*addr*/, socklen_t /*len*/) {
        Impl& s = *static_cast<Impl*>(cls);
        if (s.open.load() >= s.options.max_connections) {
            s.rejected.fetch_add(1, std::memory_order_relaxed);
            return MHD_NO;
        }
        return MHD_YES;
    }

    static void on_connection(void* cls,
                              MHD_Connection* /*c*/,
                              void** /*socket_context*/,
                              MHD_ConnectionNotificationCode code) {
        Impl& s = *static_cast<Impl*>(cls);
        if (code == MHD_CONNECTION_NOTIFY_STARTED) {
            s.accepted.fetch_add(1, std::memory_order_relaxed);
            s.open.fetch_add(1, std::memory_order_relaxed);
        } else {
            s.open.fetch_sub(1, std::memory_order_relaxed);
        }
    }

    static void on_completed(void* cls,
                             MHD_Connection* c,
                             void** con_cls,
                             MHD_RequestTerminationCode toe) {
        Impl& s = *static_cast<Impl*>(cls);
        std::unique_ptr<Exchange> ex(static_cast<Exchange*>(*con_cls));
        *con_cls = nullptr;
        if (!ex) {
            return;
        }
        if (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED && ex->head_seen && !ex->dispatched) {
            s.timeouts.fetch_add(1, std::memory_order_relaxed);
        }
        if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK) {
            // Between requests a keep-alive connection may stay silent for idle_timeout.
            (void)MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT,
                                            whole_seconds(s.options.idle_timeout));
        }
        if (ex->dispatched) {
            std::lock_guard lock(s.mu);
            if (--s.in_flight == 0) {
                s.idle_cv.notify_all();
            }
        }
    }

    static MHD_Result on_request(void* cls,
                                 MHD_Connection* c,
                                 const char* /*url*/,
                                 const char* method,
                                 const char* version,
                                 const char* upload_data,
                                 size_t* upload_size,
                                 void** con_cls) {
        Impl& s = *static_cast<Impl*>(cls);
        auto* ex = static_cast<Exchange*>(*con_cls);
        if (ex == nullptr) {
            return MHD_NO;  // cannot happen: on_uri made one
        }
        if (!ex->head_seen) {
            ex->head_seen = true;
            return s.on_head(c, *ex, method, version);
        }
        if (*upload_size != 0) {
            s.on_body(*ex, upload_data, *upload_size);
            *upload_size = 0;
            // A client that goes on sending far past the limit is cut off without an answer.
            return ex->discarded > s.options.max_body_bytes + 64 * 1024 ? MHD_NO : MHD_YES;
        }
        if (ex->refuse != 0) {
            return s.refuse(c, ex->refuse,
                            "the body is larger than the limit of " +
                                std::to_string(s.options.max_body_bytes) + " bytes\n");
        }
        if (!ex->dispatched) {
            if (!s.dispatch_later(c, *ex)) {
                return s.refuse(c, 503, "the server is shutting down\n");
            }
            return MHD_YES;
        }
        std::unique_lock lock(s.mu);
        if (!ex->answered) {
            return MHD_YES;  // cannot happen: resumed only once answered
        }
        lock.unlock();
        return s.answer(c, ex->resp, false);
    }

    MHD_Result on_head(MHD_Connection* c, Exchange& ex, const char* method, const char* version) {
        ex.req.method = method;
        std::size_t head_bytes = ex.req.method.size() + ex.req.target.size() + 12;
        MHD_get_connection_values(
            c, MHD_HEADER_KIND,
            [](void* out, MHD_ValueKind, const char* key, const char* value) -> MHD_Result {
                static_cast<Headers*>(out)->add(key, value != nullptr ? value : "");
                return MHD_YES;
            },
            &ex.req.headers);
        for (const auto& h : ex.req.headers) {
            head_bytes += h.name.size() + h.value.size() + 4;
        }
        const MHD_ConnectionInfo* info =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        ex.req.peer = peer_of(info != nullptr ? info->client_addr : nullptr);
        // The body may take up to read_timeout of silence (not idle_timeout).
        (void)MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT,
                                        whole_seconds(options.read_timeout));
        if (const char* bad = malformed(ex.req)) {
            return refuse(c, 400, std::string(bad) + "\n");
        }
        if (head_bytes > options.max_header_bytes) {
            return refuse(c, 431,
                          "the request head is larger than the limit of " +
                              std::to_string(options.max_header_bytes) + " bytes\n");
        }
        // RFC 9112 3.2: a server must answer 400 to an HTTP/1.1 request without Host. MHD
        // 0.9.75 checks this only in its strict mode, which also refuses other things.
        if (std::strcmp(version, MHD_HTTP_VERSION_1_1) == 0 && !ex.req.headers.contains("Host")) {
            return refuse(c, 400, "an HTTP/1.1 request needs a Host header\n");
        }
        if (const auto cl = ex.req.headers.get("Content-Length")) {
            std::size_t n = 0;
            const auto [end, ec] = std::from_chars(cl->data(), cl->data() + cl->size(), n);
            if (ec == std::errc() && end == cl->data() + cl->size() && n > options.max_body_bytes) {
                return refuse(c, 413,
                              "the body is larger than the limit of " +
                                  std::to_string(options.max_body_bytes) + " bytes\n");
            }
        }
        return MHD_YES;
    }

    void on_body(Exchange& ex, const char* data, std::size_t size) {
        if (ex.refuse != 0) {
            ex.discarded += size;
            return;
        }
        if (ex.req.body.size() + size > options.max_body_bytes) {
            // A chunked body grew past the limit: MHD 0.9.75 takes a response only once the
            // body is in, so the rest is read and dropped (up to a bound) and 413 follows.
            ex.refuse = 413;
            ex.req.body.clear();
            ex.req.body.shrink_to_fit();
            ex.discarded = size;
            return;
        }
        ex.req.body.append(data, size);
    }

    // Suspends the connection and queues its request for a worker; the worker resumes it.
    // False once the workers are stopping (close(): a keep-alive connection may still send a
    // request): the caller answers it at once, since a connection suspended with no worker left
    // to resume it would still be suspended when MHD stops (which MHD treats as a fatal error).
    // The check and the queueing share the lock with stop_workers(), and the workers drain every
    // queued job before they leave, so each suspended connection is resumed.
    bool dispatch_later(MHD_Connection* c, Exchange& ex) {
        std::lock_guard lock(mu);
        if (workers_stop) {
            return false;
        }
        ex.dispatched = true;
        ex.req.stop = handler_stop.get_token();
        requests.fetch_add(1, std::memory_order_relaxed);
        MHD_suspend_connection(c);
        ++in_flight;
        jobs.push_back({c, &ex});
        work_cv.notify_one();
        return true;
    }

    // --- workers ---
    void worker_main() {
        for (;;) {
            Job job{};
            {
                std::unique_lock lock(mu);
                work_cv.wait(lock, [&] { return !jobs.empty() || workers_stop; });
                if (jobs.empty()) {
                    return;
                }
                job = jobs.front();
                jobs.pop_front();
            }
            Response resp = route_and_run(job.exchange->req);
            {
                std::lock_guard lock(mu);
                job.exchange->resp = std::move(resp);
                job.exchange->answered = true;
            }
            MHD_resume_connection(job.connection);
        }
    }

    Response route_and_run(const Request& req) {
        const std::string_view path = req.path();
        const Route* match = nullptr;
        const Route* head_fallback = nullptr;
        std::string allow;
        std::size_t best = 0;
        bool path_known = false;
        for (const auto& r : routes) {
            const bool hit = r.prefix ? path.starts_with(r.path) : path == r.path;
            if (!hit) {
                continue;
            }
            const std::size_t score = r.prefix ? r.path.size() : std::string::npos;
            if (path_known && score < best) {
                continue;  // a longer (or exact) match exists
            }
            if (!path_known || score > best) {
                allow.clear();
                match = nullptr;
                head_fallback = nullptr;
            }
            path_known = true;
            best = score;
            allow += (allow.empty() ? "" : ", ") + r.method;
            if (r.method == req.method) {
                match = &r;
            } else if (req.method == "HEAD" && r.method == "GET") {
                head_fallback = &r;
            }
        }
        if (match == nullptr) {
            match = head_fallback;
        }
        if (match == nullptr) {
            if (!path_known) {
                return Response::text(404, "not found\n");
            }
            Response r = Response::text(405, "method not allowed\n");
            r.headers.add("Allow", allow);
            return r;
        }
        try {
            return match->handler(req);
        } catch (const std::exception& e) {
            handler_failed(e.what());
        } catch (...) {
            handler_failed("unknown exception");
        }
        return Response::text(500, "internal server error\n");
    }

    void handler_failed(const char* what) {
        handler_errors.fetch_add(1, std::memory_order_relaxed);
        std::lock_guard lock(mu);
        last_error = what;
    }

    UniqueFd listen_socket() {
        const int family = ipv6 ? AF_INET6 : AF_INET;
        UniqueFd sock(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        if (!sock) {
            throw Error(where() + ": socket: " + errno_text(errno));
        }
        const int one = 1;
        ::setsockopt(sock.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_storage addr{};
        socklen_t len = 0;
        if (ipv6) {
            // "::" takes IPv4 too (dual stack); a specific address only itself.
            const int v6only = options.address == "::" ? 0 : 1;
            ::setsockopt(sock.get(), IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
            auto& a = reinterpret_cast<sockaddr_in6&>(addr);
            a.sin6_family = AF_INET6;
            a.sin6_port = htons(options.port);
            ::inet_pton(AF_INET6, options.address.c_str(), &a.sin6_addr);
            len = sizeof a;
        } else {
            auto& a = reinterpret_cast<sockaddr_in&>(addr);
            a.sin_family = AF_INET;
            a.sin_port = htons(options.port);
            ::inet_pton(AF_INET, options.address.c_str(), &a.sin_addr);
            len = sizeof a;
        }
        if (::bind(sock.get(), reinterpret_cast<const sockaddr*>(&addr), len) != 0) {
            throw Error(where() + ": bind: " + errno_text(errno));
        }
        if (::listen(sock.get(), options.backlog) != 0) {
            throw Error(where() + ": listen: " + errno_text(errno));
        }
        ::getsockname(sock.get(), reinterpret_cast<sockaddr*>(&addr), &len);
        port.store(ipv6 ? ntohs(reinterpret_cast<sockaddr_in6&>(addr).sin6_port)
                        : ntohs(reinterpret_cast<sockaddr_in&>(addr).sin_port));
        return sock;
    }

    void stop_workers() {
        {
            std::lock_guard lock(mu);
            workers_stop = true;
        }
        work_cv.notify_all();
        for (auto& t : workers) {
            t.join();
        }
        workers.clear();
    }
};

Server::Server(ServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {
    ServerOptions& o = impl_->options;
    if (o.address.size() > 2 && o.address.front() == '[' && o.address.back() == ']') {
        o.address = o.address.substr(1, o.address.size() - 2);  // "[::1]", as in a URL
    }
    const std::string at = "http_server." + o.name + ".";
    if (o.workers == 0) {
        throw ConfigError(at + "workers", "must be at least 1");
    }
    if (o.max_connections == 0) {
        throw ConfigError(at + "max_connections", "must be at least 1");
    }
    if (o.max_header_bytes < 64) {
        throw ConfigError(at + "max_header_bytes", "must be at least 64");
    }
    if (o.read_timeout.count() <= 0 || o.idle_timeout.count() <= 0) {
        throw ConfigError(at + "read_timeout", "timeouts must be positive");
    }
    in_addr probe{};
    impl_->ipv6 = is_ipv6(o.address);
    if (!impl_->ipv6 && ::inet_pton(AF_INET, o.address.c_str(), &probe) != 1) {
        throw ConfigError(at + "address", "'" + o.address + "' is not an IPv4 or IPv6 address");
    }
}

Server::~Server() {
    try {
        close();
    } catch (...) {  // NOLINT(bugprone-empty-catch): close() reports nothing it could throw
    }
}

void Server::route(std::string method, std::string path, Handler handler) {
    if (impl_->started) {
        throw UsageError("http server '" + impl_->options.name + "': route() after start()");
    }
    const bool prefix = path.ends_with("/*");
    if (prefix) {
        path.pop_back();
    }
    if (path.empty() || path.front() != '/') {
        throw ConfigError("http_server." + impl_->options.name + ".routes",
                          "a route path must start with '/', got '" + path + "'");
    }
    for (const auto& r : impl_->routes) {
        if (r.method == method && r.path == path && r.prefix == prefix) {
            throw ConfigError("http_server." + impl_->options.name + ".routes",
                              "route " + method + " " + path + " is defined twice");
        }
    }
    impl_->routes.push_back({std::move(method), std::move(path), prefix, std::move(handler)});
}

void Server::start() {
    Impl& s = *impl_;
    if (s.started) {
        throw UsageError("http server '" + s.options.name + "': started twice");
    }
    s.started = true;
    // Each connection is a descriptor; leave room for the rest of the process.
    ensure_descriptor_limit(s.options.max_connections + 256);
    try {
        UniqueFd sock = s.listen_socket();
        s.workers.reserve(s.options.workers);
        for (std::size_t i = 0; i < s.options.workers; ++i) {
            s.workers.emplace_back([&s] { s.worker_main(); });
        }
        // Room for a head of max_header_bytes beside MHD's own bookkeeping and write buffer;
        // the exact limit is checked in on_head.
        const std::size_t memory = 2 * s.options.max_header_bytes + 16 * 1024;
        unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME;
        if (s.ipv6) {
            flags |= MHD_USE_IPv6;
        }
        errno = 0;
        MHD_Daemon* d = MHD_start_daemon(
            flags, 0, &Impl::on_accept, &s, &Impl::on_request, &s, MHD_OPTION_LISTEN_SOCKET,
            static_cast<MHD_socket>(sock.get()), MHD_OPTION_CONNECTION_LIMIT,
            static_cast<unsigned>(s.options.max_connections + 16),
            MHD_OPTION_PER_IP_CONNECTION_LIMIT, 0U, MHD_OPTION_CONNECTION_TIMEOUT,
            whole_seconds(s.options.read_timeout), MHD_OPTION_CONNECTION_MEMORY_LIMIT, memory,
            MHD_OPTION_URI_LOG_CALLBACK, &Impl::on_uri, &s, MHD_OPTION_NOTIFY_COMPLETED,
            &Impl::on_completed, &s, MHD_OPTION_NOTIFY_CONNECTION, &Impl::on_connection, &s,
            MHD_OPTION_END);
        if (d == nullptr) {
            throw Error(s.where() + ": cannot start libmicrohttpd" +
                        (errno != 0 ? std::string(": ") + errno_text(errno) : std::string()));
        }
        s.daemon = MhdDaemon(d);
        (void)sock.release();  // the daemon's now; returned by MHD_quiesce_daemon
    } catch (...) {
        s.stop_workers();
        s.closed = true;
        throw;
    }
}

void Server::close() {
    Impl& s = *impl_;
    if (!s.started || s.closed || !s.daemon) {
        return;
    }
    s.closed = true;
    // 1. Stop accepting: the listening socket comes back from MHD and is closed here.
    s.stopping.store(true);
    if (const MHD_socket fd = MHD_quiesce_daemon(s.daemon.get()); fd != MHD_INVALID_SOCKET) {
        const UniqueFd listening(fd);  // closed here
    }
    // 2. Requests in flight finish (answered with Connection: close) within the deadline.
    std::unique_lock lock(s.mu);
    const bool drained =
        s.idle_cv.wait_for(lock, s.options.shutdown_timeout, [&] { return s.in_flight == 0; });
    lock.unlock();
    if (!drained) {
        // 3. Past the deadline: ask handlers to stop; their quick answers still go out.
        s.handler_stop.request_stop();
    }
    // Workers run what is queued (with the stop token requested, quickly) and leave, so no
    // connection stays suspended when MHD stops.
    s.stop_workers();
    lock.lock();
    (void)s.idle_cv.wait_for(lock, std::chrono::seconds(1), [&] { return s.in_flight == 0; });
    lock.unlock();
    // 4. MHD closes every connection, idle keep-alive ones included, and joins its thread.
    s.daemon.reset();
}

std::uint16_t Server::port() const noexcept {
    return impl_->port.load();
}

std::string Server::url() const {
    const std::string& a = impl_->options.address;
    return "http://" + (impl_->ipv6 ? "[" + a + "]" : a) + ":" + std::to_string(port());
}

ServerStats Server::stats() const {
    const Impl& s = *impl_;
    return {.connections_accepted = s.accepted.load(),
            .connections_rejected = s.rejected.load(),
            .connections_open = s.open.load(),
            .requests = s.requests.load(),
            .responses_4xx = s.r4xx.load(),
            .responses_5xx = s.r5xx.load(),
            .handler_errors = s.handler_errors.load(),
            .timeouts = s.timeouts.load()};
}

std::string Server::last_handler_error() const {
    std::lock_guard lock(impl_->mu);
    return impl_->last_error;
}

const ServerOptions& Server::options() const noexcept {
    return impl_->options;
}

}  // namespace scopeflow::http
