// The service's logs: spdlog on stderr, plain text or one JSON object per line.
//
//   init_logging("json", "info");
//   spdlog::info("pipeline '{}' started", name);
//   // {"ts":"2026-11-22T02:30:00.123Z","level":"info","msg":"pipeline 'main' started"}
//
// In JSON mode the message is escaped, so any text (paths, errors from servers) stays one valid
// JSON line. Secrets never reach a log line: they are never put into messages (see secret.h).
#pragma once

#include <string>

namespace scopeflow::service {

// format: "plain" or "json"; level: trace, debug, info, warn, error.
void init_logging(const std::string& format, const std::string& level);

}  // namespace scopeflow::service
