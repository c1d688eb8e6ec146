#include <scopeflow/core/error.h>
#include <scopeflow/postgres/connection_options.h>

namespace scopeflow::pg {

std::string ConnectionOptions::describe() const {
    return "postgres://" + user + "@" + host + ":" + std::to_string(port) + "/" + dbname;
}

void ConnectionOptions::validate(const std::string& where) const {
    if (host.empty()) {
        throw ConfigError(where + ".host", "is required");
    }
    if (port < 1 || port > 65535) {
        throw ConfigError(where + ".port", "must be in 1..65535, not " + std::to_string(port));
    }
    if (dbname.empty()) {
        throw ConfigError(where + ".dbname", "is required");
    }
    if (user.empty()) {
        throw ConfigError(where + ".user", "is required");
    }
    if (connect_timeout.count() <= 0) {
        throw ConfigError(where + ".connect_timeout", "must be positive");
    }
    if (statement_timeout.count() < 0) {
        throw ConfigError(where + ".statement_timeout", "must not be negative");
    }
    if (keepalive_idle.count() < 0 || tcp_user_timeout.count() < 0) {
        throw ConfigError(where + ".keepalive_idle", "timeouts must not be negative");
    }
}

ConnectionOptions with_password(ConnectionOptions options,
                                const PasswordFrom& from,
                                const std::string& where) {
    const bool env = !from.env.empty();
    const bool file = !from.file.empty();
    if (env == file) {
        throw ConfigError(where + ".password",
                          "give exactly one of password_env and password_file");
    }
    options.password = env ? Secret::from_env(from.env, where + ".password_env")
                           : Secret::from_file(from.file, where + ".password_file");
    return options;
}

}  // namespace scopeflow::pg
