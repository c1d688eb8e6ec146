#include <cerrno>
#include <filesystem>
#include <string>
#include <string_view>

#include <unistd.h>

#include <scopeflow/budget/temp_file.h>
#include <scopeflow/core/error.h>
#include <scopeflow/core/files.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/engine/log.h>
#include <scopeflow/event/event_json.h>
#include <scopeflow/stages/file_processor_stage.h>

namespace scopeflow {
namespace {

constexpr std::string_view kTempPrefix = "processing-";  // then mkstemp's 6 characters

}  // namespace

FileProcessorStage::FileProcessorStage(FileProcessorOptions options)
    : Stage("file_processor"),
      options_(std::move(options)) {
    if (options_.directory.empty()) {
        throw ConfigError("file_processor.directory", "is required");
    }
    if (options_.temp_directory.empty()) {
        options_.temp_directory = options_.directory;
    }
    for (const auto* dir : {&options_.directory, &options_.temp_directory}) {
        if (!std::filesystem::is_directory(*dir)) {
            throw ConfigError(dir == &options_.directory ? "file_processor.directory"
                                                         : "file_processor.temp_directory",
                              "'" + *dir + "' is not an existing directory");
        }
    }
}

void FileProcessorStage::on_open(Scope& /*stage_scope*/, std::size_t /*workers*/) {
    // A temp file is committed (renamed) inside process(), before its event can be acked, so
    // one left by a crashed run belongs to an event that was not acked and will be read again:
    // garbage. Removed before any worker creates new ones.
    std::uint64_t removed = 0;
    for (const std::string& name : list_files(options_.temp_directory)) {
        if (name.size() == kTempPrefix.size() + 6 && name.starts_with(kTempPrefix)) {
            const std::string path = options_.temp_directory + "/" + name;
            if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
                throw SystemError(errno, "remove '" + path + "'");
            }
            ++removed;
        }
    }
    if (removed > 0) {
        log(LogLevel::info, "file_processor '" + options_.directory + "': removed " +
                                std::to_string(removed) + " temp file(s) '" +
                                options_.temp_directory + "/" + std::string(kTempPrefix) +
                                "*' left by a crashed run (their events were not acked)");
    }
}

ActionId FileProcessorStage::on_process(Event& event, TaskContext& task) {
    Scope& scope = task.scope();
    std::string key;
    if (const Value* v = event.find(options_.key_field); v != nullptr && !v->is_null()) {
        key = v->kind() == ValueKind::string ? std::string(v->as_string()) : std::string();
        if (key.empty()) {
            append_json(*v, key);
        }
    } else {
        key = "seq-" + std::to_string(task.sequence());
    }
    for (char& c : key) {  // a key is a file name, never a path
        if (c == '/' || c == '\0') {
            c = '_';
        }
    }
    TempFile file = TempFile::create(scope, {.directory = options_.temp_directory,
                                             .prefix = std::string(kTempPrefix),
                                             .budget = options_.budget,
                                             .writer = {},
                                             .durable = options_.fsync});
    std::string body;
    append_json(event, body);
    body += '\n';
    scope.fault_point("file_processor.write");
    file.append(body);
    scope.fault_point("file_processor.publish");
    const std::string final_path = options_.directory + "/" + key + ".json";
    file.commit(final_path);
    event.set("file", final_path);
    return kActionDefault;
}

}  // namespace scopeflow
