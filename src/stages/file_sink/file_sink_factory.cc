// The file_sink stage's options and its registration.
#include <scopeflow/core/error.h>
#include <scopeflow/stages/builtin_stages.h>
#include <scopeflow/stages/file_sink_stage.h>

namespace scopeflow {

void register_file_sink_stage(StageRegistry& registry) {
    registry.add(
        OptionsSchema("file_sink",
                      "writes events as JSON lines into rotating, atomically published files")
            .add({.name = "directory",
                  .doc = "where parts are written, created if missing",
                  .default_value = ".",
                  .check = option_checks::creatable_directory()})
            .add({.name = "prefix",
                  .doc = "part name prefix (a file name, no '/')",
                  .default_value = "events",
                  .check =
                      [](const ParsedOptions& o, const std::string& where) {
                          const std::string prefix = o.string("prefix");
                          if (prefix.empty() || prefix.find('/') != std::string::npos) {
                              throw ConfigError(
                                  where, "must be a plain file name prefix, got '" + prefix + "'");
                          }
                      }})
            .add({.name = "max_bytes",
                  .kind = OptionKind::bytes,
                  .doc = "rotate at this size",
                  .default_value = "64MiB",
                  .min = 1})
            .add({.name = "fsync",
                  .doc = "when parts are fsynced",
                  .default_value = "on_rotate",
                  .choices = {"never", "on_rotate", "always"}}),
        [](const ParsedOptions& o) -> std::unique_ptr<Stage> {
            const std::string fsync = o.string("fsync");
            return std::make_unique<FileSinkStage>(
                FileSinkOptions{.directory = o.string("directory"),
                                .prefix = o.string("prefix"),
                                .max_bytes = o.bytes("max_bytes"),
                                .fsync = fsync == "never"    ? FsyncPolicy::never
                                         : fsync == "always" ? FsyncPolicy::always
                                                             : FsyncPolicy::on_rotate});
        });
}

}  // namespace scopeflow
