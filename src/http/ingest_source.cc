#include <scopeflow/core/error.h>
#include <scopeflow/event/event_json.h>
#include <scopeflow/http/ingest_source.h>

#include "http/ingest_body.h"

namespace scopeflow::http {

// One POST waiting for its events to be settled.
struct HttpIngestSource::Request {
    std::size_t remaining = 0;
    bool failed = false;
    std::condition_variable cv;  // waited on with the source's mutex
};

HttpIngestSource::HttpIngestSource(IngestSourceOptions options)
    : options_(std::move(options)) {
    if (options_.path.empty() || options_.path.front() != '/') {
        throw ConfigError("source.path", "must start with '/'");
    }
    if (options_.max_pending == 0 || options_.max_requests == 0) {
        throw ConfigError("source.max_pending", "max_pending and max_requests must be positive");
    }
    server_ = std::make_unique<Server>(ServerOptions{.name = "ingest",
                                                     .address = options_.address,
                                                     .port = options_.port,
                                                     .workers = options_.max_requests,
                                                     .max_body_bytes = options_.max_body_bytes,
                                                     .shutdown_timeout = std::chrono::seconds(2)});
    server_->route("POST", options_.path,
                   [this](const http::Request& request) { return handle(request); });
}

HttpIngestSource::~HttpIngestSource() {
    close();
}

void HttpIngestSource::open(Scope& /*scope*/) {
    server_->start();
}

void HttpIngestSource::close() {
    {
        std::lock_guard lock(mu_);
        if (closed_) {
            return;
        }
        closed_ = true;
        for (auto& [seq, req] : owner_) {
            req->failed = true;
            req->cv.notify_all();
        }
    }
    ready_.notify_all();
    server_->close();  // waits for the handlers, which now answer 503
}

std::uint16_t HttpIngestSource::port() const noexcept {
    return server_->port();
}

std::string HttpIngestSource::url() const {
    return server_->url() + options_.path;
}

std::uint64_t HttpIngestSource::received() const {
    std::lock_guard lock(mu_);
    return received_;
}

Response HttpIngestSource::handle(const http::Request& request) {
    // Parse everything first: a bad body is rejected whole, nothing of it is queued.
    std::vector<Event> events;
    EventParser parser;
    if (std::string why = detail::parse_ingest_body(request.body, parser, events); !why.empty()) {
        return Response::text(400, why + "\n");
    }
    if (events.size() > options_.max_pending) {
        // Waiting cannot help: this request alone is more than the source ever holds. 413, so
        // a client that retries on 503 does not loop forever.
        return Response::text(413, "the request carries " + std::to_string(events.size()) +
                                       " events, more than max_pending (" +
                                       std::to_string(options_.max_pending) +
                                       ") allows at once; split it into smaller requests\n");
    }
    auto req = std::make_shared<Request>();
    req->remaining = events.size();
    std::unique_lock lock(mu_);
    if (closed_) {
        return Response::text(503, "shutting down\n");
    }
    if (pending_ + events.size() > options_.max_pending) {
        Response r = Response::text(503, "too many events pending; retry later\n");
        r.headers.set("Retry-After", "1");
        return r;
    }
    const std::size_t n = events.size();
    for (Event& e : events) {
        e.meta().sequence = next_sequence_++;
        owner_.emplace(e.meta().sequence, req);
        queue_.push_back(std::move(e));
    }
    pending_ += n;
    received_ += n;
    ready_.notify_all();
    const bool settled = req->cv.wait_for(lock, options_.request_timeout, [&] {
        return req->remaining == 0 || req->failed || closed_ || request.stop.stop_requested();
    });
    if (settled && req->remaining == 0 && !req->failed) {
        return Response::json(200, "{\"accepted\":" + std::to_string(n) + "}\n");
    }
    return Response::text(503, "not every event was processed; retry the request\n");
}

std::size_t HttpIngestSource::read(std::span<Event> out, const std::stop_token& stop) {
    std::unique_lock lock(mu_);
    ready_.wait(lock, stop, [&] { return !queue_.empty() || closed_; });
    std::size_t n = 0;
    while (n < out.size() && !queue_.empty()) {
        out[n++] = std::move(queue_.front());
        queue_.pop_front();
    }
    if (n == 0 && stop.stop_requested()) {
        // Events queued but never read: their requests are answered 503 (the client retries).
        for (auto& [seq, req] : owner_) {
            req->failed = true;
            req->cv.notify_all();
        }
    }
    return n;
}

void HttpIngestSource::settle(std::uint64_t sequence, bool ok) {
    auto it = owner_.find(sequence);
    if (it == owner_.end()) {
        return;
    }
    const std::shared_ptr<Request> req = std::move(it->second);
    owner_.erase(it);
    --pending_;
    req->failed = req->failed || !ok;
    if (--req->remaining == 0 || !ok) {
        req->cv.notify_all();
    }
}

void HttpIngestSource::ack(std::uint64_t sequence) {
    std::lock_guard lock(mu_);
    settle(sequence, true);
}

void HttpIngestSource::ack_many(std::span<const std::uint64_t> sequences) {
    std::lock_guard lock(mu_);
    for (const auto s : sequences) {
        settle(s, true);
    }
}

void HttpIngestSource::nack(std::uint64_t sequence, std::string_view /*reason*/) {
    std::lock_guard lock(mu_);
    settle(sequence, false);
}

}  // namespace scopeflow::http
