#include <cerrno>
#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <scopeflow/redis/connection.h>
#include <scopeflow/redis/errors.h>

#include "redis/hiredis_reply.h"

namespace scopeflow::redis {
namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
    return tv;
}

}  // namespace

void Connection::ContextDeleter::operator()(redisContext* c) const noexcept {
    redisFree(c);
}

Connection& Connection::operator=(Connection&& other) noexcept {
    if (this != &other) {
        close();
        ctx_ = std::move(other.ctx_);
        name_ = std::move(other.name_);
        password_ = std::move(other.password_);
        command_timeout_ = other.command_timeout_;
        broken_ = other.broken_;
    }
    return *this;
}

Connection::~Connection() {
    close();
}

Connection Connection::open(const ConnectionOptions& options) {
    validate(options);
    Connection c;
    c.name_ = describe(options);
    c.password_ = options.password;
    c.command_timeout_ = options.command_timeout;
    redisContext* raw = redisConnectWithTimeout(options.host.c_str(), options.port,
                                                to_timeval(options.connect_timeout));
    if (raw == nullptr) {
        throw ConnectionLost(c.name_ + ": cannot connect: out of memory");
    }
    c.ctx_.reset(raw);
    if (raw->reader != nullptr) {
        limit_reply_size(*raw->reader);
    }
    if (raw->err != 0) {
        c.broken_ = true;
        const bool timed_out =
            raw->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EINPROGRESS);
        throw ConnectionLost(c.name_ + ": cannot connect: " +
                             (timed_out ? "no answer within " +
                                              std::to_string(options.connect_timeout.count()) +
                                              "ms (connect_timeout)"
                                        : c.redacted(raw->errstr)));
    }
    if (options.command_timeout.count() > 0 &&
        redisSetTimeout(raw, to_timeval(options.command_timeout)) != REDIS_OK) {
        c.fail("setting the command timeout");
    }
    (void)redisEnableKeepAlive(raw);  // best effort: only speeds up noticing a dead peer

    if (!options.password.empty()) {
        // A rejected AUTH throws CommandError: never transient, a wrong password stays wrong.
        if (options.username) {
            c.command({"AUTH", *options.username, options.password.reveal()});
        } else {
            c.command({"AUTH", options.password.reveal()});
        }
    }
    if (options.db != 0) {
        const std::string db = std::to_string(options.db);
        c.command({"SELECT", db});
    }
    if (!options.name.empty()) {
        c.command({"CLIENT", "SETNAME", options.name});
    }
    return c;
}

void Connection::require_usable(std::string_view command) {
    if (ctx_ == nullptr) {
        throw ConnectionLost((name_.empty() ? std::string("redis") : name_) + ": " +
                             redacted(command) + ": the connection is closed");
    }
    if (broken_) {
        throw ConnectionLost(name_ + ": " + redacted(command) +
                             ": the connection is broken (discard it)");
    }
}

void Connection::fail(std::string_view during) {
    const int saved_errno = errno;
    broken_ = true;
    std::string message = name_ + ": " + redacted(during);
    if (ctx_ == nullptr) {
        message += ": the connection is closed";
    } else if (ctx_->err == REDIS_ERR_IO && (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK)) {
        message += ": timed out after " + std::to_string(command_timeout_.count()) +
                   "ms (command_timeout); connection discarded";
    } else if (ctx_->err == REDIS_ERR_EOF) {
        message += ": connection lost: the server closed the connection";
    } else if (ctx_->err == REDIS_ERR_OOM) {
        message += ": connection dropped: out of memory, or a reply announcing more than " +
                   std::to_string(kMaxReplyElements) + " elements";
    } else {
        message += ": connection lost: " + redacted(ctx_->errstr);
    }
    throw ConnectionLost(message);
}

Reply Connection::command(std::span<const std::string_view> args) {
    if (args.empty()) {
        throw Error(name_ + ": an empty command");
    }
    require_usable(args[0]);
    argv_.clear();
    argvlen_.clear();
    for (const std::string_view a : args) {
        argv_.push_back(a.data());
        argvlen_.push_back(a.size());
    }
    void* raw =
        redisCommandArgv(ctx_.get(), static_cast<int>(argv_.size()), argv_.data(), argvlen_.data());
    if (raw == nullptr) {
        fail(args[0]);
    }
    const ReplyPtr reply(static_cast<redisReply*>(raw));
    if (reply->type == REDIS_REPLY_ERROR) {
        throw_reply_error(name_, redacted(args[0]),
                          redacted(std::string_view(reply->str, reply->len)));
    }
    Reply out;
    try {
        copy_reply(*reply, out);
    } catch (...) {
        broken_ = true;  // out of memory mid-reply: nothing more can be trusted
        throw;
    }
    return out;
}

void Connection::exec(const Batch& batch, std::vector<Reply>& replies) {
    require_usable("pipeline");
    replies.resize(batch.size());
    if (batch.empty()) {
        return;
    }
    const std::string_view wire = batch.encoded();
    if (redisAppendFormattedCommand(ctx_.get(), wire.data(), wire.size()) != REDIS_OK) {
        fail("pipeline");
    }
    try {
        for (Reply& out : replies) {
            void* raw = nullptr;
            if (redisGetReply(ctx_.get(), &raw) != REDIS_OK || raw == nullptr) {
                fail("pipeline of " + std::to_string(batch.size()) + " commands");
            }
            const ReplyPtr reply(static_cast<redisReply*>(raw));
            if (reply->type == REDIS_REPLY_ERROR) {
                // The server may echo arguments in an error ("unknown command ... 'x'").
                out.set_text(ReplyKind::error, redacted(std::string_view(reply->str, reply->len)));
            } else {
                copy_reply(*reply, out);
            }
        }
    } catch (const ConnectionLost&) {
        throw;
    } catch (...) {
        broken_ = true;  // replies left unread: the stream is out of step
        throw;
    }
}

void Connection::check(const Reply& reply, std::string_view command) const {
    if (reply.is_error()) {
        throw_reply_error(name_, redacted(command), reply.str());
    }
}

bool Connection::ping() noexcept {
    try {
        const Reply r = command({"PING"});
        return r.kind() == ReplyKind::status && r.str() == "PONG";
    } catch (...) {
        return false;
    }
}

void Connection::close() noexcept {
    ctx_.reset();
}

}  // namespace scopeflow::redis
