// sqlite::Transaction: a transaction scope on one connection that commits explicitly and rolls
// back when destroyed uncommitted (libpqxx's transaction_base).
//
//   {
//       scopeflow::sqlite::Transaction tx(conn);    // BEGIN IMMEDIATE: takes the write lock now
//       conn.query("UPDATE accounts SET n = n - 1 WHERE id = $1", {{"7"}});
//       tx.commit();
//   }                                               // no commit: ROLLBACK
//
// Behaviour: BEGIN IMMEDIATE (the default) takes the write lock up front, so a busy database
// fails at the start (TransientError after the busy timeout) instead of at a later write.
// commit() throws on failure (TransientError when busy); the transaction is then still open and
// is rolled back by rollback() or the destructor. The destructor never throws: a failed rollback
// marks the connection broken (a pool discards it) and is reported to the global monitor. If
// SQLite already rolled back on its own (some I/O and busy errors do), nothing is sent.
//
// Thread safety: as the connection's. Not movable: a scope on the stack.
#pragma once

#include <scopeflow/sqlite/connection.h>

namespace scopeflow::sqlite {

enum class TransactionMode : unsigned char { deferred, immediate, exclusive };

class [[nodiscard]] Transaction {
public:
    explicit Transaction(Connection& conn, TransactionMode mode = TransactionMode::immediate);
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    ~Transaction();

    void commit();
    // Rolls back now. Idempotent; a no-op after commit().
    void rollback();
    [[nodiscard]] bool active() const noexcept { return active_; }

private:
    Connection& conn_;
    bool active_ = false;
};

}  // namespace scopeflow::sqlite
