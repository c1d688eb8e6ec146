// The built-in sources' options and their registration.
#include <scopeflow/sources/builtin_sources.h>
#include <scopeflow/sources/generator_source.h>
#include <scopeflow/sources/jsonl_file_source.h>
#include <scopeflow/sources/sql_source.h>
#include <scopeflow/sources/stream_source.h>

namespace scopeflow {
namespace {

Option max_line_bytes() {
    return {.name = "max_line_bytes",
            .kind = OptionKind::bytes,
            .doc = "longer lines go to the dead-letter stage",
            .default_value = "1MiB",
            .min = 1};
}

}  // namespace

void register_jsonl_source(SourceRegistry& registry) {
    registry.add(
        OptionsSchema("jsonl",
                      "JSON objects, one per line, from a file; progress committed to an offset "
                      "file")
            .add({.name = "path", .doc = "the file", .required = true})
            .add({.name = "offset_path",
                  .doc = "where progress is committed",
                  .default_doc = "<path>.offset"})
            .add({.name = "resume",
                  .kind = OptionKind::boolean,
                  .doc = "start from the committed offset",
                  .default_value = "true"})
            .add({.name = "commit_interval_ms",
                  .kind = OptionKind::duration,
                  .doc = "commit progress at most this often",
                  .default_value = "1s"})
            .add(max_line_bytes()),
        [](const ParsedOptions& o) -> std::unique_ptr<Source> {
            JsonlSourceOptions s;
            s.path = o.string("path");
            s.offset_path = o.string("offset_path");
            s.resume = o.boolean("resume");
            s.commit_interval = o.duration("commit_interval_ms");
            s.max_line_bytes = static_cast<std::size_t>(o.bytes("max_line_bytes"));
            return std::make_unique<JsonlFileSource>(std::move(s));
        });
}

void register_stdin_source(SourceRegistry& registry) {
    registry.add(OptionsSchema("stdin",
                               "JSON objects, one per line, from standard input, until end of "
                               "input (no offsets: a nacked event cannot be read again; use a "
                               "dead-letter stage)")
                     .add(max_line_bytes()),
                 [](const ParsedOptions& o) -> std::unique_ptr<Source> {
                     return std::make_unique<StreamSource>(StreamSourceOptions{
                         .fd = 0,
                         .name = "stdin",
                         .max_line_bytes = static_cast<std::size_t>(o.bytes("max_line_bytes"))});
                 });
}

void register_generator_source(SourceRegistry& registry) {
    registry.add(OptionsSchema("generator", "synthetic events (load tests, demos)")
                     .add({.name = "count",
                           .kind = OptionKind::integer,
                           .doc = "events to produce, 0 for endless",
                           .default_value = "0",
                           .unit = "events",
                           .min = 0})
                     .add({.name = "payload",
                           .kind = OptionKind::boolean,
                           .doc = "add user/type/price/ts fields",
                           .default_value = "false"}),
                 [](const ParsedOptions& o) -> std::unique_ptr<Source> {
                     GeneratorOptions g;
                     g.count = static_cast<std::uint64_t>(o.integer("count"));
                     g.with_payload = o.boolean("payload");
                     return std::make_unique<GeneratorSource>(g);
                 });
}

void register_sql_source(SourceRegistry& registry, const Resources& resources) {
    registry.add(
        OptionsSchema("sql",
                      "rows of a database resource (sqlite or postgres), page by page in key "
                      "order")
            .add({.name = "resource", .doc = "the database", .required = true})
            .add({.name = "query",
                  .doc = "SELECT ... WHERE key > $1 ORDER BY key LIMIT $2",
                  .required = true})
            .add({.name = "key", .doc = "the key column", .required = true})
            .add({.name = "start_after", .doc = "$1 for the first page", .default_value = "0"})
            .add({.name = "page_size",
                  .kind = OptionKind::integer,
                  .doc = "rows per query",
                  .default_value = "500",
                  .unit = "rows",
                  .min = 1})
            .add({.name = "offset_path",
                  .doc = "where progress (the last acked key) is committed",
                  .default_doc = "none"})
            .add({.name = "poll_interval_ms",
                  .kind = OptionKind::duration,
                  .doc = "keep polling for new rows this often; 0: stop at the end",
                  .default_value = "0"}),
        [res = &resources](const ParsedOptions& o) -> std::unique_ptr<Source> {
            auto db = res->get<sql::Database>(o.string("resource"), o.where("resource"));
            SqlSourceOptions s;
            s.query = o.string("query");
            s.key = o.string("key");
            s.start_after = o.string("start_after");
            s.page_size = static_cast<std::size_t>(o.integer("page_size"));
            s.offset_path = o.string("offset_path");
            s.poll_interval = o.duration("poll_interval_ms");
            return std::make_unique<SqlSource>(std::move(db), std::move(s));
        });
}

void register_builtin_sources(SourceRegistry& registry, const Resources& resources) {
    register_jsonl_source(registry);
    register_stdin_source(registry);
    register_generator_source(registry);
    register_sql_source(registry, resources);
}

}  // namespace scopeflow
