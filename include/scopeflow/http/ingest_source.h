// HttpIngestSource: events POSTed to an HTTP endpoint, with an end-to-end acknowledgement.
//
//   HttpIngestSource source({.address = "127.0.0.1", .port = 8080, .path = "/ingest"});
//   // curl -d '{"id":1}' http://127.0.0.1:8080/ingest     (one object, JSON lines, or an array)
//
// A request is answered only once every event it carried has been settled by the pipeline:
// 200 {"accepted":N} when all were acked (processed, or dead-lettered), 503 when any was nacked
// or the pipeline stopped first, so a client that retries on 5xx gets at-least-once delivery
// without the source storing anything. A body that is not JSON objects is answered 400 saying
// what is wrong and where (line, or array element), and nothing of it is taken. When more than
// max_pending events wait, new requests are answered 503 with Retry-After (backpressure); a
// request that alone carries more than max_pending events can never fit and gets 413.
//
// The server starts in open() and stops when the source is destroyed (or close()); requests
// still waiting are answered 503. Thread safety: as Source; handlers run on the server's threads.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <scopeflow/engine/source.h>
#include <scopeflow/engine/source_registry.h>
#include <scopeflow/event/event.h>
#include <scopeflow/http/server.h>

namespace scopeflow::http {

struct IngestSourceOptions {
    std::string address = "127.0.0.1";
    std::uint16_t port = 0;  // 0: ephemeral (see port())
    std::string path = "/ingest";
    std::size_t max_pending = 10'000;                   // events queued or in flight before 503
    std::size_t max_body_bytes = 8 << 20;               // per request
    std::size_t max_requests = 16;                      // requests waiting for their acks at once
    std::chrono::milliseconds request_timeout{60'000};  // answer 503 if not settled by then
};

class HttpIngestSource final : public Source {
public:
    explicit HttpIngestSource(IngestSourceOptions options);
    ~HttpIngestSource() override;

    void open(Scope& scope) override;
    std::size_t read(std::span<Event> out, const std::stop_token& stop) override;
    void ack(std::uint64_t sequence) override;
    void ack_many(std::span<const std::uint64_t> sequences) override;
    void nack(std::uint64_t sequence, std::string_view reason) override;

    // Stops the server; requests still waiting are answered 503. Idempotent.
    void close();
    [[nodiscard]] std::uint16_t port() const noexcept;
    [[nodiscard]] std::string url() const;
    [[nodiscard]] std::uint64_t received() const;

private:
    struct Request;
    Response handle(const http::Request& request);
    void settle(std::uint64_t sequence, bool ok);

    IngestSourceOptions options_;
    std::unique_ptr<Server> server_;

    mutable std::mutex mu_;
    std::condition_variable_any ready_;                        // events queued, or closing
    std::deque<Event> queue_;                                  // guarded by mu_
    std::map<std::uint64_t, std::shared_ptr<Request>> owner_;  // in flight; guarded by mu_
    std::uint64_t next_sequence_ = 1;                          // guarded by mu_
    std::size_t pending_ = 0;                                  // queued + in flight; guarded by mu_
    std::uint64_t received_ = 0;                               // guarded by mu_
    bool closed_ = false;                                      // guarded by mu_
};

// Registers the `http` source type (its options and factory) for pipeline files.
void register_http_ingest_source(SourceRegistry& registry);

}  // namespace scopeflow::http
