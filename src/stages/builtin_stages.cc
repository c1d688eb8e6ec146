// Registers the built-in stages that need no server; each declares itself in its own folder.
#include <scopeflow/stages/builtin_stages.h>

namespace scopeflow {

void register_builtin_stages(StageRegistry& registry) {
    register_aggregate_stages(registry);
    register_fields_stage(registry);
    register_file_processor_stage(registry);
    register_file_sink_stage(registry);
    register_filter_stage(registry);
    register_json_stages(registry);
    register_log_stage(registry);
    register_notify_stage(registry);
    register_process_stage(registry);
}

}  // namespace scopeflow
