// SQL stages over any sql::Database (PostgreSQL, SQLite), found by name in a Resources.
//
//   sql_lookup  enriches each event with the first row of a parameterized query:
//     {"type": "sql_lookup", "resource": "orders_db",
//      "query": "SELECT name, tier FROM customers WHERE id = $1",
//      "params": "customer_id", "into": "customer_", "on_missing": "keep"}
//   sql_upsert  buffers events per worker and writes each engine batch with one execute_batch
//     (one transaction; PostgreSQL: one pipelined round trip):
//     {"type": "sql_upsert", "resource": "orders_db",
//      "query": "INSERT INTO totals(k, n) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET n = "
//               "excluded.n", "params": "key, n"}
//
//   scopeflow::register_sql_stages(registry, resources);  // resources must outlive create()
//
// Behaviour:
// - params: comma-separated event field names bound to $1, $2, ... in order. Strings bind as
//   they are, numbers and booleans as their JSON text, null or a missing field as SQL NULL.
// - into: a prefix when empty or ending in '_' or '.' (each column becomes <prefix><column>);
//   otherwise a target field: a one-column row stores its value there, a wider row a JSON object
//   of column -> value. Values are strings (the databases return text), NULL is null.
// - on_missing (no row): keep (event goes on unchanged), drop (the event ends here), or error
//   (the stage's error route / dead-letter stage).
// - Transient failures (a lost connection, a pool timeout, a statement timeout) are retried per
//   the RetryPolicy (max_attempts, backoff_ms, max_backoff_ms); a terminated backend costs one
//   retry, since the pool discards the broken connection and the retry leases another.
// - sql_upsert acks after commit: rows are written at the end of the batch, which the engine
//   runs before acking it. A write that fails for good (after retries of transient errors, or
//   a constraint) fails every event of the rolled-back transaction: they go to the dead-letter
//   stage (then are acked), or are nacked without one; a stop nacks them. Events flow on to
//   later stages before their batch is committed.
//
// Thread safety: as Stage; leases are owned by the stage's worker scopes.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <scopeflow/engine/node.h>
#include <scopeflow/core/resources.h>
#include <scopeflow/sql/database.h>
#include <scopeflow/engine/stage.h>
#include <scopeflow/engine/stage_registry.h>

namespace scopeflow {

enum class OnMissing : unsigned char { keep, drop, error };

struct SqlLookupOptions {
    std::shared_ptr<sql::Database> database{};
    std::string query{};                // $1..$n
    std::vector<std::string> params{};  // event fields bound to $1..$n
    std::string into{};                 // prefix ("", "x_", "x.") or target field ("x")
    OnMissing on_missing = OnMissing::keep;
    RetryPolicy retry{.max_attempts = 3};
};

struct SqlLookupCall {
    sql::Params params;
    Scope* owner = nullptr;  // where the lease is tracked: the worker's scope
};

class SqlLookupStage final : public NodeStage<SqlLookupCall, sql::Result> {
public:
    explicit SqlLookupStage(SqlLookupOptions options);

protected:
    void on_open(Scope& stage_scope, std::size_t workers) override;
    void on_open_worker(Scope& worker_scope, std::size_t worker_index) override;
    SqlLookupCall prep(Event& event, TaskContext& task) override;
    sql::Result exec(SqlLookupCall& call) override;
    ActionId post(Event& event, SqlLookupCall& call, sql::Result& result) override;

private:
    const SqlLookupOptions options_;
    const bool prefix_mode_;
    std::vector<Scope*> worker_scopes_;
};

struct SqlUpsertOptions {
    std::shared_ptr<sql::Database> database{};
    std::string query{};
    std::vector<std::string> params{};
    RetryPolicy retry{.max_attempts = 3};
};

class SqlUpsertStage final : public Stage {
public:
    explicit SqlUpsertStage(SqlUpsertOptions options);

    // Rows written so far (committed), across workers.
    [[nodiscard]] std::uint64_t written() const noexcept {
        return written_.load(std::memory_order_relaxed);
    }

protected:
    void on_open(Scope& stage_scope, std::size_t workers) override;
    void on_open_worker(Scope& worker_scope, std::size_t worker_index) override;
    ActionId on_process(Event& event, TaskContext& task) override;
    void on_flush_batch(BatchContext& batch) override;

private:
    struct Worker {
        Scope* scope = nullptr;
        std::vector<sql::Params> rows;
        std::vector<Event> events;  // the rows' events, for the dead-letter stage on a failure
    };
    const SqlUpsertOptions options_;
    std::vector<Worker> workers_;
    std::atomic<std::uint64_t> written_{0};
};

// The parameter text of an event field: nullopt for null or missing.
[[nodiscard]] sql::Value sql_param(const Value* v);

// Registers sql_lookup and sql_upsert; their "resource" option names an sql::Database in
// `resources`, which must outlive every create() call.
void register_sql_stages(StageRegistry& registry, const Resources& resources);

}  // namespace scopeflow
