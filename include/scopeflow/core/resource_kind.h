// ResourceKind: what sort of thing a ledger entry stands for.
//
// Kinds drive the live counts the monitor and metrics show ("3 connections, 12 files,
// 4 MiB of buffers"). `buffer_bytes` entries carry an amount in bytes; every other kind counts
// one per entry unless an amount is given.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace scopeflow {

enum class ResourceKind : unsigned char {
    connection,    // database/cache/HTTP connection or session
    file,          // open file handle
    socket,        // raw socket or listener
    thread,        // a thread that must be joined
    process,       // a child process that must be reaped
    buffer_bytes,  // memory, counted in bytes
    lock,          // a held mutex/lock
    semaphore,     // a held semaphore permit
    library,       // a dlopen handle
    timer,         // a timer or periodic task
    scope,         // a child scope (bookkeeping only)
    other,         // anything else, including plain deferred cleanups
};

inline constexpr std::size_t kResourceKindCount = 12;

inline constexpr std::array<std::string_view, kResourceKindCount> kResourceKindNames{
    "connection", "file",      "socket",  "thread", "process", "buffer_bytes",
    "lock",       "semaphore", "library", "timer",  "scope",   "other",
};

[[nodiscard]] constexpr std::string_view to_string(ResourceKind k) noexcept {
    return kResourceKindNames[static_cast<std::size_t>(k)];
}

[[nodiscard]] constexpr std::optional<ResourceKind> resource_kind_from_string(
    std::string_view s) noexcept {
    for (std::size_t i = 0; i < kResourceKindCount; ++i) {
        if (kResourceKindNames[i] == s) {
            return static_cast<ResourceKind>(i);
        }
    }
    return std::nullopt;
}

}  // namespace scopeflow
