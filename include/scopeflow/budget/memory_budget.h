// MemoryBudget: a byte budget that buffers are acquired from and given back to.
//
//   scopeflow::MemoryBudget batches({.name = "batches", .capacity_bytes = 64 << 20});
//   {
//       scopeflow::Buffer buf = batches.allocate(task_scope, 1 << 20);  // waits FIFO if full
//       fill(buf.data(), buf.size());
//   }                                                                  // bytes given back here
//   scopeflow::MemoryReservation r = batches.acquire(task_scope, bytes);  // accounting only
//   scopeflow::MemoryBudgetStats s = batches.stats();  // capacity, used, peak, waits, timeouts
//
// Behaviour:
// - Requests are served strictly in arrival order: a large request queued first is not starved
//   by later small ones that would fit.
// - acquire() waits up to the timeout (options.acquire_timeout unless given) and throws
//   BudgetTimeoutError naming the budget and its usage; CancelledError when the owner scope is
//   stopped; ScopeClosedError when it is closing. A request larger than the whole capacity can
//   never be granted and throws Error at once.
// - Each reservation is recorded in the owner scope's ledger as buffer_bytes with its size, so
//   the ledger's live bytes per scope include it; one still held when its owner scope ends is
//   reported as a leak, naming the owner and the acquisition site.
//
// Thread safety: every MemoryBudget member may be called concurrently. Reservations and Buffers
// are move-only values for one thread at a time and may be released on any thread; they keep
// the budget's state alive, so they may outlive the MemoryBudget object.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <source_location>
#include <span>
#include <string>

#include <scopeflow/core/ticket.h>

namespace scopeflow {

class Scope;

namespace detail {
struct BudgetState;
}  // namespace detail

// Used with designated initializers: {.name = "batches", .capacity_bytes = 64 << 20}.
struct MemoryBudgetOptions {
    std::string name = "memory";                       // shown in errors, stats, ledger entries
    std::uint64_t capacity_bytes = 64ULL << 20;        // bytes reserved at once at most (>= 1)
    std::chrono::milliseconds acquire_timeout{5'000};  // acquire() waits at most this long
};

struct MemoryBudgetStats {
    std::string name;
    std::uint64_t capacity = 0;  // bytes
    std::uint64_t used = 0;      // bytes reserved now
    std::uint64_t peak = 0;      // most bytes reserved at once
    std::size_t waiting = 0;     // requests queued now
    std::uint64_t acquired = 0;  // requests granted
    std::uint64_t waits = 0;     // requests that had to queue
    std::uint64_t timeouts = 0;
    std::uint64_t cancelled = 0;  // requests ended by a stop request
};

// Bytes reserved from a MemoryBudget; given back when released or destroyed.
class [[nodiscard]] MemoryReservation {
public:
    MemoryReservation() noexcept = default;
    MemoryReservation(MemoryReservation&& other) noexcept;
    MemoryReservation& operator=(MemoryReservation&& other) noexcept;
    MemoryReservation(const MemoryReservation&) = delete;
    MemoryReservation& operator=(const MemoryReservation&) = delete;
    ~MemoryReservation() { release(); }

    // Gives the bytes back now. Idempotent.
    void release() noexcept;
    [[nodiscard]] std::uint64_t bytes() const noexcept { return bytes_; }
    [[nodiscard]] bool held() const noexcept { return state_ != nullptr; }
    explicit operator bool() const noexcept { return held(); }

private:
    friend class MemoryBudget;
    std::shared_ptr<detail::BudgetState> state_;
    Ticket ticket_;
    std::uint64_t bytes_ = 0;
};

// A heap block whose size is reserved from a MemoryBudget for as long as the block lives.
class [[nodiscard]] Buffer {
public:
    Buffer() noexcept = default;
    Buffer(Buffer&&) noexcept = default;
    Buffer& operator=(Buffer&& other) noexcept;
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
    ~Buffer() = default;  // frees the block, then gives the bytes back

    [[nodiscard]] std::byte* data() const noexcept { return data_.get(); }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] std::span<std::byte> span() const noexcept { return {data_.get(), size_}; }
    [[nodiscard]] const MemoryReservation& reservation() const noexcept { return reservation_; }
    // Frees the block and gives the bytes back now. Idempotent.
    void release() noexcept;

private:
    friend class MemoryBudget;
    MemoryReservation reservation_;  // declared first: destroyed after the block is freed
    std::unique_ptr<std::byte[]> data_;
    std::size_t size_ = 0;
};

class MemoryBudget {
public:
    // Throws ConfigError("memory_budget.<name>.capacity_bytes") when the capacity is 0.
    explicit MemoryBudget(MemoryBudgetOptions options);
    MemoryBudget(const MemoryBudget&) = delete;
    MemoryBudget& operator=(const MemoryBudget&) = delete;
    ~MemoryBudget();

    MemoryReservation acquire(Scope& owner,
                              std::uint64_t bytes,
                              std::source_location site = std::source_location::current());
    MemoryReservation acquire(Scope& owner,
                              std::uint64_t bytes,
                              std::chrono::milliseconds timeout,
                              std::source_location site = std::source_location::current());
    // The bytes if they fit now and nobody waits; an empty reservation otherwise.
    MemoryReservation try_acquire(Scope& owner,
                                  std::uint64_t bytes,
                                  std::source_location site = std::source_location::current());
    // acquire(), then an uninitialised block of that size.
    Buffer allocate(Scope& owner,
                    std::size_t bytes,
                    std::chrono::milliseconds timeout,
                    std::source_location site = std::source_location::current());
    Buffer allocate(Scope& owner,
                    std::size_t bytes,
                    std::source_location site = std::source_location::current());

    [[nodiscard]] const std::string& name() const noexcept;
    [[nodiscard]] MemoryBudgetStats stats() const;

private:
    void check_size(std::uint64_t bytes) const;
    MemoryReservation grant(Ticket ticket, std::uint64_t bytes) noexcept;

    std::shared_ptr<detail::BudgetState> state_;
};

}  // namespace scopeflow
