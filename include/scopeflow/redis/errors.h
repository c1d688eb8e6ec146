// Redis errors: what the caller does next decides the class (see scopeflow/core/error.h).
//
//   ConnectionLost   the connection broke (I/O error, EOF, timeout, refused): it is marked broken
//                    and must not be reused; retrying on a new connection may succeed.
//   TryAgainError    the server answered -LOADING, -BUSY, -TRYAGAIN or -MASTERDOWN: the command
//                    was not run and may succeed later; the connection is fine.
//   CommandError     any other error reply (-ERR, -WRONGTYPE, -NOAUTH, -WRONGPASS): repeating the
//                    same command will fail the same way.
//
//   try {
//       conn.command({"INCR", key});
//   } catch (const scopeflow::redis::ConnectionLost& e) {  // a TransientError: retry elsewhere
//   } catch (const scopeflow::redis::CommandError& e) {    // e.code() == "WRONGTYPE"
//   }
//
// Messages start with the connection ("redis://127.0.0.1:6379/0: ...") and never contain the
// password: text from hiredis or the server goes through redact() first.
#pragma once

#include <string>
#include <string_view>

#include <scopeflow/core/error.h>

namespace scopeflow::redis {

class ConnectionLost : public TransientError {
public:
    using TransientError::TransientError;
};

class TryAgainError : public TransientError {
public:
    TryAgainError(const std::string& message, std::string code)
        : TransientError(message),
          code_(std::move(code)) {}
    // The error's first word: "LOADING", "BUSY", "TRYAGAIN" or "MASTERDOWN".
    [[nodiscard]] const std::string& code() const noexcept { return code_; }

private:
    std::string code_;
};

class CommandError : public Error {
public:
    CommandError(const std::string& message, std::string code)
        : Error(message),
          code_(std::move(code)) {}
    // The error's first word: "ERR", "WRONGTYPE", "NOAUTH", ...
    [[nodiscard]] const std::string& code() const noexcept { return code_; }

private:
    std::string code_;
};

// The first word of an error reply ("WRONGTYPE Operation against ..." -> "WRONGTYPE").
[[nodiscard]] std::string_view error_code(std::string_view error_text) noexcept;

// True for the codes that mean "the server cannot run it now, try again": LOADING, BUSY,
// TRYAGAIN, MASTERDOWN.
[[nodiscard]] bool is_transient_code(std::string_view code) noexcept;

// Throws TryAgainError or CommandError for an error reply `error_text` (already redacted) of
// `command` on `connection`: "<connection>: <command>: <error_text>".
[[noreturn]] void throw_reply_error(std::string_view connection,
                                    std::string_view command,
                                    std::string_view error_text);

}  // namespace scopeflow::redis
