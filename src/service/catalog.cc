#include "service/catalog.h"

#include <scopeflow/generator_source.h>
#include <scopeflow/jsonl_file_source.h>
#include <scopeflow/stages/http_post_stage.h>
#include <scopeflow/stages/redis_stage.h>
#include <scopeflow/stages/sql_stages.h>

#include "service/resource_types.h"

namespace scopeflow::service {
namespace {

std::string field(const Block& b, std::string_view name) {
    return b.path + "." + std::string(name);
}

void add_sources(Catalog& c) {
    c.sources.add(
        {"jsonl", "JSON objects, one per line, from a file; progress committed to an offset file",
         "path: the file (required)\n"
         "offset_path: where progress is committed (default: <path>.offset)\n"
         "resume: start from the committed offset (default true)\n"
         "commit_interval_ms: commit progress at most this often (default 1000)"},
        [](const Block& b) -> std::unique_ptr<Source> {
            reject_unknown_fields(b.options,
                                  {"path", "offset_path", "resume", "commit_interval_ms"}, b.path);
            JsonlSourceOptions o;
            o.path = require_string(b.options, "path", b.path);
            o.offset_path = optional_string(b.options, "offset_path", "", b.path);
            if (const Value* v = b.options.find("resume"); v != nullptr) {
                if (v->kind() != ValueKind::boolean) {
                    throw ConfigError(field(b, "resume"), "expected true or false");
                }
                o.resume = v->as_bool();
            }
            const auto interval = optional_int(b.options, "commit_interval_ms", 1000, b.path);
            if (interval < 0) {
                throw ConfigError(field(b, "commit_interval_ms"), "must not be negative");
            }
            o.commit_interval = std::chrono::milliseconds(interval);
            return std::make_unique<JsonlFileSource>(std::move(o));
        });
    c.sources.add({"generator", "synthetic events (load tests, demos)",
                   "count: events to produce, 0 for endless (default 0)\n"
                   "payload: add user/type/price/ts fields (default false)"},
                  [](const Block& b) -> std::unique_ptr<Source> {
                      reject_unknown_fields(b.options, {"count", "payload"}, b.path);
                      GeneratorOptions o;
                      const auto count = optional_int(b.options, "count", 0, b.path);
                      if (count < 0) {
                          throw ConfigError(field(b, "count"), "must not be negative");
                      }
                      o.count = static_cast<std::uint64_t>(count);
                      if (const Value* v = b.options.find("payload"); v != nullptr) {
                          o.with_payload = v->kind() == ValueKind::boolean && v->as_bool();
                      }
                      return std::make_unique<GeneratorSource>(o);
                  });
}

}  // namespace

Catalog standard_catalog(std::shared_ptr<Resources> resources) {
    Catalog c;
    c.resources = std::move(resources);
    add_sources(c);
    register_resource_types(c);
    register_builtin_stages(c.stages);
    register_redis_stages(c.stages, *c.resources);
    register_http_stages(c.stages, *c.resources);
    register_sql_stages(c.stages, *c.resources);
    return c;
}

}  // namespace scopeflow::service
