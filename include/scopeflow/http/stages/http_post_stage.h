// HttpPostStage: POSTs events in batches, as a JSON array, through an HTTP client resource.
//
//   auto api = scopeflow::http::Client::create({.name = "collector",
//                                               .base_url = "http://127.0.0.1:8080"});
//   g.add_stage("post", std::make_unique<scopeflow::HttpPostStage>(scopeflow::HttpPostOptions{
//       .client = api, .target = "/v1/events", .batch_size = 500}));
//
// or from a config, once register_http_stages(registry, resources) has run:
//
//   type: http_post
//   options: {resource: collector, path: /v1/events, batch_size: 500,
//             headers: {X-Source: orders}, on_error: fail}
//
// Each worker appends the events it processes to its own buffer (one JSON array body) and POSTs
// it when batch_size events are buffered and at the end of every pipeline batch (end_batch),
// before the batch is acked: an event is acked only after the request carrying it got a 2xx.
// The event itself continues along the "default" route unchanged, so the stage can be a sink
// or sit in the middle of a graph.
//
// Failures: the client retries connection errors, timeouts, 5xx and 429 with backoff. When a
// POST still fails, with on_error = fail (the default) its events are failed at the end of the
// pipeline batch (BatchContext::fail), each rebuilt from the JSON that was sent: they go to the
// graph's dead-letter stage (with `_error` naming the POST's failure; acked once it has them),
// or are nacked to the source without one, which keeps them (a JSONL source resumes before
// them), so nothing is lost. The rest of that worker's batch is not POSTed: it is failed the
// same way. Events of the batch that did not pass through the stage, or were POSTed, are acked
// as usual. A POST cut short by a stop nacks its events instead of dead-lettering them. With
// on_error = drop the failed events are counted (events_dropped()) and acked anyway: for
// best-effort endpoints only. A 4xx is not retried but fails its events the same way.
//
// Thread safety: as Stage; each worker touches only its own buffer; counters are atomic.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include <scopeflow/http/client.h>
#include <scopeflow/http/message.h>
#include <scopeflow/core/resources.h>
#include <scopeflow/engine/stage.h>
#include <scopeflow/engine/stage_registry.h>

namespace scopeflow {

enum class HttpPostOnError {
    fail,  // the events fail: to the dead-letter stage, else nacked (kept by the source)
    drop,  // count the events as dropped and ack them (best effort)
};

struct HttpPostOptions {
    std::shared_ptr<http::Client> client{};  // required
    std::string target{};                    // absolute URL, or a path under the client's base_url
    std::size_t batch_size = 100;            // at most this many events per POST
    http::Headers headers{};                 // added to every POST (Content-Type is JSON)
    HttpPostOnError on_error = HttpPostOnError::fail;
};

class HttpPostStage final : public Stage {
public:
    // Throws ConfigError("http_post.<field>", ...) for a missing client, an empty target or a
    // zero batch_size.
    explicit HttpPostStage(HttpPostOptions options);

    [[nodiscard]] std::uint64_t requests_sent() const noexcept { return requests_.load(); }
    [[nodiscard]] std::uint64_t events_posted() const noexcept { return posted_.load(); }
    [[nodiscard]] std::uint64_t events_failed() const noexcept { return failed_.load(); }
    [[nodiscard]] std::uint64_t events_dropped() const noexcept { return dropped_.load(); }

protected:
    void on_open(Scope& stage_scope, std::size_t workers) override;
    void on_open_worker(Scope& worker_scope, std::size_t worker_index) override;
    ActionId on_process(Event& event, TaskContext& task) override;
    void on_flush_batch(BatchContext& batch) override;

private:
    struct Buffered {
        std::uint64_t sequence = 0;  // the source event's
        std::size_t begin = 0;       // where its JSON starts in the body
    };
    struct alignas(64) Slot {
        Scope* scope = nullptr;        // the stage's worker scope: session leases are tracked there
        std::string body;              // "[{...},{...}" while events are buffered
        std::vector<Buffered> events;  // one per event in `body`
        std::optional<std::string> failure;  // a POST of this pipeline batch failed: why
        bool stopped = false;                // ... because of a stop: nack, not dead-letter
        std::vector<Event> failed;  // its events, then the batch's next ones; failed at end_batch
        std::size_t failed_posted = 0;  // failed[0..failed_posted) were in the failed POST
        std::stop_token stop;           // the pipeline's, seen at the last process()
    };

    // POSTs what `slot` buffered; on failure records it (fail) or counts it (drop).
    void send(Slot& slot);
    // Rebuilds the events of a failed POST from its body into slot.failed.
    static void keep_failed(Slot& slot, const std::string& body);

    const HttpPostOptions options_;
    std::vector<Slot> slots_;  // one per worker, touched only by that worker
    std::atomic<std::uint64_t> requests_{0};
    std::atomic<std::uint64_t> posted_{0};
    std::atomic<std::uint64_t> failed_{0};
    std::atomic<std::uint64_t> dropped_{0};
};

// Registers "http_post". Factories look clients up in `resources` (by the "resource" option)
// when a stage is created, so `resources` must outlive the registry's use.
void register_http_stages(StageRegistry& registry, const Resources& resources);

}  // namespace scopeflow
