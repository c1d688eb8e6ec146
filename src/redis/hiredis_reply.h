// The one place a hiredis redisReply becomes a redis::Reply (private to the connector).
//
// Shared by the connection and the reply fuzzer, so what the fuzzer proves about replies a
// server may send holds for the code that reads them.
#pragma once

#include <memory>

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include <scopeflow/redis/reply.h>

namespace scopeflow::redis {

struct ReplyDeleter {
    void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
// Owns a reply hiredis handed over (redisGetReply, redisReaderGetReply).
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

// The most elements one array reply may announce. hiredis 0.14 allocates an array's element
// table from the announced count before any element arrives, so without a bound a server (or
// bytes pretending to be one) could make us allocate gigabytes with one line.
inline constexpr int kMaxReplyElements = 1 << 20;

// Makes `reader` refuse an array announcing more than kMaxReplyElements: hiredis then fails the
// read as it does when out of memory (REDIS_ERR_OOM), and the connection is dropped. Replies are
// otherwise built by hiredis's own functions.
void limit_reply_size(redisReader& reader);

// Copies `r` into `out`, reusing out's buffers. hiredis bounds the nesting of arrays (7 levels),
// which bounds this recursion.
void copy_reply(const redisReply& r, Reply& out);

}  // namespace scopeflow::redis
