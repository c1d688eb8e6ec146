// sql::Database over a pool of PostgreSQL connections.
#include <exception>
#include <string>
#include <type_traits>

#include <scopeflow/core/scope.h>
#include <scopeflow/postgres/postgres_pool.h>

namespace scopeflow::pg {
namespace {

class PostgresDatabase final : public sql::Database {
public:
    PostgresDatabase(std::string name, std::shared_ptr<ConnectionPool> pool)
        : name_(std::move(name)),
          prefix_("database '" + name_ + "': "),
          pool_(std::move(pool)) {}

    ~PostgresDatabase() override {
        try {
            (void)pool_->close(std::chrono::milliseconds::zero());
        } catch (...) {  // NOLINT(bugprone-empty-catch): the pool reports its own failures
        }
    }

    [[nodiscard]] const std::string& name() const noexcept override { return name_; }
    [[nodiscard]] std::string_view engine() const noexcept override { return "postgres"; }

    sql::Result query(Scope& owner,
                      std::string_view sql,
                      std::span<const sql::Value> params) override {
        return call(owner, [&](Connection& c) { return c.exec(sql, params).to_sql(); });
    }

    std::int64_t execute_batch(Scope& owner,
                               std::string_view sql,
                               std::span<const sql::Params> rows) override {
        if (rows.empty()) {
            return 0;
        }
        return call(owner, [&](Connection& c) { return c.execute_batch(sql, rows); });
    }

    bool ping(Scope& owner) override {
        try {
            return pool_->with(owner, [](Connection& c) { return c.ping(); });
        } catch (const Error&) {
            return false;
        }
    }

    [[nodiscard]] PoolStats pool_stats() const override { return pool_->stats(); }

    PoolCloseReport close(std::chrono::milliseconds deadline) override {
        return pool_->close(deadline);
    }

private:
    // Runs fn on a leased connection; errors are rethrown with the database named. A connection
    // that broke is discarded by the pool's broken hook, so the caller's retry gets a fresh one.
    template <typename F>
    std::invoke_result_t<F, Connection&> call(Scope& owner, F&& fn) {
        try {
            return pool_->with(owner, std::forward<F>(fn));
        } catch (const ConnectionLost& e) {
            throw ConnectionLost(prefix_ + e.what());
        } catch (const QueryTimeout& e) {
            throw QueryTimeout(prefix_ + e.what());
        } catch (const ConnectError& e) {
            throw ConnectError(prefix_ + e.what());
        } catch (const SqlError& e) {
            throw SqlError(prefix_ + e.what(), e.sqlstate(), e.statement());
        }
    }

    const std::string name_;
    const std::string prefix_;
    const std::shared_ptr<ConnectionPool> pool_;
};

}  // namespace

std::shared_ptr<sql::Database> make_postgres_database(PoolOptions pool_options,
                                                      ConnectionOptions options) {
    std::string name = pool_options.name;
    return std::make_shared<PostgresDatabase>(
        std::move(name), make_pool(std::move(pool_options), std::move(options)));
}

}  // namespace scopeflow::pg
