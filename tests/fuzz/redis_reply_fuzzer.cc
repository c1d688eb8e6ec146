// Fuzzes the reading of Redis replies: the bytes a server (or something pretending to be one)
// sends go through hiredis's reader, limited as on a connection, and our copy into redis::Reply.
#include <cstddef>
#include <cstdint>
#include <memory>

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include "redis/hiredis_reply.h"

namespace {

struct ReaderDeleter {
    void operator()(redisReader* r) const noexcept { redisReaderFree(r); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::unique_ptr<redisReader, ReaderDeleter> reader(redisReaderCreate());
    scopeflow::redis::limit_reply_size(*reader);  // as every connection's reader
    if (redisReaderFeed(reader.get(), reinterpret_cast<const char*>(data), size) != REDIS_OK) {
        return 0;
    }
    scopeflow::redis::Reply out;
    for (;;) {
        void* raw = nullptr;
        if (redisReaderGetReply(reader.get(), &raw) != REDIS_OK || raw == nullptr) {
            return 0;  // a protocol error, or an incomplete reply: the connection would fail
        }
        const scopeflow::redis::ReplyPtr reply(static_cast<redisReply*>(raw));
        scopeflow::redis::copy_reply(*reply, out);
        (void)out.str();
    }
}
