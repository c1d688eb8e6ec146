// StreamSource: JSON objects, one per line, from a stream that cannot be re-read: stdin, a
// pipe, a socket (the service's `stdin` source).
//
//   StreamSource source({.fd = STDIN_FILENO, .name = "stdin"});
//   // producer | scopeflow run pipeline.yaml
//
// The input ends at end of stream (the pipeline then drains and finishes). read() waits for
// input with poll() and returns promptly once stop is requested. A line that is not a JSON
// object becomes an event with `_error` ("stdin:17: expected a JSON object") and `_raw`, marked
// decode_failed, so it goes to the dead-letter stage. A stream has no offsets: an event that is
// nacked cannot be offered again, so it is only counted (nacked(), and the pipeline's nacked
// figure); give such pipelines a dead-letter stage. The descriptor is not closed by the source.
//
// Thread safety: as Source; lines are cut and parsed under one lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include <scopeflow/event/event.h>
#include <scopeflow/event/event_json.h>
#include <scopeflow/engine/source.h>

namespace scopeflow {

struct StreamSourceOptions {
    int fd = 0;                            // read from this descriptor (0: stdin); not owned
    std::string name = "stdin";            // names the stream in `_error`
    std::size_t max_line_bytes = 1 << 20;  // longer lines become decode failures
};

class StreamSource final : public Source {
public:
    explicit StreamSource(StreamSourceOptions options = {});

    std::size_t read(std::span<Event> out, const std::stop_token& stop) override;
    void ack(std::uint64_t /*sequence*/) override { acked_.fetch_add(1); }
    void ack_many(std::span<const std::uint64_t> sequences) override {
        acked_.fetch_add(sequences.size());
    }
    void nack(std::uint64_t sequence, std::string_view reason) override;

    [[nodiscard]] std::uint64_t acked() const noexcept { return acked_.load(); }
    [[nodiscard]] std::uint64_t nacked() const noexcept { return nacked_.load(); }

private:
    // Next complete line (without its newline) into `line`; false at end of stream or stop.
    bool next_line(std::string& line, const std::stop_token& stop);

    const StreamSourceOptions options_;
    std::mutex mu_;
    std::string buffer_;          // guarded by mu_
    std::size_t consumed_ = 0;    // guarded by mu_: bytes of buffer_ already cut
    bool eof_ = false;            // guarded by mu_
    std::uint64_t line_no_ = 0;   // guarded by mu_
    std::uint64_t sequence_ = 0;  // guarded by mu_
    EventParser parser_;          // guarded by mu_
    std::atomic<std::uint64_t> acked_{0};
    std::atomic<std::uint64_t> nacked_{0};
};

}  // namespace scopeflow
