// RotatingFileWriter: appends lines to files that appear atomically, one size-bounded part at a
// time.
//
// Each part is written as "<dir>/<prefix>-<n>.jsonl.tmp" and renamed to "<prefix>-<n>.jsonl"
// when it reaches max_bytes or the writer closes, so a reader never sees a half-written part.
// Existing parts are never overwritten: numbering starts after the highest index already in the
// directory (final or .tmp), so a restarted pipeline adds its parts after the previous run's.
// flush() hands buffered bytes to the kernel (and fsyncs under FsyncPolicy::always); a part is
// fsynced before its rename, and the directory after it, unless the policy is never.
//
// After a crash (SIGKILL, OOM kill, power loss) the part in progress stays behind as a .tmp
// holding flushed lines, which may have been acked. recover() publishes such leftovers: each is
// cut after its last complete line, fsynced and renamed to its final name (one holding no
// complete line is removed), then the directory is fsynced. Run it before any writer of those
// prefixes opens (the file sink does, when the stage opens).
//
// A full disk, an exhausted quota or no free descriptor throws TransientError: the writer stays
// consistent (a failed flush keeps exactly the unwritten bytes; a failed append did not take its
// line), so the caller may wait and call the same method again.
//
//   scopeflow::RotatingFileWriter w({.directory = "out", .prefix = "orders-w0"});
//   w.append(line);     // buffered
//   w.flush();          // after a batch, before acking it
//   w.close();          // last part renamed into place; may throw
//
// Thread safety: none; one writer per thread (the file sink keeps one per worker).
#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <scopeflow/core/unique_fd.h>

namespace scopeflow {

enum class FsyncPolicy : unsigned char {
    never,      // leave it to the kernel: fastest, loses recent data on power loss
    on_rotate,  // fsync each part before its rename (and at close)
    always,     // fsync on every flush: acked data survives power loss
};

struct RotatingFileOptions {
    std::string directory = ".";            // where parts are written (must exist)
    std::string prefix = "events";          // part names: <prefix>-<n>.jsonl
    std::uint64_t max_bytes = 64ULL << 20;  // rotate when a part reaches this size
    std::size_t buffer_bytes = 64 << 10;    // flush to the kernel when the buffer reaches this
    FsyncPolicy fsync = FsyncPolicy::on_rotate;
};

// What recover() did.
struct PartRecovery {
    std::uint64_t parts = 0;            // leftover parts published under their final names
    std::uint64_t empty_removed = 0;    // leftovers without one complete line, removed
    std::uint64_t lines = 0;            // complete lines published
    std::uint64_t bytes_truncated = 0;  // bytes of incomplete last lines cut off
};

class RotatingFileWriter {
public:
    // Publishes every leftover "<p>-<n>.jsonl.tmp" in `directory` whose part prefix <p> (the
    // writer's `prefix` option) `owns` accepts. Throws SystemError naming the file.
    template <std::predicate<std::string_view> Owns>
    static PartRecovery recover(const std::string& directory, Owns&& owns);
    // The leftovers of the writer with exactly this prefix.
    static PartRecovery recover(const std::string& directory, std::string_view prefix) {
        return recover(directory, [prefix](std::string_view p) { return p == prefix; });
    }

    explicit RotatingFileWriter(RotatingFileOptions options);
    RotatingFileWriter(RotatingFileWriter&&) noexcept;
    RotatingFileWriter& operator=(RotatingFileWriter&&) = delete;
    RotatingFileWriter(const RotatingFileWriter&) = delete;
    RotatingFileWriter& operator=(const RotatingFileWriter&) = delete;
    ~RotatingFileWriter();  // close() without throwing

    // Appends `line` and a newline. Rotates first if the part is full.
    void append(std::string_view line);
    void flush();
    // Flushes, fsyncs (per policy), renames the current part into place. Idempotent.
    void close();

    [[nodiscard]] std::uint64_t parts_completed() const noexcept { return parts_; }
    [[nodiscard]] std::uint64_t bytes_written() const noexcept { return total_bytes_; }

private:
    // Leftover parts in `directory`: path and part prefix, sorted by name.
    static std::vector<std::pair<std::string, std::string>> leftover_parts(
        const std::string& directory);
    // Publishes one leftover part; adds to `report`.
    static void publish_leftover(const std::string& path, PartRecovery& report);

    void open_part();
    [[nodiscard]] std::uint64_t first_free_index() const;
    void finish_part();
    std::string part_path(bool temporary) const;

    RotatingFileOptions options_;
    UniqueFd fd_;
    std::string buffer_;
    std::uint64_t part_index_ = 0;
    std::uint64_t part_bytes_ = 0;
    std::uint64_t total_bytes_ = 0;
    std::uint64_t parts_ = 0;
    bool numbered_ = false;  // part_index_ placed after the parts already in the directory
    bool closed_ = false;
};

template <std::predicate<std::string_view> Owns>
PartRecovery RotatingFileWriter::recover(const std::string& directory, Owns&& owns) {
    PartRecovery report;
    for (const auto& [path, prefix] : leftover_parts(directory)) {
        if (owns(std::string_view(prefix))) {
            publish_leftover(path, report);
        }
    }
    if (report.parts + report.empty_removed > 0) {
        UniqueFd::sync_directory(directory);
    }
    return report;
}

}  // namespace scopeflow
