// redis::Connection: one connection to a Redis server, owning its hiredis context (RAII).
//
//   auto conn = redis::Connection::open({.host = "127.0.0.1", .port = 6379,
//                                        .password = pw, .db = 1, .command_timeout = 500ms});
//   conn.command({"SET", key, value});                 // argv form: binary safe
//   redis::Reply r = conn.command({"GET", key});       // r.is_nil() when missing
//   redis::Batch b;
//   for (auto& k : keys) b.add({"INCR", k});
//   std::vector<redis::Reply> replies = conn.exec(b);  // pipelined: one round trip
//   conn.close();                                      // or let the destructor do it
//
// Behaviour:
// - open() connects with connect_timeout, sets command_timeout on the socket, then sends AUTH
//   (when a password is set), SELECT (db != 0) and CLIENT SETNAME (name set) and checks each
//   reply. A refused or timed-out connect throws ConnectionLost (transient: the server may be
//   restarting); a rejected AUTH or SELECT throws CommandError (retrying will not help).
// - command() sends one command through redisCommandArgv (each argument with its length, never
//   a format string) and returns the reply; an error reply throws CommandError, or TryAgainError
//   for LOADING / BUSY / TRYAGAIN / MASTERDOWN.
// - exec() sends a whole Batch in one write and reads one reply per command. Error replies are
//   returned as replies (kind error), not thrown: one bad command does not hide the others'
//   results. check() turns one into the exception command() would throw.
// - Any I/O error, end of stream, protocol error or timeout marks the connection broken() and
//   throws ConnectionLost; a broken connection refuses further commands (ConnectionLost again)
//   and must be discarded. Pool hooks check broken() (see connection_pool.h).
// - Messages name the connection ("redis://host:port/db") and pass text from hiredis and the
//   server through redact(), so the password never appears in them.
//
// Thread safety: none; one thread at a time (a pool hands it to one lease holder). Move-only;
// close() is idempotent and the destructor never throws.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <scopeflow/redis/batch.h>
#include <scopeflow/redis/connection_options.h>
#include <scopeflow/redis/errors.h>
#include <scopeflow/redis/reply.h>
#include <scopeflow/core/secret.h>

struct redisContext;  // hiredis

namespace scopeflow::redis {

class Connection {
public:
    Connection() noexcept = default;  // not connected: every command throws ConnectionLost
    Connection(Connection&&) noexcept = default;
    Connection& operator=(Connection&& other) noexcept;  // closes the connection it held first
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    ~Connection();

    // Connects and prepares the session (AUTH, SELECT, CLIENT SETNAME). Throws ConfigError for
    // invalid options, ConnectionLost, or CommandError (see the header comment).
    [[nodiscard]] static Connection open(const ConnectionOptions& options);

    // One command, name first. Throws ConnectionLost, TryAgainError or CommandError.
    Reply command(std::initializer_list<std::string_view> args) {
        return command(std::span<const std::string_view>(args.begin(), args.size()));
    }
    Reply command(std::span<const std::string_view> args);

    // Sends every command of `batch` in one write and reads their replies, in order, into
    // `replies` (resized to batch.size(); its buffers are reused). Error replies are returned,
    // not thrown. Throws ConnectionLost (the connection is then broken).
    void exec(const Batch& batch, std::vector<Reply>& replies);
    [[nodiscard]] std::vector<Reply> exec(const Batch& batch) {
        std::vector<Reply> replies;
        exec(batch, replies);
        return replies;
    }

    // Throws what command() would for an error reply; does nothing for any other reply.
    // `command` names the command in the message ("GET").
    void check(const Reply& reply, std::string_view command) const;

    // PING; true on PONG. Never throws: false (and broken() when the connection failed) on error.
    [[nodiscard]] bool ping() noexcept;

    // Closes the socket and frees the context. Idempotent; never throws in practice.
    void close() noexcept;

    [[nodiscard]] bool is_open() const noexcept { return ctx_ != nullptr; }
    // A connection-level failure happened: discard this connection, never reuse it.
    [[nodiscard]] bool broken() const noexcept { return broken_; }
    // "redis://host:port/db".
    [[nodiscard]] const std::string& name() const noexcept { return name_; }
    [[nodiscard]] std::chrono::milliseconds command_timeout() const noexcept {
        return command_timeout_;
    }

private:
    struct ContextDeleter {
        void operator()(redisContext* c) const noexcept;
    };

    // Marks the connection broken and throws ConnectionLost describing the context's error.
    [[noreturn]] void fail(std::string_view during);
    void require_usable(std::string_view command);
    [[nodiscard]] std::string redacted(std::string_view text) const {
        return redact(text, password_);
    }

    std::unique_ptr<redisContext, ContextDeleter> ctx_;
    std::string name_;
    Secret password_;  // kept only to redact messages
    std::chrono::milliseconds command_timeout_{0};
    bool broken_ = false;
    // Scratch for command(): argument pointers and lengths.
    std::vector<const char*> argv_;
    std::vector<std::size_t> argvlen_;
};

}  // namespace scopeflow::redis
