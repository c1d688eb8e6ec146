// pg::ConnectionOptions: where and how to connect to PostgreSQL, with the password as a Secret.
//
//   auto options = scopeflow::pg::with_password(
//       {.host = "db.internal", .port = 5432, .dbname = "orders", .user = "app",
//        .statement_timeout = std::chrono::seconds(5)},
//       {.env = "ORDERS_DB_PASSWORD"}, "resources.orders_db");
//   options.describe();  // "postgres://app@db.internal:5432/orders" (never the password)
//
// Behaviour: the options are handed to libpq as separate keywords (PQconnectStartParams), never
// assembled into a connection string, so there is no DSN text holding the password that could
// end up in a log. validate() throws ConfigError naming the field ("<where>.port").
//
// Thread safety: a value type; a const ConnectionOptions may be read concurrently.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include <scopeflow/core/secret.h>

namespace scopeflow::pg {

// Used with designated initializers; every field has a usable default except dbname and user.
struct ConnectionOptions {
    std::string host = "127.0.0.1";  // host name, IP address, or a Unix socket directory
    int port = 5432;
    std::string dbname{};
    std::string user{};
    Secret password{};                           // from_env / from_file; see with_password()
    std::string application_name = "scopeflow";  // shown in pg_stat_activity
    // Connecting (TCP, TLS, authentication) gives up after this long: a dead or silent server
    // does not hang the caller. Enforced by our own poll loop, so milliseconds are honoured.
    std::chrono::milliseconds connect_timeout{5000};
    // Server-side limit per statement (SQLSTATE 57014 -> pg::QueryTimeout); 0: server default.
    std::chrono::milliseconds statement_timeout{0};
    std::string sslmode = "prefer";  // libpq's: disable, allow, prefer, require, verify-*
    // TCP keepalive idle time, so a peer that vanished is noticed on an idle socket; 0: OS default.
    std::chrono::seconds keepalive_idle{30};
    // Unacknowledged data on the socket for longer than this kills the connection (Linux
    // TCP_USER_TIMEOUT); 0: OS default.
    std::chrono::milliseconds tcp_user_timeout{0};

    // "postgres://user@host:port/dbname": for messages, metrics and logs.
    [[nodiscard]] std::string describe() const;
    // Throws ConfigError("<where>.<field>", ...) for the first invalid field.
    void validate(const std::string& where) const;
};

// Where a password comes from: exactly one of the two.
struct PasswordFrom {
    std::string env{};             // an environment variable's name
    std::filesystem::path file{};  // a file holding the password (one trailing newline dropped)
};

// `options` with its password read from `from`. ConfigError naming `where` when neither or both
// sources are given or the source cannot be read (the message never holds the value).
[[nodiscard]] ConnectionOptions with_password(ConnectionOptions options,
                                              const PasswordFrom& from,
                                              const std::string& where);

}  // namespace scopeflow::pg
