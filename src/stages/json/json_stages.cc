#include <utility>

#include <scopeflow/core/error.h>
#include <scopeflow/event/event.h>
#include <scopeflow/event/event_json.h>
#include <scopeflow/stages/json_stages.h>

namespace scopeflow {

JsonParseStage::JsonParseStage(JsonParseOptions options)
    : Stage("json_parse"),
      options_(std::move(options)) {
    if (options_.field.empty()) {
        throw ConfigError("json_parse.field", "is required");
    }
}

JsonParseStage::~JsonParseStage() = default;

void JsonParseStage::on_open(Scope& /*stage_scope*/, std::size_t workers) {
    parsers_.clear();
    for (std::size_t i = 0; i < workers; ++i) {
        parsers_.push_back(std::make_unique<EventParser>());
    }
}

ActionId JsonParseStage::on_process(Event& event, TaskContext& task) {
    const auto text = event.get_string(options_.field);
    if (!text) {
        throw Error("field '" + options_.field + "' is missing or not a string");
    }
    thread_local Event decoded;
    const ParseStatus status = parsers_[task.worker_index()]->parse(*text, decoded);
    if (!status) {
        throw Error("field '" + options_.field + "': " + status.message);
    }
    if (!options_.keep_source) {
        event.erase(options_.field);
    }
    for (const auto& f : decoded) {
        event.set(f.key, f.value);
    }
    return kActionDefault;
}

JsonSerializeStage::JsonSerializeStage(JsonSerializeOptions options)
    : Stage("json_serialize"),
      options_(std::move(options)) {
    if (options_.field.empty()) {
        throw ConfigError("json_serialize.field", "is required");
    }
}

ActionId JsonSerializeStage::on_process(Event& event, TaskContext& /*task*/) {
    thread_local std::string text;
    text.clear();
    event.erase(options_.field);
    append_json(event, text);
    event.set(options_.field, Value(std::string_view(text)));
    return kActionDefault;
}

}  // namespace scopeflow
