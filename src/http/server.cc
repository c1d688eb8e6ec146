#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <scopeflow/error.h>
#include <scopeflow/http/server.h>
#include <scopeflow/unique_fd.h>

#include "http/request_parser.h"

namespace scopeflow::http {
namespace {

using Clock = std::chrono::steady_clock;

int poll_timeout_ms(Clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
        return 0;
    }
    return static_cast<int>(std::min<long long>(left + 1, 60'000));
}

// Waits for `events` on fd until `deadline`; false on timeout.
bool wait_fd(int fd, short events, Clock::time_point deadline) {
    for (;;) {
        pollfd p{.fd = fd, .events = events, .revents = 0};
        const int rc = ::poll(&p, 1, poll_timeout_ms(deadline));
        if (rc > 0) {
            return true;
        }
        if (rc == 0) {
            if (Clock::now() >= deadline) {
                return false;
            }
            continue;
        }
        if (errno != EINTR) {
            return true;  // let the read/write report the error
        }
    }
}

enum class ReadResult { data, eof, timeout, error };

// Appends what arrives (up to `max` bytes) to `in`, waiting until `deadline`.
ReadResult read_some(int fd, std::string& in, std::size_t max, Clock::time_point deadline) {
    char buf[16384];
    for (;;) {
        const ssize_t n = ::recv(fd, buf, std::min(sizeof buf, max), 0);
        if (n > 0) {
            in.append(buf, static_cast<std::size_t>(n));
            return ReadResult::data;
        }
        if (n == 0) {
            return ReadResult::eof;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            return ReadResult::error;
        }
        if (!wait_fd(fd, POLLIN, deadline)) {
            return ReadResult::timeout;
        }
    }
}

bool write_all(int fd, std::string_view data, Clock::time_point deadline) {
    while (!data.empty()) {
        const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n > 0) {
            data.remove_prefix(static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!wait_fd(fd, POLLOUT, deadline)) {
                return false;
            }
            continue;
        }
        return false;
    }
    return true;
}

bool safe_header(const Header& h) {
    if (h.name.empty() || h.name.find_first_of(":\r\n ") != std::string::npos ||
        h.value.find_first_of("\r\n") != std::string::npos) {
        return false;
    }
    // The server owns the framing.
    return !iequals(h.name, "Content-Length") && !iequals(h.name, "Connection") &&
           !iequals(h.name, "Transfer-Encoding");
}

std::string serialize(const Response& r, bool keep_alive, bool head_only) {
    const bool bodyless = r.status < 200 || r.status == 204 || r.status == 304;
    std::string out;
    out.reserve(128 + r.body.size());
    out += "HTTP/1.1 ";
    out += std::to_string(r.status);
    out += ' ';
    out += reason_phrase(r.status);
    out += "\r\n";
    for (const auto& h : r.headers) {
        if (safe_header(h)) {
            out += h.name;
            out += ": ";
            out += h.value;
            out += "\r\n";
        }
    }
    if (!bodyless) {
        out += "Content-Length: ";
        out += std::to_string(r.body.size());
        out += "\r\n";
    }
    out += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
    if (!bodyless && !head_only) {
        out += r.body;
    }
    return out;
}

std::string peer_of(const sockaddr_in& a) {
    char buf[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &a.sin_addr, buf, sizeof buf);
    return std::string(buf) + ":" + std::to_string(ntohs(a.sin_port));
}

}  // namespace

struct Server::Impl {
    struct Route {
        std::string method;
        std::string path;  // without the "*" of a prefix route
        bool prefix;
        Handler handler;
    };

    struct Conn {
        Conn(UniqueFd f, std::string p, std::atomic<std::uint64_t>& open)
            : fd(std::move(f)),
              peer(std::move(p)),
              open_count(&open) {
            open_count->fetch_add(1, std::memory_order_relaxed);
        }
        Conn(const Conn&) = delete;
        Conn& operator=(const Conn&) = delete;
        ~Conn() { open_count->fetch_sub(1, std::memory_order_relaxed); }

        UniqueFd fd;
        std::string peer;
        std::string in;  // received, not consumed yet (pipelined requests)
        Clock::time_point idle_since = Clock::now();
        bool busy = false;     // guarded by Impl::mu: a complete request is being served
        bool aborted = false;  // guarded by Impl::mu: close() shut it down while it waited
        std::atomic<std::uint64_t>* open_count;
    };

    explicit Impl(ServerOptions o)
        : options(std::move(o)) {}

    ServerOptions options;
    std::vector<Route> routes;
    UniqueFd listen_fd;
    UniqueFd wake_fd;  // eventfd: wakes the I/O thread
    std::atomic<std::uint16_t> port{0};
    bool started = false;
    bool closed = false;
    std::atomic<bool> stopping{false};
    std::stop_source handler_stop;

