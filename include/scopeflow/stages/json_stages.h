// JSON stages: decode a string field holding a JSON object into the event, or encode the whole
// event into a string field.
//
//   JsonParseStage({.field = "payload"})      {"payload":"{\"a\":1}"} -> {"a":1}
//   JsonSerializeStage({.field = "json"})     {"a":1} -> {"a":1,"json":"{\"a\":1}"}
//
// A field that is missing, not a string or not a JSON object takes the error action (the
// dead-letter stage, with the parser's message in `_error`).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <scopeflow/engine/stage.h>

namespace scopeflow {

class EventParser;

struct JsonParseOptions {
    std::string field;         // the string field holding JSON
    bool keep_source = false;  // keep `field` after merging its content
};

class JsonParseStage final : public Stage {
public:
    explicit JsonParseStage(JsonParseOptions options);
    ~JsonParseStage() override;

protected:
    void on_open(Scope& stage_scope, std::size_t workers) override;
    ActionId on_process(Event& event, TaskContext& task) override;

private:
    const JsonParseOptions options_;
    std::vector<std::unique_ptr<EventParser>> parsers_;  // one per worker
};

struct JsonSerializeOptions {
    std::string field;  // where the event's JSON goes
};

class JsonSerializeStage final : public Stage {
public:
    explicit JsonSerializeStage(JsonSerializeOptions options);

protected:
    ActionId on_process(Event& event, TaskContext& task) override;

private:
    const JsonSerializeOptions options_;
};

}  // namespace scopeflow
