#include <atomic>
#include <cctype>
#include <string>
#include <utility>

#include <scopeflow/core/error.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/core/scope_guard.h>
#include <scopeflow/sqlite/database.h>
#include <scopeflow/sqlite/transaction.h>

namespace scopeflow::sqlite {
namespace {

std::atomic<std::uint64_t> g_memory_databases{0};

// One process-wide in-memory database per pool, shared by its connections (SQLite's memdb VFS:
// a name starting with '/' is visible to every connection of the process that opens it).
std::string memory_uri(const std::string& name) {
    std::string safe;
    for (const char ch : name) {
        safe +=
            std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '-' || ch == '_' ? ch : '_';
    }
    return "file:/scopeflow-" + std::to_string(++g_memory_databases) + "-" + safe + "?vfs=memdb";
}

class SqliteDatabase final : public sql::Database {
public:
    explicit SqliteDatabase(std::shared_ptr<ConnectionPool> pool)
        : pool_(std::move(pool)) {}

    [[nodiscard]] const std::string& name() const noexcept override { return pool_->name(); }
    [[nodiscard]] std::string_view engine() const noexcept override { return "sqlite"; }

    sql::Result query(Scope& owner,
                      std::string_view sql,
                      std::span<const sql::Value> params) override {
        ConnectionPool::Scoped lease(*pool_, owner);
        return lease->query(sql, params);
    }

    std::int64_t execute_batch(Scope& owner,
                               std::string_view sql,
                               std::span<const sql::Params> rows) override {
        if (rows.empty()) {
            return 0;
        }
        ConnectionPool::Scoped lease(*pool_, owner);
        Connection& conn = *lease;
        Transaction tx(conn);
        Statement& statement = conn.prepared(sql);
        std::int64_t total = 0;
        for (std::size_t i = 0; i < rows.size(); ++i) {
            try {
                total += conn.execute(statement, rows[i]);
            } catch (const TransientError& e) {
                throw TransientError(std::string(e.what()) + where(i, rows.size()));
            } catch (const Error& e) {
                throw Error(std::string(e.what()) + where(i, rows.size()));
            }
        }
        tx.commit();
        return total;
    }

    bool ping(Scope& owner) override {
        try {
            return pool_->with(owner, [](Connection& c) { return c.ping(); });
        } catch (...) {
            return false;
        }
    }

    [[nodiscard]] PoolStats pool_stats() const override { return pool_->stats(); }

    PoolCloseReport close(std::chrono::milliseconds deadline) override {
        return pool_->close(deadline);
    }

private:
    static std::string where(std::size_t row, std::size_t rows) {
        return " (batch row " + std::to_string(row + 1) + " of " + std::to_string(rows) +
               "; the batch was rolled back)";
    }

    std::shared_ptr<ConnectionPool> pool_;
};

}  // namespace

std::shared_ptr<ConnectionPool> make_pool(PoolOptions pool, ConnectionOptions connection) {
    if (connection.name.empty()) {
        connection.name = !pool.name.empty()        ? pool.name
                          : connection.path.empty() ? std::string(":memory:")
                                                    : connection.path;
    }
    if (pool.name.empty()) {
        pool.name = connection.name;
    }
    validate_pool_options(pool);
    // The anchor keeps a pool's in-memory database alive while the pool's own connections come
    // and go (idle eviction, max_lifetime, broken ones); it is never used for queries.
    std::shared_ptr<Connection> anchor;
    if (connection.path.empty() || connection.path == ":memory:") {
        connection.path = memory_uri(connection.name);
        anchor = std::make_shared<Connection>(Connection::open(connection));
    }
    auto options = std::make_shared<const ConnectionOptions>(std::move(connection));
    return ConnectionPool::create(
        std::move(pool), {.connect = [options, anchor] { return Connection::open(*options); },
                          .validate = [](Connection& c) { return !c.broken() && c.ping(); },
                          .close = [](Connection& c) { c.close(); },
                          .broken = [](const Connection& c) { return c.broken(); }});
}

std::shared_ptr<sql::Database> make_sqlite_database(PoolOptions pool,
                                                    ConnectionOptions connection) {
    return std::make_shared<SqliteDatabase>(make_pool(std::move(pool), std::move(connection)));
}

}  // namespace scopeflow::sqlite