    std::mutex mu;
    std::condition_variable work_cv;              // workers: ready_ or workers_stop
    std::condition_variable done_cv;              // close(): workers_running == 0
    std::deque<std::unique_ptr<Conn>> ready;      // guarded by mu: connections with data
    std::vector<std::unique_ptr<Conn>> returned;  // guarded by mu: back to the I/O thread
    std::set<Conn*> active;                       // guarded by mu: with a worker
    bool workers_stop = false;                    // guarded by mu
    std::size_t workers_running = 0;              // guarded by mu
    std::string last_error;                       // guarded by mu

    std::atomic<std::uint64_t> accepted{0};
    std::atomic<std::uint64_t> rejected{0};
    std::atomic<std::uint64_t> open{0};
    std::atomic<std::uint64_t> requests{0};
    std::atomic<std::uint64_t> r4xx{0};
    std::atomic<std::uint64_t> r5xx{0};
    std::atomic<std::uint64_t> handler_errors{0};
    std::atomic<std::uint64_t> timeouts{0};

    std::thread io_thread;
    std::vector<std::thread> workers;

    std::string where() const {
        const std::uint16_t p = port.load() != 0 ? port.load() : options.port;
        return "http server '" + options.name + "' (" + options.address + ":" + std::to_string(p) +
               ")";
    }

    void wake() const noexcept {
        const std::uint64_t one = 1;
        [[maybe_unused]] const ssize_t n = ::write(wake_fd.get(), &one, sizeof one);
    }

    // --- the I/O thread: accepts, watches idle connections, hands ready ones to workers ---
    void io_main() {
        std::vector<std::unique_ptr<Conn>> idle;
        std::vector<pollfd> fds;
        while (!stopping.load()) {
            {
                std::lock_guard lock(mu);
                for (auto& c : returned) {
                    c->idle_since = Clock::now();
                    idle.push_back(std::move(c));
                }
                returned.clear();
            }
            fds.clear();
            fds.push_back({.fd = wake_fd.get(), .events = POLLIN, .revents = 0});
            fds.push_back({.fd = listen_fd.get(), .events = POLLIN, .revents = 0});
            auto next_expiry = Clock::time_point::max();
            for (const auto& c : idle) {
                fds.push_back({.fd = c->fd.get(), .events = POLLIN, .revents = 0});
                next_expiry = std::min(next_expiry, c->idle_since + options.idle_timeout);
            }
            const int timeout =
                next_expiry == Clock::time_point::max() ? -1 : poll_timeout_ms(next_expiry);
            const int rc = ::poll(fds.data(), static_cast<nfds_t>(fds.size()), timeout);
            if (rc < 0 && errno != EINTR) {
                break;  // cannot happen with valid fds; close() still cleans up
            }
            if ((fds[0].revents & POLLIN) != 0) {
                std::uint64_t v = 0;
                [[maybe_unused]] const ssize_t n = ::read(wake_fd.get(), &v, sizeof v);
            }
            if (stopping.load()) {
                break;
            }
            // Idle connections with data (or a hangup) go to a worker; expired ones close.
            std::vector<std::unique_ptr<Conn>> to_workers;
            const auto now = Clock::now();
            std::vector<std::unique_ptr<Conn>> keep;
            for (std::size_t i = 0; i < idle.size(); ++i) {
                if (fds[i + 2].revents != 0) {
                    to_workers.push_back(std::move(idle[i]));
                } else if (now - idle[i]->idle_since >= options.idle_timeout) {
                    idle[i].reset();  // closes
                } else {
                    keep.push_back(std::move(idle[i]));
                }
            }
            idle.swap(keep);
            if ((fds[1].revents & POLLIN) != 0) {
                accept_all(to_workers);
            }
            if (!to_workers.empty()) {
                std::lock_guard lock(mu);
                for (auto& c : to_workers) {
                    ready.push_back(std::move(c));
                }
                work_cv.notify_all();
            }
        }
        idle.clear();  // idle keep-alive connections close at once on shutdown
    }

