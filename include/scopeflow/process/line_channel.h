// LineChannel: one line at a time over a pair of pipes, every wait with a deadline.
//
// The usual way to talk to an out-of-process stage: write a request line to the child's stdin,
// read a reply line from its stdout. read_line() buffers partial reads, so a line that arrives
// in pieces comes out whole, and waits with poll() at most its timeout.
//
//   auto& child = scope.adopt({"tagger", ResourceKind::process},
//                             ChildProcess::spawn({.argv = {"tagger", "--lines"}}));
//   LineChannel io{child};
//   io.write_line(R"({"id": 1})", 1s);
//   if (std::optional<std::string> reply = io.read_line(5s)) {
//       ...
//   } else if (io.eof()) {
//       // the child closed its stdout: it exited or crashed; child.wait() says which
//   } else {
//       // no reply within 5 s
//   }
//
// The channel borrows the two UniqueFd objects (a ChildProcess's stdin_fd() and stdout_fd()):
// they must stay where they are while the channel is used. A ChildProcess adopted by a scope
// does; a local one must not be moved. The channel notices when they are closed (close_stdin()):
// writes then throw. It puts both descriptors in non-blocking mode.
//
// Writing to a reader that has gone raises no SIGPIPE: the signal is blocked in the calling
// thread for the write, the one the write raised is consumed, and write_line() throws.
//
// Thread safety: reading and writing touch separate state, so one thread may read while another
// writes; two readers (or two writers) at once are not allowed.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <scopeflow/core/unique_fd.h>

namespace scopeflow {

class ChildProcess;

struct LineChannelOptions {
    std::size_t max_line = std::size_t{1} << 20U;  // longer lines throw: a runaway child's guard
};

class LineChannel {
public:
    // Writes go to `write_end`, reads come from `read_end`; either may be invalid (that side
    // then throws when used).
    LineChannel(UniqueFd& write_end, UniqueFd& read_end, LineChannelOptions options = {});
    // The child's stdin and stdout.
    explicit LineChannel(ChildProcess& child, LineChannelOptions options = {});
    LineChannel(LineChannel&&) noexcept = default;
    LineChannel& operator=(LineChannel&&) noexcept = default;
    LineChannel(const LineChannel&) = delete;
    LineChannel& operator=(const LineChannel&) = delete;
    ~LineChannel() = default;

    // Writes `line` and a '\n', all of it, waiting up to `timeout` for the reader to make room.
    // Throws TransientError when the reader has gone (EPIPE) or the time ran out (part of the
    // line may have been written then: the stream is out of step, replace the child), Error if
    // `line` contains '\n' or the write end is closed.
    void write_line(std::string_view line, std::chrono::milliseconds timeout);

    // The next line, without its '\n', waiting up to `timeout` (0: only what is already there;
    // milliseconds::max(): forever). nullopt: no whole line in time, or the end of the stream
    // (eof() tells which). At the end, an unterminated last line is returned as a line. Throws
    // Error if a line grows past max_line, the read end is closed, or read() fails.
    std::optional<std::string> read_line(std::chrono::milliseconds timeout);

    // True once the writer closed its end and every buffered line has been returned.
    [[nodiscard]] bool eof() const noexcept { return eof_ && buffer_.size() == begin_; }
    // Bytes received but not yet returned as a line.
    [[nodiscard]] std::size_t buffered() const noexcept { return buffer_.size() - begin_; }

private:
    std::optional<std::string> take_line();
    bool fill();  // one read(); false when nothing was there yet (EAGAIN)

    UniqueFd* write_end_;
    UniqueFd* read_end_;
    LineChannelOptions options_;
    std::string buffer_;  // received bytes; [begin_, size) not yet returned
    std::size_t begin_ = 0;
    std::size_t scanned_ = 0;  // no '\n' in [begin_, scanned_)
    bool eof_ = false;         // read() returned 0
};

}  // namespace scopeflow
