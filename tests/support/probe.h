// Probe: a resource whose close() logs "close <name>" (and may throw) into a thread-safe
// EventLog, for tests of release order; and count_open_fds() for descriptor-leak checks.
//
//   testing::EventLog log;
//   scope.adopt({"a"}, testing::Probe(log, "a"));
//   scope.close();
//   EXPECT_EQ(log.events(), std::vector<std::string>{"close a"});
#pragma once

#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <dirent.h>

namespace scopeflow::testing {

// A thread-safe event log.
class EventLog {
public:
    void add(std::string s) {
        std::lock_guard lock(mu_);
        events_.push_back(std::move(s));
    }
    std::vector<std::string> events() const {
        std::lock_guard lock(mu_);
        return events_;
    }

private:
    mutable std::mutex mu_;
    std::vector<std::string> events_;
};

// A resource whose close() logs "close <name>" and optionally throws.
class Probe {
public:
    Probe(EventLog& log, std::string name, bool throw_on_close = false)
        : log_(&log),
          name_(std::move(name)),
          throw_on_close_(throw_on_close) {}
    Probe(Probe&& other) noexcept
        : log_(std::exchange(other.log_, nullptr)),
          name_(std::move(other.name_)),
          throw_on_close_(other.throw_on_close_) {}
    Probe(const Probe&) = delete;
    Probe& operator=(const Probe&) = delete;
    Probe& operator=(Probe&&) = delete;
    ~Probe() = default;

    void close() {
        if (log_ == nullptr) {
            return;
        }
        log_->add("close " + name_);
        log_ = nullptr;
        if (throw_on_close_) {
            throw std::runtime_error(name_ + " close failed");
        }
    }
    const std::string& name() const { return name_; }

private:
    EventLog* log_;
    std::string name_;
    bool throw_on_close_;
};

// Open descriptors of this process, from /proc/self/fd (excluding the one used to list it).
inline int count_open_fds() {
    DIR* dir = ::opendir("/proc/self/fd");
    if (dir == nullptr) {
        return -1;
    }
    int n = 0;
    while (const dirent* e = ::readdir(dir)) {
        if (e->d_name[0] != '.') {
            ++n;
        }
    }
    ::closedir(dir);
    return n - 1;
}

}  // namespace scopeflow::testing
