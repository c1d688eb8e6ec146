#include <array>
#include <string>
#include <string_view>

#include <scopeflow/redis/errors.h>

namespace scopeflow::redis {

std::string_view error_code(std::string_view error_text) noexcept {
    const auto space = error_text.find(' ');
    return space == std::string_view::npos ? error_text : error_text.substr(0, space);
}

bool is_transient_code(std::string_view code) noexcept {
    static constexpr std::array<std::string_view, 4> kTransient = {"LOADING", "BUSY", "TRYAGAIN",
                                                                   "MASTERDOWN"};
    for (const std::string_view t : kTransient) {
        if (code == t) {
            return true;
        }
    }
    return false;
}

void throw_reply_error(std::string_view connection,
                       std::string_view command,
                       std::string_view error_text) {
    const std::string_view code = error_code(error_text);
    std::string message;
    message.reserve(connection.size() + command.size() + error_text.size() + 4);
    message.append(connection).append(": ").append(command).append(": ").append(error_text);
    if (is_transient_code(code)) {
        throw TryAgainError(message, std::string(code));
    }
    throw CommandError(message, std::string(code));
}

}  // namespace scopeflow::redis
