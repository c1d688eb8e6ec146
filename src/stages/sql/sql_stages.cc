#include <charconv>
#include <stop_token>
#include <string>
#include <utility>

#include <scopeflow/core/error.h>
#include <scopeflow/core/interruptible_sleep.h>
#include <scopeflow/core/scope_guard.h>
#include <scopeflow/event/event_json.h>
#include <scopeflow/stages/sql_stages.h>

namespace scopeflow {
namespace {

bool is_prefix(const std::string& into) {
    return into.empty() || into.back() == '_' || into.back() == '.';
}

Value column_value(const sql::Value& v) {
    return v ? Value(*v) : Value();
}

sql::Params params_of(const Event& event, const std::vector<std::string>& fields) {
    sql::Params params;
    params.reserve(fields.size());
    for (const auto& f : fields) {
        params.push_back(sql_param(event.find(f)));
    }
    return params;
}

void check_database(const std::shared_ptr<sql::Database>& db,
                    const std::string& query,
                    const std::string& stage) {
    if (!db) {
        throw ConfigError(stage + ".resource", "needs a database");
    }
    if (query.empty()) {
        throw ConfigError(stage + ".query", "is required");
    }
}

}  // namespace

sql::Value sql_param(const Value* v) {
    if (v == nullptr) {
        return std::nullopt;
    }
    switch (v->kind()) {
        case ValueKind::null:
            return std::nullopt;
        case ValueKind::boolean:
            return std::string(v->as_bool() ? "true" : "false");
        case ValueKind::integer:
            return std::to_string(v->as_int());
        case ValueKind::number: {
            char buf[32];
            const auto r = std::to_chars(buf, buf + sizeof(buf), v->as_double());
            return std::string(buf, r.ptr);
        }
        case ValueKind::string:
            return std::string(v->as_string());
        case ValueKind::raw:
            return std::string(v->raw_json());
    }
    return std::nullopt;
}

// --- sql_lookup --------------------------------------------------------------------------------

SqlLookupStage::SqlLookupStage(SqlLookupOptions options)
    : NodeStage("sql_lookup", options.retry),
      options_(std::move(options)),
      prefix_mode_(is_prefix(options_.into)) {
    if (options_.on_missing == OnMissing::drop) {
        declare_drops();
    }
    check_database(options_.database, options_.query, "sql_lookup");
}

void SqlLookupStage::on_open(Scope& /*stage_scope*/, std::size_t workers) {
    worker_scopes_.assign(workers, nullptr);
}

void SqlLookupStage::on_open_worker(Scope& worker_scope, std::size_t worker_index) {
    worker_scopes_.at(worker_index) = &worker_scope;
}

SqlLookupCall SqlLookupStage::prep(Event& event, TaskContext& task) {
    SqlLookupCall call{params_of(event, options_.params), nullptr};
    const std::size_t i = task.worker_index();
    call.owner = i < worker_scopes_.size() && worker_scopes_[i] != nullptr ? worker_scopes_[i]
                                                                           : &task.scope();
    return call;
}

sql::Result SqlLookupStage::exec(SqlLookupCall& call) {
    return options_.database->query(*call.owner, options_.query, call.params);
}

ActionId SqlLookupStage::post(Event& event, SqlLookupCall& /*call*/, sql::Result& result) {
    if (result.rows.empty()) {
        switch (options_.on_missing) {
            case OnMissing::keep:
                return kActionDefault;
            case OnMissing::drop:
                return kActionDrop;
            case OnMissing::error:
                throw Error("sql_lookup on database '" + options_.database->name() +
                            "': no row for this event");
        }
    }
    const auto& row = result.rows.front();
    const std::size_t n = std::min(row.size(), result.columns.size());
    if (prefix_mode_) {
        for (std::size_t c = 0; c < n; ++c) {
            event.set(options_.into + result.columns[c], column_value(row[c]));
        }
    } else if (n == 1) {
        event.set(options_.into, column_value(row[0]));
    } else {
        Event object;
        for (std::size_t c = 0; c < n; ++c) {
            object.set(result.columns[c], column_value(row[c]));
        }
        event.set(options_.into, Value::raw(to_json(object)));
    }
    return kActionDefault;
}

// --- sql_upsert --------------------------------------------------------------------------------

SqlUpsertStage::SqlUpsertStage(SqlUpsertOptions options)
    : Stage("sql_upsert"),
      options_(std::move(options)) {
    check_database(options_.database, options_.query, "sql_upsert");
    if (options_.retry.max_attempts < 1) {
        throw ConfigError("sql_upsert.max_attempts", "must be at least 1");
    }
}

void SqlUpsertStage::on_open(Scope& /*stage_scope*/, std::size_t workers) {
    workers_.assign(workers, Worker{});
}

void SqlUpsertStage::on_open_worker(Scope& worker_scope, std::size_t worker_index) {
    workers_.at(worker_index).scope = &worker_scope;
}

ActionId SqlUpsertStage::on_process(Event& event, TaskContext& task) {
    Worker& w = workers_.at(task.worker_index());
    w.rows.push_back(params_of(event, options_.params));
    w.events.push_back(event);  // keeps meta().sequence: the batch can fail it by that
    return kActionDefault;
}

void SqlUpsertStage::on_flush_batch(BatchContext& batch) {
    const std::size_t worker_index = batch.worker_index();
    Worker& w = workers_.at(worker_index);
    if (w.rows.empty()) {
        return;
    }
    const auto clear = ScopeGuard([&w] {  // written, failed or nacked: never carried over
        w.rows.clear();
        w.events.clear();
    });
    if (w.scope == nullptr) {
        throw Error("sql_upsert: worker " + std::to_string(worker_index) + " was not opened");
    }
    // A stop of the pipeline (SIGTERM) or of the worker's scope ends a backoff at once.
    std::stop_source stop_source;
    const std::stop_callback on_pipeline_stop(batch.stop_token(),
                                              [&stop_source] { stop_source.request_stop(); });
    const std::stop_callback on_scope_stop(w.scope->stop_token(),
                                           [&stop_source] { stop_source.request_stop(); });
    const std::stop_token stop = stop_source.get_token();
    // The transaction is all or nothing: when it fails for good, every row of it failed.
    const auto fail_all = [&](const std::string& reason) {
        for (Event& e : w.events) {
            batch.fail(std::move(e), reason);
        }
    };
    // A stop is never a failure of the events: they are nacked and read again after a restart.
    const auto nack_all = [&](const std::string& reason) {
        for (const Event& ev : w.events) {
            batch.nack(ev.meta().sequence, reason);
        }
    };
    for (int attempt = 1;; ++attempt) {
        try {
            (void)options_.database->execute_batch(*w.scope, options_.query, w.rows);
            written_.fetch_add(w.rows.size(), std::memory_order_relaxed);
            return;
        } catch (const CancelledError& e) {
            nack_all(e.what());
            return;
        } catch (const ScopeClosedError& e) {  // the pool closed under a shutdown
            nack_all(e.what());
            return;
        } catch (const TransientError& e) {
            if (stop.stop_requested()) {
                nack_all(std::string("sql_upsert: stopped while retrying: ") + e.what());
                return;
            }
            if (attempt >= options_.retry.max_attempts) {
                fail_all(std::string("upsert failed after ") + std::to_string(attempt) +
                         " attempts: " + e.what());
                return;
            }
        } catch (const Error& e) {  // not transient: a constraint, a bad statement, a password
            fail_all(std::string("upsert failed: ") + e.what());
            return;
        }
        // Spread the workers' retries without a shared random source.
        const double unit = static_cast<double>((worker_index * 7 + 3) % 10) / 10.0;
        if (!sleep_for(options_.retry.backoff(attempt + 1, unit), stop)) {
            nack_all("sql_upsert: stopped while backing off");
            return;
        }
    }
}

// --- registration ------------------------------------------------------------------------------

namespace {

// Options both SQL stages take: retries of transient errors.
std::vector<Option> retry_options() {
    return {{.name = "max_attempts",
             .kind = OptionKind::integer,
             .doc = "tries of a transient error",
             .default_value = "3",
             .min = 1,
             .max = 1000},
            {.name = "backoff_ms",
             .kind = OptionKind::duration,
             .doc = "first retry wait, then doubled (at most max_backoff_ms)",
             .default_value = "10ms"},
            {.name = "max_backoff_ms",
             .kind = OptionKind::duration,
             .doc = "longest retry wait",
             .default_value = "2s"}};
}

void check_backoff(const ParsedOptions& o, const std::string& where) {
    if (o.duration("max_backoff_ms") < o.duration("backoff_ms")) {
        throw ConfigError(where + ".backoff_ms", "needs backoff_ms <= max_backoff_ms");
    }
}

RetryPolicy retry_of(const ParsedOptions& o) {
    return {.max_attempts = static_cast<int>(o.integer("max_attempts")),
            .initial_backoff = o.duration("backoff_ms"),
            .max_backoff = o.duration("max_backoff_ms")};
}

Option resource_option() {
    return {.name = "resource", .doc = "the sql database resource", .required = true};
}

Option params_option() {
    return {.name = "params", .kind = OptionKind::list, .doc = "event fields bound to $1..$n"};
}

}  // namespace

void register_sql_stages(StageRegistry& registry, const Resources& resources) {
    const Resources* res = &resources;
    registry.add(
        OptionsSchema("sql_lookup",
                      "enriches events with the first row of a parameterized SQL query")
            .add(resource_option())
            .add({.name = "query", .doc = "SQL with $1..$n", .required = true})
            .add(params_option())
            .add({.name = "into",
                  .doc = "column prefix (\"\", \"x_\", \"x.\") or target field",
                  .default_doc = "\"\""})
            .add({.name = "on_missing",
                  .doc = "what to do when no row matches",
                  .default_value = "keep",
                  .choices = {"keep", "drop", "error"}})
            .add_all(retry_options())
            .check(check_backoff),
        [res](const ParsedOptions& o) -> std::unique_ptr<Stage> {
            const std::string on_missing = o.string("on_missing");
            return std::make_unique<SqlLookupStage>(SqlLookupOptions{
                .database = res->get<sql::Database>(o.string("resource"), o.where("resource")),
                .query = o.string("query"),
                .params = o.list("params"),
                .into = o.string("into"),
                .on_missing = on_missing == "drop"    ? OnMissing::drop
                              : on_missing == "error" ? OnMissing::error
                                                      : OnMissing::keep,
                .retry = retry_of(o)});
        });
    registry.add(
        OptionsSchema("sql_upsert",
                      "writes events to SQL, one transaction per batch, acked after commit")
            .add(resource_option())
            .add({.name = "query", .doc = "INSERT/UPDATE with $1..$n", .required = true})
            .add(params_option())
            .add_all(retry_options())
            .check(check_backoff),
        [res](const ParsedOptions& o) -> std::unique_ptr<Stage> {
            return std::make_unique<SqlUpsertStage>(SqlUpsertOptions{
                .database = res->get<sql::Database>(o.string("resource"), o.where("resource")),
                .query = o.string("query"),
                .params = o.list("params"),
                .retry = retry_of(o)});
        });
}

}  // namespace scopeflow
