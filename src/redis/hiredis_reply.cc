#include "redis/hiredis_reply.h"

#include <cstdint>
#include <mutex>
#include <string_view>
#include <vector>

namespace scopeflow::redis {
namespace {

// hiredis's own reply functions (the same table for every reader), copied from the first reader
// limited, and the table readers use instead: the same functions but a bounded createArray.
redisReplyObjectFunctions g_hiredis{};
redisReplyObjectFunctions g_limited{};
std::once_flag g_tables_once;

void* create_array_limited(const redisReadTask* task, int elements) {
    if (elements > kMaxReplyElements) {
        return nullptr;  // hiredis: "Out of memory", the read fails
    }
    return g_hiredis.createArray(task, elements);
}

}  // namespace

void limit_reply_size(redisReader& reader) {
    if (reader.fn == nullptr) {
        return;  // a reader without reply objects allocates nothing per element
    }
    std::call_once(g_tables_once, [&reader] {
        g_hiredis = *reader.fn;
        g_limited = g_hiredis;
        g_limited.createArray = create_array_limited;
    });
    reader.fn = &g_limited;
}

void copy_reply(const redisReply& r, Reply& out) {
    switch (r.type) {
        case REDIS_REPLY_STRING:
            out.set_text(ReplyKind::string, std::string_view(r.str, r.len));
            return;
        case REDIS_REPLY_STATUS:
            out.set_text(ReplyKind::status, std::string_view(r.str, r.len));
            return;
        case REDIS_REPLY_ERROR:
            out.set_text(ReplyKind::error, std::string_view(r.str, r.len));
            return;
        case REDIS_REPLY_INTEGER:
            out.set_integer(static_cast<std::int64_t>(r.integer));
            return;
        case REDIS_REPLY_ARRAY: {
            std::vector<Reply>& elements = out.set_array(r.elements);
            for (std::size_t i = 0; i < r.elements; ++i) {
                copy_reply(*r.element[i], elements[i]);
            }
            return;
        }
        default:  // REDIS_REPLY_NIL
            out.set_nil();
            return;
    }
}

}  // namespace scopeflow::redis
