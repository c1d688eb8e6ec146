#include <string>
#include <string_view>
#include <utility>

#include <scopeflow/core/error.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/event/event.h>
#include <scopeflow/event/event_json.h>
#include <scopeflow/http/client.h>
#include <scopeflow/http/stages/http_post_stage.h>

namespace scopeflow {

HttpPostStage::HttpPostStage(HttpPostOptions options)
    : Stage("http_post"),
      options_(std::move(options)) {
    if (!options_.client) {
        throw ConfigError("http_post.client", "an HTTP client is required");
    }
    if (options_.target.empty()) {
        throw ConfigError("http_post.target", "a URL or a path is required");
    }
    if (!options_.target.starts_with('/') && !options_.target.starts_with("http://") &&
        !options_.target.starts_with("https://")) {
        throw ConfigError("http_post.target", "must be a path ('/...') or an http(s) URL, got '" +
                                                  http::safe_url(options_.target) + "'");
    }
    if (options_.target.starts_with('/') && !options_.client->options().base_url) {
        throw ConfigError("http_post.target", "a path needs a client with a base_url (client '" +
                                                  options_.client->name() + "' has none)");
    }
    if (options_.batch_size == 0) {
        throw ConfigError("http_post.batch_size", "must be at least 1");
    }
}

void HttpPostStage::on_open(Scope& /*stage_scope*/, std::size_t workers) {
    slots_ = std::vector<Slot>(workers);
}

void HttpPostStage::on_open_worker(Scope& worker_scope, std::size_t worker_index) {
    slots_[worker_index].scope = &worker_scope;
}

ActionId HttpPostStage::on_process(Event& event, TaskContext& task) {
    Slot& slot = slots_[task.worker_index()];
    if (!slot.stop.stop_possible()) {
        slot.stop = task.stop_token();  // the pipeline's: the same for every event
    }
    if (slot.failure) {
        // A POST of this batch failed after its retries: the endpoint is failing, so the rest
        // of the batch fails with it instead of waiting through more retries.
        failed_.fetch_add(1, std::memory_order_relaxed);
        Event& copy = slot.failed.emplace_back(event);
        copy.meta().sequence = task.sequence();
        return kActionDefault;
    }
    slot.body += slot.events.empty() ? '[' : ',';
    slot.events.push_back({task.sequence(), slot.body.size()});
    append_json(event, slot.body);
    if (slot.events.size() >= options_.batch_size) {
        send(slot);
    }
    return kActionDefault;
}

void HttpPostStage::on_flush_batch(BatchContext& batch) {
    Slot& slot = slots_[batch.worker_index()];
    if (!slot.events.empty() && !slot.failure) {
        send(slot);
    }
    slot.body.clear();
    slot.events.clear();
    if (!slot.failure) {
        return;
    }
    // The failed events take the engine's failure path (the dead-letter stage, else a nack);
    // after a stop they are only nacked, since a restart may deliver them.
    const std::string posted = "http_post: POST of " + std::to_string(slot.failed_posted) +
                               " event(s) failed: " + *slot.failure;
    const std::string skipped =
        "http_post: not sent after a failed POST of this batch: " + *slot.failure;
    for (std::size_t i = 0; i < slot.failed.size(); ++i) {
        const std::string& reason = i < slot.failed_posted ? posted : skipped;
        if (slot.stopped) {
            batch.nack(slot.failed[i].meta().sequence, reason);
        } else {
            batch.fail(std::move(slot.failed[i]), reason);
        }
    }
    slot.failed.clear();
    slot.failed_posted = 0;
    slot.failure.reset();
    slot.stopped = false;
}

void HttpPostStage::send(Slot& slot) {
    slot.body += ']';
    const std::size_t n = slot.events.size();
    http::Request req{.method = "POST", .target = options_.target, .body = std::move(slot.body)};
    for (const auto& h : options_.headers) {
        req.headers.add(h.name, h.value);
    }
    if (!req.headers.contains("Content-Type")) {
        req.headers.add("Content-Type", "application/json");
    }
    slot.body.clear();
    requests_.fetch_add(1, std::memory_order_relaxed);
    try {
        (void)options_.client->request(*slot.scope, req, slot.stop);
        posted_.fetch_add(n, std::memory_order_relaxed);
    } catch (const std::exception& e) {
        if (options_.on_error == HttpPostOnError::drop) {
            dropped_.fetch_add(n, std::memory_order_relaxed);
        } else {
            failed_.fetch_add(n, std::memory_order_relaxed);
            slot.failure = e.what();
            slot.stopped =
                dynamic_cast<const CancelledError*>(&e) != nullptr || slot.stop.stop_requested();
            keep_failed(slot, req.body);
        }
    }
    slot.events.clear();
    slot.body = std::move(req.body);  // keep the buffer's capacity
    slot.body.clear();
}

void HttpPostStage::keep_failed(Slot& slot, const std::string& body) {
    // Each event's JSON runs from its start to the ',' before the next one (or the final ']').
    EventParser parser;
    for (std::size_t i = 0; i < slot.events.size(); ++i) {
        const std::size_t begin = slot.events[i].begin;
        const std::size_t end =
            i + 1 < slot.events.size() ? slot.events[i + 1].begin - 1 : body.size() - 1;
        const std::string_view json = std::string_view(body).substr(begin, end - begin);
        Event& e = slot.failed.emplace_back();
        if (!parser.parse(json, e)) {
            e.clear();
            e.set("_body", Value(std::string(json)));  // what was sent, as text
        }
        e.meta().sequence = slot.events[i].sequence;
    }
    slot.failed_posted = slot.events.size();
}

namespace {

// "headers" is a nested object: its fields, all strings, become request headers.
http::Headers parse_headers(const ParsedOptions& options) {
    const std::string& where = options.where();
    http::Headers out;
    const Value* v = options.raw().find("headers");
    if (v == nullptr || v->is_null()) {
        return out;
    }
    if (v->kind() != ValueKind::raw || !v->raw_json().starts_with('{')) {
        throw ConfigError(where + ".headers", "must be an object of header name -> value");
    }
    Event fields;
    EventParser parser;
    if (ParseStatus st = parser.parse(v->raw_json(), fields); !st) {
        throw ConfigError(where + ".headers", st.message);
    }
    for (const auto& f : fields) {
        if (f.value.kind() != ValueKind::string) {
            throw ConfigError(where + ".headers." + f.key, "must be a string");
        }
        const std::string_view value = f.value.as_string();
        if (f.key.empty() || f.key.find_first_of(":\r\n ") != std::string::npos ||
            value.find_first_of("\r\n") != std::string_view::npos) {
            throw ConfigError(where + ".headers." + f.key, "is not a valid header");
        }
        out.add(f.key, std::string(value));
    }
    return out;
}

}  // namespace

void register_http_stages(StageRegistry& registry, const Resources& resources) {
    registry.add(
        OptionsSchema("http_post",
                      "POSTs events in batches (a JSON array per request) through an HTTP client "
                      "resource; acks after a 2xx")
            .add({.name = "resource", .doc = "the HTTP client resource", .required = true})
            .add({.name = "url", .doc = "absolute URL to POST to (or path)"})
            .add({.name = "path", .doc = "path under the client's base_url (or url)"})
            .add({.name = "batch_size",
                  .kind = OptionKind::integer,
                  .doc = "events per request at most",
                  .default_value = "100",
                  .unit = "events",
                  .min = 1})
            .add({.name = "headers",
                  .kind = OptionKind::object,
                  .doc = "header name -> value",
                  .check = [](const ParsedOptions& o,
                              const std::string& /*where*/) { (void)parse_headers(o); }})
            .add({.name = "on_error",
                  .doc = "fail: failed events go to the dead-letter stage, else are nacked; "
                         "drop: count and ack",
                  .default_value = "fail",
                  .choices = {"fail", "drop"}})
            .check([](const ParsedOptions& o, const std::string& where) {
                if (o.string("url").empty() == o.string("path").empty()) {
                    throw ConfigError(where + ".url", "set exactly one of 'url' and 'path'");
                }
            }),
        [&resources](const ParsedOptions& o) -> std::unique_ptr<Stage> {
            auto client = resources.get<http::Client>(o.string("resource"), o.where("resource"));
            const std::string url = o.string("url");
            try {
                return std::make_unique<HttpPostStage>(HttpPostOptions{
                    .client = std::move(client),
                    .target = url.empty() ? o.string("path") : url,
                    .batch_size = static_cast<std::size_t>(o.integer("batch_size")),
                    .headers = parse_headers(o),
                    .on_error = o.string("on_error") == "drop" ? HttpPostOnError::drop
                                                               : HttpPostOnError::fail});
            } catch (const ConfigError& e) {
                // "http_post.target: ..." names the option the target came from: url or path.
                const bool target = e.where() == "http_post.target";
                throw ConfigError(o.where() + (target ? (url.empty() ? ".path" : ".url") : ""),
                                  target ? e.text() : std::string(e.what()));
            }
        });
}

}  // namespace scopeflow
