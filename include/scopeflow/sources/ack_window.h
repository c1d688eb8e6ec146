// AckWindow: the events a source has handed out and not yet seen acked, in sequence order, and
// how far its progress may move.
//
// A source whose progress is one position (a byte offset, the last key) may move it past an
// event only once that event and every one before it is acked; acks arrive in any order, from
// any worker. AckWindow hands out consecutive sequences, remembers each event's position, and
// moves over the contiguous acked prefix. A nacked event stays in the window, so progress stops
// before it and the event is read again after a restart.
//
//   AckWindow<std::uint64_t> window;           // positions: byte offset after each line
//   const std::uint64_t seq = window.push(end_of_line);
//   ...
//   window.ack(seq, [&](std::uint64_t& end) { committed = end; });
//
// Thread safety: none; the source guards it with its lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <utility>

namespace scopeflow {

template <typename Position>
class AckWindow {
public:
    explicit AckWindow(std::uint64_t first_sequence = 0) noexcept
        : first_(first_sequence) {}

    // Adds the next event, whose progress ends at `end`; returns its sequence.
    std::uint64_t push(Position end) {
        slots_.push_back({std::move(end), false});
        return first_ + slots_.size() - 1;
    }

    // Marks `sequence` acked, then moves over the contiguous acked prefix: `done(Position&)` is
    // called for each event that leaves the window, oldest first (the last call carries the new
    // progress). Returns false, and changes nothing, when the sequence is not in the window
    // (never handed out, or gone already).
    template <typename Done>
    bool ack(std::uint64_t sequence, Done&& done) {
        if (!contains(sequence)) {
            return false;
        }
        slots_[sequence - first_].acked = true;
        while (!slots_.empty() && slots_.front().acked) {
            done(slots_.front().end);
            slots_.pop_front();
            ++first_;
        }
        return true;
    }

    // A nacked event stays unacked, so progress stops before it for good. Returns whether the
    // sequence is in the window (then the caller counts the nack).
    bool nack(std::uint64_t sequence) const noexcept { return contains(sequence); }

    [[nodiscard]] bool contains(std::uint64_t sequence) const noexcept {
        return sequence >= first_ && sequence - first_ < slots_.size();
    }
    [[nodiscard]] bool empty() const noexcept { return slots_.empty(); }
    [[nodiscard]] std::size_t size() const noexcept { return slots_.size(); }
    // The sequence the next push() returns.
    [[nodiscard]] std::uint64_t next_sequence() const noexcept { return first_ + slots_.size(); }
    // The newest event's position, to move its end over what follows it without an event of its
    // own (a blank line). Requires !empty().
    [[nodiscard]] Position& back() noexcept { return slots_.back().end; }

private:
    struct Slot {
        Position end;
        bool acked;
    };
    std::uint64_t first_;  // sequence of slots_.front()
    std::deque<Slot> slots_;
};

}  // namespace scopeflow
