// The json_parse and json_serialize stages' options and their registration.
#include <scopeflow/stages/builtin_stages.h>
#include <scopeflow/stages/json_stages.h>

namespace scopeflow {

void register_json_stages(StageRegistry& registry) {
    registry.add(
        OptionsSchema("json_parse", "decodes a string field holding a JSON object into the event")
            .add({.name = "field", .doc = "the string field", .required = true})
            .add({.name = "keep_source",
                  .kind = OptionKind::boolean,
                  .doc = "keep the field after decoding",
                  .default_value = "false"}),
        [](const ParsedOptions& o) -> std::unique_ptr<Stage> {
            return std::make_unique<JsonParseStage>(JsonParseOptions{
                .field = o.string("field"), .keep_source = o.boolean("keep_source")});
        });
    registry.add(
        OptionsSchema("json_serialize", "encodes the whole event as JSON into a string field")
            .add({.name = "field", .doc = "where the JSON goes", .required = true}),
        [](const ParsedOptions& o) -> std::unique_ptr<Stage> {
            return std::make_unique<JsonSerializeStage>(
                JsonSerializeOptions{.field = o.string("field")});
        });
}

}  // namespace scopeflow
