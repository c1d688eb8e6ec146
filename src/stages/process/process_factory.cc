// The process stage's options and its registration.
#include <scopeflow/core/error.h>
#include <scopeflow/stages/builtin_stages.h>
#include <scopeflow/stages/process_stage.h>

namespace scopeflow {

void register_process_stage(StageRegistry& registry) {
    registry.add(
        OptionsSchema("process",
                      "runs each event through an external program (one JSON line in, one out), "
                      "one child per worker")
            .add({.name = "command",
                  .kind = OptionKind::strict_list,
                  .doc = "the program and its arguments (no shell)",
                  .required = true,
                  .check =
                      [](const ParsedOptions& o, const std::string& where) {
                          if (o.list("command").empty()) {
                              throw ConfigError(where, "is required: [program, arg, ...]");
                          }
                      }})
            .add({.name = "env",
                  .kind = OptionKind::strict_list,
                  .doc = "its environment: NAME=value sets one, NAME passes the service's own on",
                  .default_doc = "only PATH, LANG, LC_ALL, TZ"})
            .add({.name = "timeout_ms",
                  .kind = OptionKind::duration,
                  .doc = "per event",
                  .default_value = "5s",
                  .min = 1})
            .add({.name = "terminate_grace_ms",
                  .kind = OptionKind::duration,
                  .doc = "SIGTERM, then SIGKILL after this",
                  .default_value = "2s"}),
        [](const ParsedOptions& o) -> std::unique_ptr<Stage> {
            ProcessStageOptions p;
            p.argv = o.list("command");
            for (std::string& entry : o.list("env")) {
                (entry.find('=') == std::string::npos ? p.env_pass : p.env_add)
                    .push_back(std::move(entry));
            }
            p.timeout = o.duration("timeout_ms");
            p.terminate_grace = o.duration("terminate_grace_ms");
            return std::make_unique<ProcessStage>(std::move(p));
        });
}

}  // namespace scopeflow
