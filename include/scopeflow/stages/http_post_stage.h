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
// POST still fails, with on_error = fail (the default) the worker's whole pipeline batch is
// failed (end_batch throws): its events are nacked to the source, which keeps them (a JSONL
// source resumes before them), so nothing is lost; the rest of the batch is not POSTed. With
// on_error = drop the failed events are counted (events_dropped()) and acked anyway: for
// best-effort endpoints only. A 4xx is not retried but fails the batch the same way.
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
#include <scopeflow/resources.h>
#include <scopeflow/stage.h>
#include <scopeflow/stage_registry.h>

namespace scopeflow {

enum class HttpPostOnError {
    fail,  // the batch fails: its events are nacked (kept by the source)
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
    void on_end_batch(std::size_t worker_index) override;

private:
    struct alignas(64) Slot {
        Scope* scope = nullptr;  // the stage's worker scope: session leases are tracked there
        std::string body;        // "[{...},{...}" while events are buffered
        std::size_t buffered = 0;
        std::optional<std::string> failure;  // a POST of this pipeline batch failed
        std::stop_token stop;                // the pipeline's, seen at the last process()
    };

    // POSTs what `slot` buffered; on failure records it (fail) or counts it (drop).
    void send(Slot& slot);

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
