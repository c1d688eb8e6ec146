// The log stage's options and its registration.
#include <scopeflow/stages/builtin_stages.h>
#include <scopeflow/stages/log_stage.h>

namespace scopeflow {

void register_log_stage(StageRegistry& registry) {
    registry.add(OptionsSchema("log", "prints events as JSON lines (stderr by default)")
                     .add({.name = "prefix", .doc = "text before each event"})
                     .add({.name = "every",
                           .kind = OptionKind::integer,
                           .doc = "log one event in this many",
                           .default_value = "1",
                           .unit = "events",
                           .min = 1})
                     .add({.name = "stream",
                           .doc = "where the lines go",
                           .default_value = "stderr",
                           .choices = {"stderr", "stdout"}}),
                 [](const ParsedOptions& o) -> std::unique_ptr<Stage> {
                     return std::make_unique<LogStage>(
                         LogOptions{.prefix = o.string("prefix"),
                                    .every = static_cast<std::uint64_t>(o.integer("every")),
                                    .to_stdout = o.string("stream") == "stdout"});
                 });
}

}  // namespace scopeflow
