#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include <scopeflow/engine/log.h>
#include <scopeflow/engine/log_limiter.h>

namespace scopeflow {
namespace {

struct SinkSlot {
    std::mutex mu;
    std::shared_ptr<const LogSink> sink;  // guarded by mu; null: the default
};

SinkSlot& slot() {
    static auto* s = new SinkSlot();  // never destroyed: threads may log during exit
    return *s;
}

}  // namespace

void set_log_sink(LogSink sink) {
    auto next = sink ? std::make_shared<const LogSink>(std::move(sink)) : nullptr;
    std::lock_guard lock(slot().mu);
    slot().sink = std::move(next);
}

void log(LogLevel level, std::string_view line) {
    std::shared_ptr<const LogSink> sink;
    {
        std::lock_guard lock(slot().mu);
        sink = slot().sink;
    }
    if (sink) {
        (*sink)(level, line);
        return;
    }
    if (level >= LogLevel::warn) {
        const std::string text =
            std::string("scopeflow: ") + to_string(level) + ": " + std::string(line) + "\n";
        std::fwrite(text.data(), 1, text.size(), stderr);
    }
}

const char* to_string(LogLevel level) noexcept {
    switch (level) {
        case LogLevel::debug:
            return "debug";
        case LogLevel::info:
            return "info";
        case LogLevel::warn:
            return "warn";
        case LogLevel::error:
            return "error";
    }
    return "?";
}

std::uint64_t LogLimiter::hit(std::string_view key,
                              std::string_view detail,
                              Clock::time_point now) {
    std::lock_guard lock(mu_);
    auto it = keys_.find(key);
    if (it == keys_.end()) {
        keys_.emplace(std::string(key), State{.last_line = now});
        return 1;
    }
    State& s = it->second;
    if (now - s.last_line >= interval_) {
        const std::uint64_t n = s.held + 1;
        s.held = 0;
        s.last_line = now;
        return n;
    }
    ++s.held;
    s.last.assign(detail);
    owing_.store(true, std::memory_order_relaxed);
    return 0;
}

std::vector<LogLimiter::Owed> LogLimiter::due(Clock::time_point now, bool all) {
    std::vector<Owed> out;
    std::lock_guard lock(mu_);
    bool still_owing = false;
    for (auto& [key, s] : keys_) {
        if (s.held == 0) {
            continue;
        }
        if (!all && now - s.last_line < interval_) {
            still_owing = true;
            continue;
        }
        out.push_back({.key = key, .count = s.held, .last = std::move(s.last)});
        s.held = 0;
        s.last.clear();
        s.last_line = now;
    }
    owing_.store(still_owing, std::memory_order_relaxed);
    return out;
}

}  // namespace scopeflow
