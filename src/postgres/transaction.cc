#include <scopeflow/postgres/transaction.h>

namespace scopeflow::pg {

Transaction::Transaction(Connection& conn)
    : conn_(conn) {
    if (conn_.in_transaction()) {
        throw SqlError(conn_.describe() + ": a transaction is already open on this connection",
                       "25001", "BEGIN");
    }
    (void)conn_.exec("BEGIN", {});
    active_ = true;
}

Transaction::~Transaction() {
    if (!active_) {
        return;
    }
    active_ = false;
    if (conn_.broken()) {
        return;  // the server rolls back when the session ends
    }
    try {
        (void)conn_.exec("ROLLBACK", {});
    } catch (...) {  // state unknown: make sure nobody reuses the connection
        conn_.mark_broken();
    }
}

void Transaction::commit() {
    if (!active_) {
        throw SqlError(conn_.describe() + ": commit() on a transaction that already ended", "",
                       "COMMIT");
    }
    if (conn_.transaction_failed()) {
        rollback();
        throw SqlError(conn_.describe() +
                           ": transaction aborted by an earlier error; rolled back, not committed",
                       "25P02", "COMMIT");
    }
    active_ = false;  // a failed COMMIT ends the transaction too (the server rolls it back)
    (void)conn_.exec("COMMIT", {});
}

void Transaction::rollback() {
    if (!active_) {
        return;
    }
    active_ = false;
    try {
        (void)conn_.exec("ROLLBACK", {});
    } catch (...) {
        conn_.mark_broken();
        throw;
    }
}

}  // namespace scopeflow::pg
