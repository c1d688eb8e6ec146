// pg::Connection: one PostgreSQL connection (libpq), move-only, with a statement cache.
//
//   auto conn = scopeflow::pg::Connection::open(options);          // ConnectError on failure
//   pg::Result r = conn.exec("SELECT name FROM customers WHERE id = $1", {{"42"}});
//   std::vector<sql::Params> rows = ...;
//   conn.execute_batch("INSERT INTO t(k, v) VALUES ($1, $2)", rows);  // one round trip, atomic
//   if (conn.broken()) ...                                           // discard it (pools do)
//   conn.close();                                                    // or let it go
//
// Behaviour:
// - Parameterized statements only: every statement is prepared once per connection (PQprepare,
//   named "sf_<n>", cached by its SQL text) and run with PQexecPrepared, values bound as text
//   (std::nullopt is NULL). The parameter count is checked before anything is sent.
// - pipeline() and execute_batch() send many parameter rows of one statement in pipeline mode
//   (libpq 14+): one round trip, the socket written and read without blocking on each other.
//   execute_batch wraps them in BEGIN/COMMIT unless a transaction is already open (then it is
//   part of that one); a failing row rolls the whole batch back.
// - A connection-level failure (PQstatus CONNECTION_BAD, no result, SQLSTATE class 08, 57P01,
//   57P02, 57P03) marks the connection broken and throws pg::ConnectionLost (a TransientError).
//   statement_timeout throws pg::QueryTimeout (transient; the connection stays usable). Other
//   errors throw pg::SqlError. An error in the middle of a pipeline also marks it broken.
// - Connecting is non-blocking (PQconnectStartParams + poll) bounded by connect_timeout.
// - The server's NOTICE messages are dropped, not printed: nothing is written to stderr.
//
// Thread safety: none; one thread at a time (a pool hands it from thread to thread). close()
// and the destructor never throw.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <scopeflow/postgres/connection_options.h>
#include <scopeflow/postgres/errors.h>
#include <scopeflow/postgres/result.h>
#include <scopeflow/sql/database.h>

namespace scopeflow::pg {

class Connection {
public:
    Connection() noexcept;  // not connected; open() makes a live one
    Connection(Connection&& other) noexcept;
    Connection& operator=(Connection&& other) noexcept;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    ~Connection();

    // Connects within options.connect_timeout. Throws ConfigError (bad options),
    // AuthenticationError, or ConnectError; the message names the server, never the password.
    [[nodiscard]] static Connection open(const ConnectionOptions& options);

    // Closes the connection (PQfinish). Idempotent; never throws.
    void close() noexcept;
    [[nodiscard]] bool is_open() const noexcept;
    // True once a connection-level failure was seen (or mark_broken()): do not reuse it.
    [[nodiscard]] bool broken() const noexcept;
    void mark_broken() noexcept;
    // "postgres://user@host:port/db"; "" when not connected.
    [[nodiscard]] const std::string& describe() const noexcept;
    // The server process serving this connection (pg_backend_pid()); 0 when not connected.
    [[nodiscard]] int backend_pid() const noexcept;
    // True inside BEGIN ... COMMIT (also when the transaction failed and awaits ROLLBACK).
    [[nodiscard]] bool in_transaction() const noexcept;
    // True when the open transaction failed and only ROLLBACK is accepted.
    [[nodiscard]] bool transaction_failed() const noexcept;

    // Runs one statement with bound parameters ($1, $2, ...) and returns its result.
    Result exec(std::string_view sql, std::span<const sql::Value> params = {});
    Result exec(std::string_view sql, std::initializer_list<sql::Value> params) {
        return exec(sql, std::span<const sql::Value>(params.begin(), params.size()));
    }

    // Runs `sql` once per parameter row in pipeline mode, one round trip, no transaction added
    // (each row commits on its own unless a transaction is open). Returns one result per row.
    // On a failed row: throws its error after the pipeline drained (later rows did not run).
    std::vector<Result> pipeline(std::string_view sql, std::span<const sql::Params> rows);

    // As pipeline(), inside one transaction (BEGIN/COMMIT added when none is open): all rows
    // or none. Returns the total rows affected.
    std::int64_t execute_batch(std::string_view sql, std::span<const sql::Params> rows);

    // SELECT 1, unless already broken. Never throws.
    [[nodiscard]] bool ping() noexcept;

    // Statements prepared on this connection so far (each cached statement counts once).
    [[nodiscard]] std::uint64_t prepares() const noexcept;

private:
    struct State;
    explicit Connection(std::unique_ptr<State> state) noexcept;
    std::unique_ptr<State> state_;
};

}  // namespace scopeflow::pg
