#include <charconv>
#include <cstddef>
#include <span>
#include <string_view>
#include <system_error>

#include <scopeflow/redis/batch.h>

namespace scopeflow::redis {
namespace {

// Appends "<prefix><n>\r\n".
void append_length(std::string& out, char prefix, std::size_t n) {
    char digits[24];
    digits[0] = prefix;
    const auto r = std::to_chars(digits + 1, digits + sizeof(digits) - 2, n);
    char* end = r.ptr;
    *end++ = '\r';
    *end++ = '\n';
    out.append(digits, end);
}

}  // namespace

Batch& Batch::add(std::span<const std::string_view> args) {
    if (args.empty()) {
        return *this;
    }
    // RESP: *<argc>\r\n then $<len>\r\n<bytes>\r\n per argument. Lengths make it binary safe.
    append_length(buffer_, '*', args.size());
    for (const std::string_view a : args) {
        append_length(buffer_, '$', a.size());
        buffer_.append(a);
        buffer_.append("\r\n", 2);
    }
    ++count_;
    return *this;
}

}  // namespace scopeflow::redis
