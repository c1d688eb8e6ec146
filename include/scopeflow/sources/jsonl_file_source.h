// JsonlFileSource: reads JSON-object events, one per line, from a file, with committed offsets.
//
// Progress is the byte offset just past the highest *contiguous* acked line: an event acked out
// of order does not move it until everything before it is acked too, and a nacked event holds
// it back for good (a failed event must be re-read after a restart, not skipped). commit()
// writes it to `offset_path` atomically (temp file, fsync, rename); open() resumes from it.
// Delivery is at-least-once: after a crash, lines past the committed offset are read again.
// While running, progress is also committed every `commit_interval` by an acking worker; a
// periodic commit that fails for want of space or descriptors is retried at the next interval
// (degraded() says why meanwhile); any other failure stops the pipeline with an error naming the
// offset file, as does a failed final commit().
//
// A line that is not a JSON object becomes an event with only two fields, `_error`
// ("orders.jsonl:17 (byte 1234): expected a JSON object") and `_raw` (the line), marked
// `decode_failed` so the pipeline sends it straight to the dead-letter stage: nothing is lost,
// and the place is named.
//
//   scopeflow::JsonlFileSource source({.path = "orders.jsonl"});
//   scopeflow::Pipeline p("orders", std::move(graph), source);
//   p.run(service);             // commits the offset when the pipeline drains
//
// Thread safety: as Source. Lines are cut under a lock; parsing runs outside it, on the
// calling worker, with that thread's parser.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include <scopeflow/engine/source.h>
#include <scopeflow/sources/ack_window.h>

namespace scopeflow {

struct JsonlSourceOptions {
    std::string path;                  // the JSONL file to read
    std::string offset_path;           // committed progress; default: path + ".offset"
    bool resume = true;                // start at the committed offset when there is one
    std::size_t read_chunk = 1 << 20;  // bytes read from the file at a time
    // A longer line becomes a decode failure ("line of N bytes exceeds max_line_bytes").
    std::size_t max_line_bytes = 1 << 20;
    // While running, commit progress at most this often (from the acking worker, outside the
    // source's lock). Zero: after every acked batch. commit() at the end always runs.
    std::chrono::milliseconds commit_interval{1000};
};

class JsonlFileSource final : public Source {
public:
    explicit JsonlFileSource(JsonlSourceOptions options);
    ~JsonlFileSource() override;

    void open(Scope& scope) override;
    std::size_t read(std::span<Event> out, const std::stop_token& stop) override;
    void ack(std::uint64_t sequence) override;
    void ack_many(std::span<const std::uint64_t> sequences) override;
    void nack(std::uint64_t sequence, std::string_view reason) override;
    void commit() override;

    // Offset (bytes) up to which every line has been acked.
    [[nodiscard]] std::uint64_t acked_offset() const;
    [[nodiscard]] std::uint64_t start_offset() const;
    [[nodiscard]] std::uint64_t lines_read() const;
    [[nodiscard]] std::uint64_t decode_failures() const;
    [[nodiscard]] std::uint64_t nacked() const;
    // Why the last periodic commit failed (disk full, no descriptor); empty once one succeeds.
    [[nodiscard]] std::string degraded() const override;

private:
    struct Line {
        std::uint64_t sequence;
        std::uint64_t offset;  // of the line's first byte
        std::uint64_t number;  // 1-based, counted from the start offset
        std::string text;
    };

    bool next_line(Line& line);  // requires mu_
    void maybe_commit();
    void write_offset(std::uint64_t offset);       // requires commit_mu_
    void settle(std::uint64_t sequence, bool ok);  // requires mu_

    const JsonlSourceOptions options_;
    int fd_ = -1;  // owned by the scope given to open()
    mutable std::mutex mu_;
    std::string buffer_;                 // guarded by mu_: bytes read, not yet cut into lines
    std::size_t buffer_pos_ = 0;         // guarded by mu_
    std::uint64_t buffer_offset_ = 0;    // guarded by mu_: file offset of buffer_[0]
    bool eof_ = false;                   // guarded by mu_
    std::uint64_t line_number_ = 0;      // guarded by mu_
    std::uint64_t start_offset_ = 0;     // guarded by mu_
    std::uint64_t acked_offset_ = 0;     // guarded by mu_
    // guarded by mu_: lines handed out and not yet acked, each with the offset just past its
    // newline; sequences count from 0.
    AckWindow<std::uint64_t> pending_;
    std::uint64_t decode_failures_ = 0;  // guarded by mu_
    std::uint64_t nacked_ = 0;           // guarded by mu_
    std::string offset_path_;
    std::mutex commit_mu_;                                 // serializes offset file writes
    std::uint64_t committed_offset_ = 0;                   // guarded by commit_mu_
    std::chrono::steady_clock::time_point last_commit_{};  // guarded by commit_mu_
    mutable std::mutex degraded_mu_;
    std::string degraded_;  // guarded by degraded_mu_: why the last periodic commit failed
};

}  // namespace scopeflow
