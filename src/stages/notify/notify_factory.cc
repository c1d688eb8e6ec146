// The notify stage's options and its registration.
#include <scopeflow/stages/builtin_stages.h>
#include <scopeflow/stages/notify_stage.h>

namespace scopeflow {

void register_notify_stage(StageRegistry& registry) {
    registry.add(
        OptionsSchema("notify",
                      "appends a notification line per event to a log (one file per worker)")
            .add({.name = "path", .doc = "the log; worker N writes <path>.wN", .required = true})
            .add({.name = "key_field", .doc = "names the event", .default_value = "id"})
            .add({.name = "fields", .kind = OptionKind::list, .doc = "other fields to show"}),
        [](const ParsedOptions& o) -> std::unique_ptr<Stage> {
            return std::make_unique<NotifyStage>(NotifyOptions{.path = o.string("path"),
                                                               .key_field = o.string("key_field"),
                                                               .fields = o.list("fields")});
        });
}

}  // namespace scopeflow
