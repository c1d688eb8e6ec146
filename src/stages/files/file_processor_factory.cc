// The file_processor stage's options and its registration.
#include <scopeflow/core/error.h>
#include <scopeflow/stages/builtin_stages.h>
#include <scopeflow/stages/file_processor_stage.h>

namespace scopeflow {

void register_file_processor_stage(StageRegistry& registry) {
    registry.add(OptionsSchema("file_processor",
                               "writes each event to a temp file and publishes it as "
                               "<directory>/<key>.json (temp files removed on every failure)")
                     .add({.name = "directory",
                           .doc = "where files are published (must exist)",
                           .required = true,
                           .check = option_checks::existing_directory()})
                     .add({.name = "temp_directory",
                           .doc = "where they are written first (must exist)",
                           .default_doc = "the directory",
                           .check = option_checks::existing_directory()})
                     .add({.name = "key_field", .doc = "names the file", .default_value = "id"})
                     .add({.name = "fsync",
                           .kind = OptionKind::boolean,
                           .doc = "fsync each file before publishing",
                           .default_value = "false"}),
                 [](const ParsedOptions& o) -> std::unique_ptr<Stage> {
                     FileProcessorOptions f;
                     f.directory = o.string("directory");
                     f.temp_directory = o.string("temp_directory");
                     f.key_field = o.string("key_field");
                     f.fsync = o.boolean("fsync");
                     try {
                         return std::make_unique<FileProcessorStage>(std::move(f));
                     } catch (const ConfigError& e) {
                         // "file_processor.directory": a directory removed since the schema's
                         // check.
                         const std::string field = e.where().substr(e.where().find('.') + 1);
                         throw ConfigError(o.where(field), e.text());
                     }
                 });
}

}  // namespace scopeflow
