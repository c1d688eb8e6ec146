#include "service/logging.h"

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <scopeflow/event/event_json.h>
#include <scopeflow/engine/log.h>

namespace scopeflow::service {
namespace {

// %j: the message escaped for a JSON string, invalid UTF-8 replaced (as in every JSON line the
// library writes: event_json.h).
class JsonMessage final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg,
                const std::tm& /*tm*/,
                spdlog::memory_buf_t& dest) override {
        thread_local std::string quoted;
        quoted.clear();
        append_json_string(std::string_view(msg.payload.data(), msg.payload.size()), quoted);
        dest.append(quoted.data() + 1, quoted.data() + quoted.size() - 1);  // without the quotes
    }
    [[nodiscard]] std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<JsonMessage>();
    }
};

}  // namespace

void init_logging(const std::string& format, const std::string& level) {
    spdlog::drop("scopeflow");
    auto logger = spdlog::stderr_logger_mt("scopeflow");
    if (format == "json") {
        auto formatter =
            std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
        formatter->add_flag<JsonMessage>('j').set_pattern(
            R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","msg":"%j"})");
        logger->set_formatter(std::move(formatter));
    } else {
        logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
    }
    logger->set_level(spdlog::level::from_str(level));
    spdlog::set_default_logger(std::move(logger));
    // The library's own lines (recovered files, failed events) go to the same log.
    set_log_sink([](LogLevel l, std::string_view line) {
        constexpr spdlog::level::level_enum kLevels[] = {spdlog::level::debug, spdlog::level::info,
                                                         spdlog::level::warn, spdlog::level::err};
        spdlog::log(kLevels[static_cast<int>(l)], "{}", line);
    });
}

}  // namespace scopeflow::service
