// Secret: a password or token that never reaches a log, a metric or an error message by accident.
//
// Secrets come from the environment or a file, never from the config text itself. The value is
// reachable only through reveal(), which is greppable; there is no operator<< and no implicit
// conversion. Messages from C clients that might echo a secret go through redact().
//
//   auto pw = scopeflow::Secret::from_env("PGPASSWORD", "resources.orders_db.password_env");
//   auto tok = scopeflow::Secret::from_file("/run/secrets/api_token", "resources.api.token_file");
//   conn_params.password = pw.reveal().c_str();            // handed to the client, nowhere else
//   throw Error(scopeflow::redact(PQerrorMessage(c), pw));  // "... password ***"
//
// The destructor wipes the bytes. Thread safety: a const Secret may be read concurrently.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace scopeflow {

class Secret {
public:
    Secret() = default;
    explicit Secret(std::string value)
        : value_(std::move(value)) {}
    Secret(const Secret&) = default;
    Secret(Secret&&) noexcept = default;
    Secret& operator=(const Secret&) = default;
    Secret& operator=(Secret&&) noexcept = default;
    ~Secret();

    // The value of environment variable `name`. ConfigError("<where>", "environment variable
    // PGPASSWORD is not set") when unset; an empty value is a valid (empty) secret.
    [[nodiscard]] static Secret from_env(const std::string& name, const std::string& where);
    // The file's content without one trailing newline. ConfigError naming `where` and the path
    // (never the content) when it cannot be read.
    [[nodiscard]] static Secret from_file(const std::filesystem::path& path,
                                          const std::string& where);

    [[nodiscard]] const std::string& reveal() const noexcept { return value_; }
    [[nodiscard]] bool empty() const noexcept { return value_.empty(); }

private:
    std::string value_;
};

// `text` with every occurrence of the secret's value replaced by "***". Empty and very short
// secrets (under 4 bytes) are left alone: masking "a" everywhere would garble the message and
// such a secret is no secret anyway.
[[nodiscard]] std::string redact(std::string_view text, const Secret& secret);

// The text shown wherever a secret would be: "***".
inline constexpr std::string_view kRedacted = "***";

}  // namespace scopeflow
