#include <string>

#include <scopeflow/core/error.h>
#include <scopeflow/redis/connection_options.h>

namespace scopeflow::redis {

std::string describe(const ConnectionOptions& options) {
    std::string s = "redis://";
    if (options.username) {
        s += *options.username + "@";
    }
    s += options.host + ":" + std::to_string(options.port) + "/" + std::to_string(options.db);
    return s;
}

void validate(const ConnectionOptions& options) {
    if (options.host.empty()) {
        throw ConfigError("redis.host", "must not be empty");
    }
    if (options.port < 1 || options.port > 65535) {
        throw ConfigError("redis.port", "must be in 1..65535, got " + std::to_string(options.port));
    }
    if (options.db < 0) {
        throw ConfigError("redis.db", "must not be negative");
    }
    if (options.connect_timeout.count() <= 0) {
        throw ConfigError("redis.connect_timeout", "must be positive");
    }
    if (options.command_timeout.count() < 0) {
        throw ConfigError("redis.command_timeout", "must not be negative (0: no timeout)");
    }
    if (options.username && options.username->empty()) {
        throw ConfigError("redis.username", "must not be empty when set");
    }
    if (options.username && options.password.empty()) {
        throw ConfigError("redis.password", "an ACL username needs a password");
    }
    for (const char c : options.name) {
        if (c == ' ' || c == '\n' || c == '\r') {
            throw ConfigError("redis.name", "a client name must not contain spaces or newlines");
        }
    }
}

}  // namespace scopeflow::redis
