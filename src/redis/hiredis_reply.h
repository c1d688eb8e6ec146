// The one place a hiredis redisReply becomes a redis::Reply (private to the connector).
//
// Shared by the connection and the reply fuzzer, so what the fuzzer proves about replies a
// server may send holds for the code that reads them.
#pragma once

#include <memory>

#include <hiredis/hiredis.h>

#include <scopeflow/redis/reply.h>

namespace scopeflow::redis {

struct ReplyDeleter {
    void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
// Owns a reply hiredis handed over (redisGetReply, redisReaderGetReply).
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

// Copies `r` into `out`, reusing out's buffers. hiredis bounds the nesting of arrays (7 levels),
// which bounds this recursion.
void copy_reply(const redisReply& r, Reply& out);

}  // namespace scopeflow::redis
