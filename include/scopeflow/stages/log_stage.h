// LogStage: prints events as JSON lines, for debugging a pipeline, then passes them on.
//
//   LogStage({.prefix = "after enrich: ", .every = 1000})   // every 1000th event, on stderr
//
// Each line is written with one call, so lines from different workers never interleave.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <string>

#include <scopeflow/engine/stage.h>

namespace scopeflow {

struct LogOptions {
    std::string prefix;       // printed before each event
    std::uint64_t every = 1;  // log one event in this many
    bool to_stdout = false;   // default: stderr
};

class LogStage final : public Stage {
public:
    explicit LogStage(LogOptions options);

protected:
    ActionId on_process(Event& event, TaskContext& task) override;

private:
    const LogOptions options_;
    std::atomic<std::uint64_t> seen_{0};
};

}  // namespace scopeflow
