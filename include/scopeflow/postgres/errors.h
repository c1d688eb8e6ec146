// The PostgreSQL connector's errors, chosen by what the caller does next.
//
//   pg::ConnectError      TransientError  connecting failed or timed out: retry later
//   pg::AuthenticationError ConfigError   the server refused the credentials: fix them
//   pg::ConnectionLost    TransientError  the connection died (server restart, terminated
//                                         backend, network): it is broken; retry on another one
//   pg::QueryTimeout      TransientError  statement_timeout fired (SQLSTATE 57014); the
//                                         connection is still usable
//   pg::SqlError          Error           the statement failed (syntax, constraint, ...): a
//                                         retry would fail the same way
//
//   try { conn.exec("INSERT ...", params); }
//   catch (const pg::SqlError& e) { if (e.sqlstate() == "23505") ...duplicate key... }
//
// Messages name the connection ("postgres://user@host:port/db") and, for SqlError, the
// statement text (truncated), never the parameters and never the password (libpq's text goes
// through redact()).
#pragma once

#include <string>

#include <scopeflow/core/error.h>

namespace scopeflow::pg {

class ConnectError : public TransientError {
public:
    using TransientError::TransientError;
};

class AuthenticationError : public ConfigError {
public:
    using ConfigError::ConfigError;
};

class ConnectionLost : public TransientError {
public:
    using TransientError::TransientError;
};

class QueryTimeout : public TransientError {
public:
    using TransientError::TransientError;
};

class SqlError : public Error {
public:
    SqlError(const std::string& message, std::string sqlstate, std::string statement)
        : Error(message),
          sqlstate_(std::move(sqlstate)),
          statement_(std::move(statement)) {}

    // The five-character SQLSTATE ("23505"); "" when the client detected the error itself.
    [[nodiscard]] const std::string& sqlstate() const noexcept { return sqlstate_; }
    // The statement text, truncated to 200 bytes.
    [[nodiscard]] const std::string& statement() const noexcept { return statement_; }

private:
    std::string sqlstate_;
    std::string statement_;
};

}  // namespace scopeflow::pg
