// pg::Transaction: BEGIN on construction, COMMIT only when asked, ROLLBACK otherwise.
//
//   {
//       scopeflow::pg::Transaction tx(conn);
//       tx.exec("UPDATE accounts SET balance = balance - $1 WHERE id = $2", {{"10"}, {"7"}});
//       tx.exec("UPDATE accounts SET balance = balance + $1 WHERE id = $2", {{"10"}, {"8"}});
//       tx.commit();
//   }   // an exception before commit() leaves here through ~Transaction: ROLLBACK
//
// Behaviour:
// - commit() of a transaction that an earlier statement aborted rolls it back and throws
//   pg::SqlError (SQLSTATE 25P02) instead of reporting success.
// - The destructor never throws: if the ROLLBACK fails, the connection is marked broken so a
//   pool discards it (nobody can tell what state it is in).
// - Opening one while a transaction is already open throws pg::SqlError (SQLSTATE 25001).
//
// Thread safety: as Connection; neither movable nor copyable (a scope, on the stack).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>

#include <scopeflow/postgres/connection.h>

namespace scopeflow::pg {

class Transaction {
public:
    explicit Transaction(Connection& conn);
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    Transaction(Transaction&&) = delete;
    Transaction& operator=(Transaction&&) = delete;
    ~Transaction();

    Result exec(std::string_view sql, std::span<const sql::Value> params = {}) {
        return conn_.exec(sql, params);
    }
    Result exec(std::string_view sql, std::initializer_list<sql::Value> params) {
        return conn_.exec(sql, params);
    }
    // Pipelined rows inside this transaction.
    std::int64_t execute_batch(std::string_view sql, std::span<const sql::Params> rows) {
        return conn_.execute_batch(sql, rows);
    }

    void commit();
    void rollback();
    // Neither committed nor rolled back yet.
    [[nodiscard]] bool active() const noexcept { return active_; }

private:
    Connection& conn_;
    bool active_ = false;
};

}  // namespace scopeflow::pg
