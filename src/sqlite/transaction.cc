#include <exception>

#include <scopeflow/core/error.h>
#include <scopeflow/core/resource_monitor.h>
#include <scopeflow/sqlite/transaction.h>

namespace scopeflow::sqlite {
namespace {

std::string_view begin_sql(TransactionMode mode) {
    switch (mode) {
        case TransactionMode::deferred:
            return "BEGIN DEFERRED";
        case TransactionMode::immediate:
            return "BEGIN IMMEDIATE";
        case TransactionMode::exclusive:
            return "BEGIN EXCLUSIVE";
    }
    return "BEGIN IMMEDIATE";
}

}  // namespace

Transaction::Transaction(Connection& conn, TransactionMode mode)
    : conn_(conn) {
    (void)conn_.query(begin_sql(mode));
    active_ = true;
}

Transaction::~Transaction() {
    if (!active_) {
        return;
    }
    try {
        rollback();
    } catch (...) {
        conn_.mark_broken();  // in an unknown transaction state: never reuse it
        ResourceMonitor::global().report(
            {.kind = ReportKind::close_error,
             .scope_path = {},
             .resource = conn_.name(),
             .resource_kind = ResourceKind::connection,
             .site = {},
             .message = "rollback failed: " + message_of(std::current_exception())});
    }
}

void Transaction::commit() {
    if (!active_) {
        throw Error(conn_.describe() + ": commit without an active transaction");
    }
    (void)conn_.query("COMMIT");
    active_ = false;
}

void Transaction::rollback() {
    if (!active_) {
        return;
    }
    active_ = false;
    if (conn_.is_open() && !conn_.autocommit()) {  // SQLite may have rolled back by itself
        (void)conn_.query("ROLLBACK");
    }
}

}  // namespace scopeflow::sqlite
