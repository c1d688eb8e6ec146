// BufferedWriter: buffered appends to an OpenFile, flushed on close, with flush errors surfaced
// and never silently lost.
//
//   scopeflow::BufferedWriter out(files.open(stage_scope, path, O_WRONLY | O_CREAT | O_TRUNC));
//   out.append(line);
//   out.append("\n");
//   out.close();          // flush (+ fsync if asked), close; throws Error naming the path
//
// Behaviour:
// - append() copies into the buffer and writes it to the file when it reaches buffer_bytes;
//   a write error throws Error naming the path and the errno text, and the unwritten bytes stay
//   buffered (a later flush() may retry them).
// - close() flushes, fsyncs when fsync_on_close is set, and closes the file; the file is closed
//   and its budget slot given back even when the flush fails, and then the flush error is thrown.
//   Idempotent.
// - The destructor of a writer not closed does the same without throwing; a failure (bytes
//   lost) is reported to the owner scope's monitor as a close_error naming the file.
// - discard() drops the buffered bytes and closes quietly (for output being thrown away).
//
// Reuses UniqueFd::write_all (short writes, EINTR). RotatingFileWriter (rotating_file_writer.h)
// is the size-rotated, rename-on-completion variant for sinks.
//
// Thread safety: none; one writer per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <scopeflow/budget/open_file.h>

namespace scopeflow {

// Used with designated initializers: {.buffer_bytes = 1 << 20, .fsync_on_close = true}.
struct BufferedWriterOptions {
    std::size_t buffer_bytes = 64 << 10;  // written to the file when the buffer reaches this
    bool fsync_on_close = false;          // fsync before closing: data survives power loss
};

class BufferedWriter {
public:
    explicit BufferedWriter(OpenFile file, BufferedWriterOptions options = {});
    BufferedWriter(BufferedWriter&& other) noexcept;
    BufferedWriter& operator=(BufferedWriter&&) = delete;
    BufferedWriter(const BufferedWriter&) = delete;
    BufferedWriter& operator=(const BufferedWriter&) = delete;
    ~BufferedWriter();  // close() without throwing; failures go to the owner's monitor

    void append(std::string_view data);
    // Writes the buffer to the file (the kernel's page cache).
    void flush();
    // flush(), then fsync(2).
    void sync();
    // Flushes (and fsyncs per options), closes. Throws the first failure. Idempotent.
    void close();
    // Drops buffered bytes and closes without reporting. Idempotent.
    void discard() noexcept;

    [[nodiscard]] const OpenFile& file() const noexcept { return file_; }
    [[nodiscard]] const std::string& path() const noexcept { return file_.path(); }
    [[nodiscard]] int fd() const noexcept { return file_.fd(); }
    [[nodiscard]] bool closed() const noexcept { return closed_; }
    [[nodiscard]] std::size_t buffered() const noexcept { return buffer_.size(); }
    // Bytes handed to the kernel so far.
    [[nodiscard]] std::uint64_t bytes_written() const noexcept { return written_; }

private:
    OpenFile file_;
    BufferedWriterOptions options_;
    std::string buffer_;
    std::uint64_t written_ = 0;
    bool closed_ = false;
};

}  // namespace scopeflow
