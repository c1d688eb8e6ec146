// The fields stage's options and its registration.
#include <scopeflow/core/error.h>
#include <scopeflow/stages/builtin_stages.h>
#include <scopeflow/stages/fields_stage.h>

namespace scopeflow {

void register_fields_stage(StageRegistry& registry) {
    registry.add(OptionsSchema("fields", "sets, renames and drops fields (in that order)")
                     .add({.name = "set", .kind = OptionKind::object, .doc = "field -> value"})
                     .add({.name = "rename",
                           .kind = OptionKind::object,
                           .doc = "old name -> new name",
                           .check =
                               [](const ParsedOptions& o, const std::string& where) {
                                   for (const auto& field : o.object("rename")) {
                                       if (field.value.kind() != ValueKind::string) {
                                           throw ConfigError(where + "." + field.key,
                                                             "the new name must be a string");
                                       }
                                   }
                               }})
                     .add({.name = "drop", .kind = OptionKind::list, .doc = "field names"}),
                 [](const ParsedOptions& o) -> std::unique_ptr<Stage> {
                     FieldsOptions f;
                     for (const auto& field : o.object("set")) {
                         f.operations.push_back(FieldOp::set(field.key, field.value));
                     }
                     for (const auto& field : o.object("rename")) {
                         f.operations.push_back(
                             FieldOp::rename(field.key, std::string(field.value.as_string())));
                     }
                     for (auto& name : o.list("drop")) {
                         f.operations.push_back(FieldOp::drop(std::move(name)));
                     }
                     return std::make_unique<FieldsStage>(std::move(f));
                 });
}

}  // namespace scopeflow
