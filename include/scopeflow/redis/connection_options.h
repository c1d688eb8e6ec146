// redis::ConnectionOptions: where and how a redis::Connection connects.
//
//   redis::ConnectionOptions o{
//       .host = "127.0.0.1",
//       .port = 6379,
//       .password = scopeflow::Secret::from_env("REDIS_PASSWORD", "resources.cache.password_env"),
//       .db = 2,
//       .command_timeout = 500ms,
//       .name = "scopeflow-orders"};
//   redis::describe(o);   // "redis://127.0.0.1:6379/2": used in every message, never the password
//
// validate() throws ConfigError("redis.<field>", ...) for the first invalid field.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <scopeflow/core/secret.h>

namespace scopeflow::redis {

struct ConnectionOptions {
    std::string host = "127.0.0.1";         // name or address (TCP only)
    int port = 6379;                        // 1..65535
    Secret password{};                      // empty: no AUTH
    std::optional<std::string> username{};  // ACL user (Redis 6+): AUTH <username> <password>
    int db = 0;                             // SELECT'ed after connecting (0: none sent)
    std::chrono::milliseconds connect_timeout{2000};  // TCP connect; must be positive
    // Each command's send and receive (SO_SNDTIMEO / SO_RCVTIMEO); 0: wait forever. A timeout
    // breaks the connection (the reply may still arrive later and would be misread).
    std::chrono::milliseconds command_timeout{2000};
    std::string name{};  // CLIENT SETNAME (no spaces); empty: none
};

// "redis://host:port/db", or "redis://user@host:port/db" with an ACL user. Never the password.
[[nodiscard]] std::string describe(const ConnectionOptions& options);

// Throws ConfigError("redis.<field>", ...) naming the first invalid field.
void validate(const ConnectionOptions& options);

}  // namespace scopeflow::redis
