// log: where the library's own diagnostics go (recovered files, failed events).
//
// The library keeps no logger of its own: it hands each line to a sink that the embedding
// program sets once at start-up (the service sends them to spdlog). Without a sink, warnings
// and errors go to stderr as "scopeflow: warn: ..." and info and debug lines are dropped.
//
//   scopeflow::set_log_sink([](scopeflow::LogLevel level, std::string_view line) {
//       my_logger.log(level, line);
//   });
//   scopeflow::log(scopeflow::LogLevel::warn, "file_sink 'out': recovered 2 leftover parts");
//
// Lines never hold secrets: callers log names and reasons, never option values. A storm of
// the same failure goes through a LogLimiter (log_limiter.h) first.
//
// Thread safety: log() and set_log_sink() may be called from any thread. A sink must be
// callable concurrently; the one replaced may still receive the lines already being logged.
#pragma once

#include <functional>
#include <string_view>

namespace scopeflow {

enum class LogLevel : unsigned char { debug, info, warn, error };

using LogSink = std::function<void(LogLevel level, std::string_view line)>;

// Replaces the sink; an empty function restores the default (warn and error to stderr).
void set_log_sink(LogSink sink);

void log(LogLevel level, std::string_view line);

[[nodiscard]] const char* to_string(LogLevel level) noexcept;

}  // namespace scopeflow
