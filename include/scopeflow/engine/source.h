// Source: where a pipeline's events come from, and where their outcome goes back to.
//
// Workers call read() concurrently; each event carries a sequence number unique within the
// source. When every branch an event took has completed, the engine calls ack(sequence); if any
// branch failed (and no dead-letter stage took it), nack(sequence, reason). At-least-once
// delivery is the source's side of the contract: it must not consider an event done before its
// ack, and commit() persists progress up to what has been acked (a JSONL source stores the
// offset of the highest contiguous acked line, so a restart resumes without loss).
//
// Thread safety: read/ack/nack are called from every worker thread at once; open/commit from
// one thread, before and after all reads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>

namespace scopeflow {

class Event;
class Scope;

class Source {
public:
    Source() = default;
    Source(const Source&) = delete;
    Source& operator=(const Source&) = delete;
    virtual ~Source() = default;

    // Acquires what the source needs (files, sockets) into its scope. Called once.
    virtual void open(Scope& /*scope*/) {}

    // Fills out[0..n) with the next events (their old content is replaced; reuse keeps their
    // capacity) and returns n; 0 means the input is exhausted or `stop` was requested. May block
    // waiting for input, but must return promptly once `stop` is requested.
    virtual std::size_t read(std::span<Event> out, const std::stop_token& stop) = 0;

    virtual void ack(std::uint64_t sequence) = 0;
    virtual void nack(std::uint64_t sequence, std::string_view reason) = 0;
    // Acks a whole batch at once; the engine calls this for the acked events of each batch.
    // Override it to take a lock once per batch instead of once per event.
    virtual void ack_many(std::span<const std::uint64_t> sequences) {
        for (const std::uint64_t s : sequences) {
            ack(s);
        }
    }

    // Persists progress (offsets) after the pipeline drained. Called once, only on success.
    virtual void commit() {}

    // Why the source cannot make progress right now (e.g. its progress cannot be committed for
    // want of disk space); empty when it can. /readyz shows it. Called from any thread.
    [[nodiscard]] virtual std::string degraded() const { return {}; }
};

}  // namespace scopeflow
