#include <string_view>

#include <scopeflow/redis/reply.h>

namespace scopeflow::redis {

std::string_view to_string(ReplyKind kind) noexcept {
    switch (kind) {
        case ReplyKind::nil:
            return "nil";
        case ReplyKind::string:
            return "string";
        case ReplyKind::integer:
            return "integer";
        case ReplyKind::array:
            return "array";
        case ReplyKind::status:
            return "status";
        case ReplyKind::error:
            return "error";
    }
    return "unknown";
}

bool operator==(const Reply& a, const Reply& b) noexcept {
    if (a.kind_ != b.kind_) {
        return false;
    }
    switch (a.kind_) {
        case ReplyKind::nil:
            return true;
        case ReplyKind::integer:
            return a.integer_ == b.integer_;
        case ReplyKind::array:
            return a.elements_ == b.elements_;
        case ReplyKind::string:
        case ReplyKind::status:
        case ReplyKind::error:
            return a.text_ == b.text_;
    }
    return false;
}

}  // namespace scopeflow::redis