    void accept_all(std::vector<std::unique_ptr<Conn>>& to_workers) {
        for (;;) {
            sockaddr_in addr{};
            socklen_t len = sizeof addr;
            const int fd = ::accept4(listen_fd.get(), reinterpret_cast<sockaddr*>(&addr), &len,
                                     SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) {
                if (errno == EINTR || errno == ECONNABORTED) {
                    continue;
                }
                return;  // EAGAIN, or out of descriptors (retried on the next poll)
            }
            UniqueFd owned(fd);
            accepted.fetch_add(1, std::memory_order_relaxed);
            if (open.load() >= options.max_connections) {
                rejected.fetch_add(1, std::memory_order_relaxed);
                r5xx.fetch_add(1, std::memory_order_relaxed);
                static constexpr std::string_view kBusy =
                    "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                    "Connection: close\r\n\r\n";
                [[maybe_unused]] const ssize_t n =
                    ::send(fd, kBusy.data(), kBusy.size(), MSG_NOSIGNAL);
                continue;  // closed by `owned`
            }
            const int one = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            // A new connection goes straight to a worker: it is there to send a request.
            to_workers.push_back(std::make_unique<Conn>(std::move(owned), peer_of(addr), open));
        }
    }

    // --- workers ---
    void worker_main() {
        for (;;) {
            std::unique_ptr<Conn> c;
            {
                std::unique_lock lock(mu);
                work_cv.wait(lock, [&] { return !ready.empty() || workers_stop; });
                if (ready.empty()) {
                    break;
                }
                c = std::move(ready.front());
                ready.pop_front();
                active.insert(c.get());
            }
            const bool keep = serve(*c);
            {
                std::lock_guard lock(mu);
                active.erase(c.get());
                if (keep && !stopping.load()) {
                    returned.push_back(std::move(c));
                    wake();
                }
            }
            c.reset();  // closes, unless handed back
        }
        std::lock_guard lock(mu);
        --workers_running;
        done_cv.notify_all();
    }

    void count(int status) {
        if (status >= 500) {
            r5xx.fetch_add(1, std::memory_order_relaxed);
        } else if (status >= 400) {
            r4xx.fetch_add(1, std::memory_order_relaxed);
        }
    }

    // Answers an error the server itself detected, and ends the connection.
    void reject(Conn& c, int status) {
        count(status);
        const Response r = Response::text(status, std::string(reason_phrase(status)) + "\n");
        (void)write_all(c.fd.get(), serialize(r, false, false),
                        Clock::now() + options.write_timeout);
    }

    // Serves the requests `c` has ready; true if the connection stays open (keep-alive).
    bool serve(Conn& c) {
        for (;;) {
            const auto deadline = Clock::now() + options.read_timeout;
            std::size_t head_end = detail::find_head_end(c.in);
            while (head_end == std::string::npos) {
                if (!detail::plausible_request_start(c.in)) {
                    reject(c, 400);
                    return false;
                }
                if (c.in.size() > options.max_header_bytes) {
                    reject(c, 431);
                    return false;
                }
                const ReadResult r = read_some(
                    c.fd.get(), c.in, options.max_header_bytes + 1 - c.in.size() + 4, deadline);
                if (r == ReadResult::eof || r == ReadResult::error) {
                    return false;  // the client went away (between requests, or mid-head)
                }
                if (r == ReadResult::timeout) {
                    if (!c.in.empty()) {
                        timeouts.fetch_add(1, std::memory_order_relaxed);
                        reject(c, 408);
                    }
                    return false;
                }
                head_end = detail::find_head_end(c.in);
            }
            if (head_end > options.max_header_bytes + 4) {
                reject(c, 431);
                return false;
            }
            Request req;
            detail::RequestHead head;
            if (const int bad = detail::parse_request_head(
                    std::string_view(c.in).substr(0, head_end), req, head);
                bad != 0) {
                reject(c, bad);
                return false;
            }
            if (head.content_length > options.max_body_bytes) {
                reject(c, 413);
                return false;
            }
            const std::size_t total = head_end + head.content_length;
            if (c.in.size() < total && head.expect_continue) {
                if (!write_all(c.fd.get(), "HTTP/1.1 100 Continue\r\n\r\n",
                               Clock::now() + options.write_timeout)) {
                    return false;
                }
            }
            while (c.in.size() < total) {
                const ReadResult r = read_some(c.fd.get(), c.in, total - c.in.size(), deadline);
                if (r == ReadResult::eof || r == ReadResult::error) {
                    return false;
                }
                if (r == ReadResult::timeout) {
                    timeouts.fetch_add(1, std::memory_order_relaxed);
                    reject(c, 408);
                    return false;
                }
            }
            {
                // A complete request is in flight: close() lets it finish (up to its deadline).
                std::lock_guard lock(mu);
                if (c.aborted) {
                    return false;
                }
                c.busy = true;
            }
            req.body = c.in.substr(head_end, head.content_length);
            c.in.erase(0, total);
            req.peer = c.peer;
            req.stop = handler_stop.get_token();
            requests.fetch_add(1, std::memory_order_relaxed);

            const bool head_only = req.method == "HEAD";
            Response resp = dispatch(req);
            count(resp.status);
            const bool keep_alive = head.keep_alive && !stopping.load();
            const bool written = write_all(c.fd.get(), serialize(resp, keep_alive, head_only),
                                           Clock::now() + options.write_timeout);
            {
                std::lock_guard lock(mu);
                c.busy = false;
            }
            if (!written) {
                return false;
            }
            if (!keep_alive) {
                return false;
            }
            if (detail::find_head_end(c.in) == std::string::npos && c.in.empty()) {
                return true;  // idle: back to the I/O thread
            }
            // A pipelined request (complete or partial) is already here: serve it now.
        }
    }

