#include <utility>

#include <scopeflow/core/error.h>
#include <scopeflow/event/event_json.h>
#include <scopeflow/stages/log_stage.h>

namespace scopeflow {

LogStage::LogStage(LogOptions options)
    : Stage("log"),
      options_(std::move(options)) {
    if (options_.every == 0) {
        throw ConfigError("log.every", "must be at least 1");
    }
}

ActionId LogStage::on_process(Event& event, TaskContext& /*task*/) {
    if (seen_.fetch_add(1, std::memory_order_relaxed) % options_.every != 0) {
        return kActionDefault;
    }
    thread_local std::string line;
    line = options_.prefix;
    append_json(event, line);
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), options_.to_stdout ? stdout : stderr);
    return kActionDefault;
}

}  // namespace scopeflow
