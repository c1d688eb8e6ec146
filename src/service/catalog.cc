#include "service/catalog.h"

#include <scopeflow/sources/generator_source.h>
#include <scopeflow/http/ingest_source.h>
#include <scopeflow/sources/jsonl_file_source.h>
#include <scopeflow/sources/sql_source.h>
#include <scopeflow/http/stages/http_post_stage.h>
#include <scopeflow/redis/stages/redis_stage.h>
#include <scopeflow/stages/sql_stages.h>
#include <scopeflow/sources/stream_source.h>

#include "service/resource_types.h"

namespace scopeflow::service {
namespace {

std::string field(const Block& b, std::string_view name) {
    return b.path + "." + std::string(name);
}

void add_sql_source(Catalog& c) {
    c.sources.add(
        {"sql", "rows of a database resource (sqlite or postgres), page by page in key order",
         "resource: the database (required)\n"
         "query: SELECT ... WHERE key > $1 ORDER BY key LIMIT $2 (required)\n"
         "key: the key column (required)\n"
         "start_after: $1 for the first page (default 0)\n"
         "page_size: rows per query (default 500)\n"
         "offset_path: where progress (the last acked key) is committed (optional)\n"
         "poll_interval_ms: keep polling for new rows this often, a duration; 0: stop at the end "
         "(default 0)"},
        [res = c.resources](const Block& b) -> std::unique_ptr<Source> {
            reject_unknown_fields(b.options,
                                  {"resource", "query", "key", "start_after", "page_size",
                                   "offset_path", "poll_interval_ms"},
                                  b.path);
            auto db = res->get<sql::Database>(require_string(b.options, "resource", b.path),
                                              field(b, "resource"));
            SqlSourceOptions o;
            o.query = require_string(b.options, "query", b.path);
            o.key = require_string(b.options, "key", b.path);
            o.start_after = optional_string(b.options, "start_after", "0", b.path);
            const auto page = optional_int(b.options, "page_size", 500, b.path);
            if (page < 1) {
                throw ConfigError(field(b, "page_size"), "must be at least 1");
            }
            o.page_size = static_cast<std::size_t>(page);
            o.offset_path = optional_string(b.options, "offset_path", "", b.path);
            o.poll_interval = optional_duration(b.options, "poll_interval_ms",
                                                std::chrono::milliseconds(0), b.path);
            return std::make_unique<SqlSource>(std::move(db), std::move(o));
        });
}

void add_http_source(Catalog& c) {
    c.sources.add(
        {"http",
         "events POSTed to an HTTP endpoint; a request is answered once its events are "
         "processed (200) or not (503: retry)",
         "address: host:port to listen on (default 127.0.0.1:8080; port 0 picks one)\n"
         "path: the endpoint (default /ingest); bodies are a JSON object, JSON lines or an "
         "array\n"
         "max_pending: events queued or in flight before new requests get 503 (default "
         "10000)\n"
         "max_requests: requests waiting for their events at once (default 16)\n"
         "max_body_bytes: per request, a size (default 8MiB)"},
        [](const Block& b) -> std::unique_ptr<Source> {
            reject_unknown_fields(
                b.options, {"address", "path", "max_pending", "max_requests", "max_body_bytes"},
                b.path);
            http::IngestSourceOptions o;
            const std::string address =
                optional_string(b.options, "address", "127.0.0.1:8080", b.path);
            const auto colon = address.rfind(':');
            int port = -1;
            if (colon != std::string::npos) {
                try {
                    port = std::stoi(address.substr(colon + 1));
                } catch (const std::exception&) {
                    port = -1;
                }
            }
            if (port < 0 || port > 65535) {
                throw ConfigError(field(b, "address"), "expected host:port, got '" + address + "'");
            }
            o.address =
                address.substr(0, colon) == "localhost" ? "127.0.0.1" : address.substr(0, colon);
            o.port = static_cast<std::uint16_t>(port);
            o.path = optional_string(b.options, "path", "/ingest", b.path);
            const auto pending = optional_int(b.options, "max_pending", 10'000, b.path);
            const auto requests = optional_int(b.options, "max_requests", 16, b.path);
            const auto body = optional_bytes(b.options, "max_body_bytes", 8 << 20, b.path);
            if (pending < 1) {
                throw ConfigError(field(b, "max_pending"), "must be at least 1");
            }
            if (requests < 1) {
                throw ConfigError(field(b, "max_requests"), "must be at least 1");
            }
            if (body < 1) {
                throw ConfigError(field(b, "max_body_bytes"), "must be at least 1 byte");
            }
            o.max_pending = static_cast<std::size_t>(pending);
            o.max_requests = static_cast<std::size_t>(requests);
            o.max_body_bytes = static_cast<std::size_t>(body);
            try {
                return std::make_unique<http::HttpIngestSource>(std::move(o));
            } catch (const ConfigError& e) {
                throw ConfigError(b.path + e.where().substr(e.where().find('.')), e.text());
            }
        });
}

void add_sources(Catalog& c) {
    c.sources.add(
        {"jsonl", "JSON objects, one per line, from a file; progress committed to an offset file",
         "path: the file (required)\n"
         "offset_path: where progress is committed (default: <path>.offset)\n"
         "resume: start from the committed offset (default true)\n"
         "commit_interval_ms: commit progress at most this often, a duration (default 1s)\n"
         "max_line_bytes: longer lines go to the dead-letter stage, a size (default 1MiB)"},
        [](const Block& b) -> std::unique_ptr<Source> {
            reject_unknown_fields(
                b.options,
                {"path", "offset_path", "resume", "commit_interval_ms", "max_line_bytes"}, b.path);
            JsonlSourceOptions o;
            o.path = require_string(b.options, "path", b.path);
            o.offset_path = optional_string(b.options, "offset_path", "", b.path);
            if (const Value* v = b.options.find("resume"); v != nullptr) {
                if (v->kind() != ValueKind::boolean) {
                    throw ConfigError(field(b, "resume"), "expected true or false");
                }
                o.resume = v->as_bool();
            }
            o.commit_interval =
                optional_duration(b.options, "commit_interval_ms", std::chrono::seconds(1), b.path);
            o.max_line_bytes = static_cast<std::size_t>(
                optional_bytes(b.options, "max_line_bytes", o.max_line_bytes, b.path));
            return std::make_unique<JsonlFileSource>(std::move(o));
        });
    c.sources.add(
        {"stdin",
         "JSON objects, one per line, from standard input, until end of input (no "
         "offsets: a nacked event cannot be read again; use a dead-letter stage)",
         "max_line_bytes: longer lines go to the dead-letter stage, a size (default 1MiB)"},
        [](const Block& b) -> std::unique_ptr<Source> {
            reject_unknown_fields(b.options, {"max_line_bytes"}, b.path);
            const auto max = optional_bytes(b.options, "max_line_bytes", 1 << 20, b.path);
            if (max < 1) {
                throw ConfigError(field(b, "max_line_bytes"), "must be positive");
            }
            return std::make_unique<StreamSource>(StreamSourceOptions{
                .fd = 0, .name = "stdin", .max_line_bytes = static_cast<std::size_t>(max)});
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
    add_sql_source(c);
    add_http_source(c);
    register_resource_types(c);
    register_builtin_stages(c.stages);
    register_redis_stages(c.stages, *c.resources);
    register_http_stages(c.stages, *c.resources);
    register_sql_stages(c.stages, *c.resources);
    return c;
}

}  // namespace scopeflow::service
