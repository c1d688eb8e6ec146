#include <cerrno>
#include <exception>
#include <utility>

#include <unistd.h>

#include <scopeflow/budget/buffered_writer.h>
#include <scopeflow/core/error.h>
#include <scopeflow/core/resource_monitor.h>

#include "budget/open_fd.h"

namespace scopeflow {

BufferedWriter::BufferedWriter(OpenFile file, BufferedWriterOptions options)
    : file_(std::move(file)),
      options_(options) {
    buffer_.reserve(options_.buffer_bytes);
}

BufferedWriter::BufferedWriter(BufferedWriter&& other) noexcept
    : file_(std::move(other.file_)),
      options_(other.options_),
      buffer_(std::move(other.buffer_)),
      written_(other.written_),
      closed_(std::exchange(other.closed_, true)) {}

BufferedWriter::~BufferedWriter() {
    if (closed_) {
        return;
    }
    const std::size_t pending = buffer_.size();
    try {
        close();
    } catch (...) {
        file_.monitor().report({.kind = ReportKind::close_error,
                                .scope_path = file_.owner_path(),
                                .resource = file_.path(),
                                .resource_kind = ResourceKind::file,
                                .site = {},
                                .message = "buffered writer destroyed without close(): " +
                                           message_of(std::current_exception()) + " (" +
                                           std::to_string(pending) + " buffered bytes)"});
    }
}

void BufferedWriter::append(std::string_view data) {
    if (closed_) {
        throw Error("file '" + file_.path() + "': append after close");
    }
    if (buffer_.size() + data.size() > options_.buffer_bytes) {
        flush();
        if (data.size() >= options_.buffer_bytes) {  // too big to buffer: straight through
            buffer_.assign(data);
            flush();
            return;
        }
    }
    buffer_.append(data);
}

void BufferedWriter::flush() {
    // Not UniqueFd::write_all: after a failure the bytes not yet written must stay buffered,
    // exactly, so a retry neither loses nor repeats any.
    std::size_t done = 0;
    while (done < buffer_.size()) {
        const ssize_t n = ::write(file_.fd(), buffer_.data() + done, buffer_.size() - done);
        if (n < 0) {
            const int err = errno;
            if (err == EINTR) {
                continue;
            }
            buffer_.erase(0, done);
            written_ += done;
            throw Error("file '" + file_.path() + "': write of " + std::to_string(buffer_.size()) +
                        " buffered bytes failed: " + errno_text(err));
        }
        done += static_cast<std::size_t>(n);
    }
    written_ += done;
    buffer_.clear();
}

void BufferedWriter::sync() {
    flush();
    if (::fsync(file_.fd()) != 0) {
        throw Error("file '" + file_.path() + "': fsync failed: " + errno_text(errno));
    }
}

void BufferedWriter::close() {
    if (closed_) {
        return;
    }
    closed_ = true;
    std::exception_ptr first;
    try {
        if (options_.fsync_on_close) {
            sync();
        } else {
            flush();
        }
    } catch (...) {
        first = std::current_exception();
    }
    try {
        file_.close();
    } catch (...) {
        if (!first) {
            first = std::current_exception();
        }
    }
    if (first) {
        std::rethrow_exception(first);
    }
}

void BufferedWriter::discard() noexcept {
    closed_ = true;
    buffer_.clear();
    try {
        file_.close();
    } catch (...) {  // NOLINT(bugprone-empty-catch): the output is being thrown away
    }
}

}  // namespace scopeflow
