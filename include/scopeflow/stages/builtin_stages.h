// The built-in stages that need no server, each registered by a function beside its factory.
//
//   scopeflow::StageRegistry registry;
//   scopeflow::register_builtin_stages(registry);  // all of the below
//
// Connector stages register with their connector: register_redis_stages()
// (scopeflow/redis/stages/redis_stage.h), register_http_stages(), register_sql_stages().
#pragma once

#include <scopeflow/engine/stage_registry.h>

namespace scopeflow {

void register_aggregate_stages(StageRegistry& registry);  // counter, tumbling_window
void register_fields_stage(StageRegistry& registry);
void register_file_processor_stage(StageRegistry& registry);
void register_file_sink_stage(StageRegistry& registry);
void register_filter_stage(StageRegistry& registry);
void register_json_stages(StageRegistry& registry);  // json_parse, json_serialize
void register_log_stage(StageRegistry& registry);
void register_notify_stage(StageRegistry& registry);
void register_process_stage(StageRegistry& registry);

// All of the above.
void register_builtin_stages(StageRegistry& registry);

}  // namespace scopeflow
