#include <filesystem>

#include <scopeflow/budget/temp_file.h>
#include <scopeflow/error.h>
#include <scopeflow/event_json.h>
#include <scopeflow/scope.h>
#include <scopeflow/stages/file_processor_stage.h>

namespace scopeflow {

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
                                             .prefix = "processing-",
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