    Response dispatch(const Request& req) {
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
};

Server::Server(ServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {
    const ServerOptions& o = impl_->options;
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
    if (o.read_timeout.count() <= 0 || o.write_timeout.count() <= 0 ||
        o.idle_timeout.count() <= 0) {
        throw ConfigError(at + "read_timeout", "timeouts must be positive");
    }
    in_addr probe{};
    if (::inet_pton(AF_INET, o.address.c_str(), &probe) != 1) {
        throw ConfigError(at + "address", "'" + o.address + "' is not an IPv4 address");
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
        throw std::logic_error("http server '" + impl_->options.name + "': route() after start()");
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
        throw std::logic_error("http server '" + s.options.name + "': started twice");
    }
    s.started = true;
    const int efd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0) {
        throw std::system_error(errno, std::generic_category(), s.where() + ": eventfd");
    }
    s.wake_fd = UniqueFd(efd);
    UniqueFd sock(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!sock) {
        throw Error(s.where() + ": socket: " + std::strerror(errno));
    }
    const int one = 1;
    ::setsockopt(sock.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(s.options.port);
    ::inet_pton(AF_INET, s.options.address.c_str(), &addr.sin_addr);
    if (::bind(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        throw Error(s.where() + ": bind: " + std::strerror(errno));
    }
    if (::listen(sock.get(), s.options.backlog) != 0) {
        throw Error(s.where() + ": listen: " + std::strerror(errno));
    }
    socklen_t len = sizeof addr;
    ::getsockname(sock.get(), reinterpret_cast<sockaddr*>(&addr), &len);
    s.port.store(ntohs(addr.sin_port));
    s.listen_fd = std::move(sock);
    try {
        {
            std::lock_guard lock(s.mu);
            s.workers_running = s.options.workers;
        }
        s.workers.reserve(s.options.workers);
        for (std::size_t i = 0; i < s.options.workers; ++i) {
            s.workers.emplace_back([&s] { s.worker_main(); });
        }
        s.io_thread = std::thread([&s] { s.io_main(); });
    } catch (...) {
        {
            std::lock_guard lock(s.mu);
            s.workers_running = s.workers.size();
        }
        close();
        throw;
    }
}

void Server::close() {
    Impl& s = *impl_;
    if (!s.started || s.closed) {
        return;
    }
    s.closed = true;
    // 1. Stop accepting; idle keep-alive connections close with the I/O thread.
    s.stopping.store(true);
    if (s.io_thread.joinable()) {
        s.wake();
        s.io_thread.join();
    }
    s.listen_fd = UniqueFd();
    // 2. Requests in flight finish (answered with Connection: close) within the deadline.
    std::unique_lock lock(s.mu);
    s.workers_stop = true;
    s.work_cv.notify_all();
    // Connections without a complete request (queued for a worker, or a slow client's) are
    // not in flight: they end now.
    std::deque<std::unique_ptr<Impl::Conn>> queued = std::move(s.ready);
    s.ready.clear();
    for (Impl::Conn* c : s.active) {
        if (!c->busy) {
            c->aborted = true;
            ::shutdown(c->fd.get(), SHUT_RDWR);
        }
    }
    lock.unlock();
    queued.clear();  // closes them
    lock.lock();
    const bool drained = s.done_cv.wait_for(lock, s.options.shutdown_timeout,
                                            [&] { return s.workers_running == 0; });
    if (!drained) {
        // 3. Past the deadline: end blocked reads/writes and ask handlers to stop.
        s.handler_stop.request_stop();
        for (Impl::Conn* c : s.active) {
            c->aborted = true;
            ::shutdown(c->fd.get(), SHUT_RDWR);
        }
    }
    lock.unlock();
    for (auto& t : s.workers) {
        t.join();
    }
    s.workers.clear();
    lock.lock();
    s.ready.clear();
    s.returned.clear();
    lock.unlock();
    s.wake_fd = UniqueFd();
}

std::uint16_t Server::port() const noexcept {
    return impl_->port.load();
}

std::string Server::url() const {
    return "http://" + impl_->options.address + ":" + std::to_string(port());
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
