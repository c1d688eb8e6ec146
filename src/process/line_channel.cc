#include <array>
#include <cerrno>
#include <csignal>

#include <fcntl.h>
#include <poll.h>
#include <sys/uio.h>
#include <unistd.h>

#include <scopeflow/core/error.h>
#include <scopeflow/process/child_process.h>
#include <scopeflow/process/line_channel.h>

#include "process/deadline.h"

namespace scopeflow {
namespace {

constexpr std::size_t kReadChunk = std::size_t{16} * 1024;

void set_nonblocking(const UniqueFd& fd) {
    if (!fd) {
        return;
    }
    const int flags = ::fcntl(fd.get(), F_GETFL);
    if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) < 0) {
        throw Error("line channel: making fd " + std::to_string(fd.get()) +
                    " non-blocking: " + errno_text(errno));
    }
}

// Waits until `fd` is ready for `events` or the deadline passes; false on timeout.
bool wait_ready(int fd, short events, const detail::Deadline& deadline) {
    for (;;) {
        pollfd p{.fd = fd, .events = events, .revents = 0};
        const int r = ::poll(&p, 1, deadline.poll_timeout());
        if (r > 0) {
            return true;  // ready, or an error/hang-up the next read/write reports
        }
        if (r < 0 && errno != EINTR) {
            throw Error("line channel: poll: " + errno_text(errno));
        }
        if (r == 0 && deadline.expired()) {
            return false;
        }
    }
}

// Blocks SIGPIPE in this thread while alive. A write to a pipe without a reader raises SIGPIPE
// at the writing thread; blocked, it stays pending, and consume() takes it back so that it is
// never delivered. One that was pending before is left alone.
class SigpipeBlock {
public:
    SigpipeBlock() noexcept {
        sigemptyset(&pipe_);
        sigaddset(&pipe_, SIGPIPE);
        ::pthread_sigmask(SIG_BLOCK, &pipe_, &previous_);
        sigset_t pending;
        sigemptyset(&pending);
        ::sigpending(&pending);
        was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    }
    SigpipeBlock(const SigpipeBlock&) = delete;
    SigpipeBlock& operator=(const SigpipeBlock&) = delete;
    SigpipeBlock(SigpipeBlock&&) = delete;
    SigpipeBlock& operator=(SigpipeBlock&&) = delete;
    ~SigpipeBlock() { ::pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }

    void consume() noexcept {
        if (was_pending_) {
            return;
        }
        const timespec zero{};
        while (::sigtimedwait(&pipe_, nullptr, &zero) < 0 && errno == EINTR) {
        }
    }

private:
    sigset_t pipe_{};
    sigset_t previous_{};
    bool was_pending_ = false;
};

}  // namespace

LineChannel::LineChannel(UniqueFd& write_end, UniqueFd& read_end, LineChannelOptions options)
    : write_end_(&write_end),
      read_end_(&read_end),
      options_(options) {
    set_nonblocking(write_end);
    set_nonblocking(read_end);
}

LineChannel::LineChannel(ChildProcess& child, LineChannelOptions options)
    : LineChannel(child.stdin_fd(), child.stdout_fd(), options) {}

void LineChannel::write_line(std::string_view line, std::chrono::milliseconds timeout) {
    if (line.find('\n') != std::string_view::npos) {
        throw Error("line channel: the line to write contains '\\n'");
    }
    if (!*write_end_) {
        throw Error("line channel: the write end is closed");
    }
    const int fd = write_end_->get();
    const detail::Deadline deadline(timeout);
    char newline = '\n';
    std::array<iovec, 2> parts{
        {{.iov_base = const_cast<char*>(line.data()), .iov_len = line.size()},
         {.iov_base = &newline, .iov_len = 1}}};
    std::size_t first = line.empty() ? 1 : 0;
    const std::size_t total = line.size() + 1;
    std::size_t written = 0;
    SigpipeBlock no_sigpipe;
    while (first < 2) {
        const ssize_t n = ::writev(fd, parts.data() + first, static_cast<int>(2 - first));
        if (n >= 0) {
            auto left = static_cast<std::size_t>(n);
            written += left;
            while (first < 2 && left >= parts[first].iov_len) {
                left -= parts[first].iov_len;
                ++first;
            }
            if (first < 2) {
                parts[first].iov_base = static_cast<char*>(parts[first].iov_base) + left;
                parts[first].iov_len -= left;
            }
        } else if (errno == EAGAIN) {
            if (!wait_ready(fd, POLLOUT, deadline)) {
                throw TransientError("line channel: write timed out after " +
                                     std::to_string(timeout.count()) + "ms with " +
                                     std::to_string(written) + " of " + std::to_string(total) +
                                     " bytes written (the reader is not reading)");
            }
        } else if (errno == EPIPE) {
            no_sigpipe.consume();
            throw TransientError("line channel: the reader has closed its end (EPIPE)");
        } else if (errno != EINTR) {
            throw Error("line channel: write: " + errno_text(errno));
        }
    }
}

std::optional<std::string> LineChannel::read_line(std::chrono::milliseconds timeout) {
    const detail::Deadline deadline(timeout);
    for (;;) {
        if (std::optional<std::string> line = take_line()) {
            return line;
        }
        if (eof_) {
            if (buffer_.size() == begin_) {
                return std::nullopt;
            }
            std::string last = buffer_.substr(begin_);  // unterminated, but the stream ended
            buffer_.clear();
            begin_ = scanned_ = 0;
            return last;
        }
        if (buffered() > options_.max_line) {
            throw Error("line channel: a line longer than " + std::to_string(options_.max_line) +
                        " bytes");
        }
        if (!*read_end_) {
            throw Error("line channel: the read end is closed");
        }
        if (!fill() && !wait_ready(read_end_->get(), POLLIN, deadline)) {
            return std::nullopt;
        }
    }
}

std::optional<std::string> LineChannel::take_line() {
    const std::size_t newline = buffer_.find('\n', scanned_);
    if (newline == std::string::npos) {
        scanned_ = buffer_.size();
        return std::nullopt;
    }
    std::string line = buffer_.substr(begin_, newline - begin_);
    begin_ = scanned_ = newline + 1;
    if (begin_ == buffer_.size()) {
        buffer_.clear();
        begin_ = scanned_ = 0;
    }
    return line;
}

bool LineChannel::fill() {
    if (begin_ > 0) {  // drop returned lines before growing
        buffer_.erase(0, begin_);
        scanned_ -= begin_;
        begin_ = 0;
    }
    const std::size_t old_size = buffer_.size();
    buffer_.resize(old_size + kReadChunk);
    for (;;) {
        const ssize_t n = ::read(read_end_->get(), buffer_.data() + old_size, kReadChunk);
        if (n >= 0) {
            buffer_.resize(old_size + static_cast<std::size_t>(n));
            eof_ = n == 0;
            return true;
        }
        if (errno != EINTR) {
            const int error = errno;
            buffer_.resize(old_size);
            if (error == EAGAIN) {
                return false;
            }
            throw Error("line channel: read: " + errno_text(error));
        }
    }
}

}  // namespace scopeflow
