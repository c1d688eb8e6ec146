#include "redis/hiredis_reply.h"

#include <cstdint>
#include <string_view>
#include <vector>

namespace scopeflow::redis {

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
