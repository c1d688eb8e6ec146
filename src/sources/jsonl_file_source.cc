#include <cerrno>
#include <charconv>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <scopeflow/core/error.h>
#include <scopeflow/core/files.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/core/unique_fd.h>
#include <scopeflow/event/event.h>
#include <scopeflow/event/event_json.h>
#include <scopeflow/sources/jsonl_file_source.h>

namespace scopeflow {
namespace {

// Reads a committed offset; nullopt when there is none.
std::optional<std::uint64_t> read_offset_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            return std::nullopt;
        }
        throw SystemError(errno, "open offset file '" + path + "'");
    }
    UniqueFd guard(fd);
    char buf[64];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
        throw SystemError(errno, "read offset file '" + path + "'");
    }
    std::uint64_t value = 0;
    const char* end = buf + n;
    while (end > buf && (end[-1] == '\n' || end[-1] == ' ')) {
        --end;
    }
    const auto [ptr, ec] = std::from_chars(buf, end, value);
    if (ec != std::errc() || ptr != end || end == buf) {
        throw ConfigError(path, "offset file does not hold a byte offset: '" +
                                    std::string(buf, static_cast<std::size_t>(n)) + "'");
    }
    return value;
}

}  // namespace

JsonlFileSource::JsonlFileSource(JsonlSourceOptions options)
    : options_(std::move(options)),
      offset_path_(options_.offset_path.empty() ? options_.path + ".offset"
                                                : options_.offset_path) {
    if (options_.path.empty()) {
        throw ConfigError("source.path", "a JSONL source needs a path");
    }
    if (options_.max_line_bytes == 0) {
        throw ConfigError("source.max_line_bytes", "must be at least 1 byte");
    }
    if (options_.read_chunk == 0) {
        throw ConfigError("source.read_chunk", "must be at least 1 byte");
    }
}

JsonlFileSource::~JsonlFileSource() = default;

void JsonlFileSource::open(Scope& scope) {
    const std::string& offset_path = offset_path_;
    auto& file = scope.open({options_.path, ResourceKind::file},
                            [&] { return UniqueFd::open(options_.path, O_RDONLY); });
    std::uint64_t start = 0;
    if (options_.resume) {
        start = read_offset_file(offset_path).value_or(0);
    }
    if (start > 0 && ::lseek(file.get(), static_cast<off_t>(start), SEEK_SET) < 0) {
        throw SystemError(errno, "seek '" + options_.path + "' to " + std::to_string(start));
    }
    std::lock_guard lock(mu_);
    fd_ = file.get();
    start_offset_ = start;
    acked_offset_ = start;
    buffer_offset_ = start;
}

bool JsonlFileSource::next_line(Line& line) {
    for (;;) {
        const std::size_t nl = buffer_.find('\n', buffer_pos_);
        if (nl != std::string::npos || (eof_ && buffer_pos_ < buffer_.size())) {
            const std::size_t end = nl == std::string::npos ? buffer_.size() : nl;
            std::size_t text_end = end;
            if (text_end > buffer_pos_ && buffer_[text_end - 1] == '\r') {
                --text_end;
            }
            line.offset = buffer_offset_ + buffer_pos_;
            line.number = ++line_number_;
            // Spare capacity for simdjson's padding lets read() parse without another copy.
            line.text.reserve(text_end - buffer_pos_ + kJsonPadding);
            line.text.assign(buffer_, buffer_pos_, text_end - buffer_pos_);
            const std::size_t next = nl == std::string::npos ? end : nl + 1;
            const std::uint64_t end_offset = buffer_offset_ + next;
            buffer_pos_ = next;
            if (line.text.empty()) {
                // Blank lines carry no event; progress passes them once what precedes is acked.
                if (pending_.empty()) {
                    acked_offset_ = end_offset;
                } else {
                    pending_.back() = end_offset;
                }
                continue;
            }
            line.sequence = pending_.push(end_offset);
            return true;
        }
        if (eof_) {
            return false;
        }
        // Compact, then read another chunk.
        buffer_.erase(0, buffer_pos_);
        buffer_offset_ += buffer_pos_;
        buffer_pos_ = 0;
        const std::size_t old = buffer_.size();
        buffer_.resize(old + options_.read_chunk);
        ssize_t n = 0;
        do {
            n = ::read(fd_, buffer_.data() + old, options_.read_chunk);
        } while (n < 0 && errno == EINTR);
        if (n < 0) {
            const int err = errno;
            buffer_.resize(old);
            throw TransientError("read '" + options_.path + "' at byte " +
                                 std::to_string(buffer_offset_ + old) + ": " + errno_text(err));
        }
        buffer_.resize(old + static_cast<std::size_t>(n));
        eof_ = n == 0;
    }
}

std::size_t JsonlFileSource::read(std::span<Event> out, const std::stop_token& stop) {
    thread_local std::vector<Line> lines;
    // Sized for any line: the limit is this source's max_line_bytes, checked below.
    thread_local EventParser parser({.max_event_bytes = std::size_t{0xFFFFFFFF}});
    if (stop.stop_requested()) {
        return 0;
    }
    if (lines.size() < out.size()) {
        lines.resize(out.size());
    }
    std::size_t n = 0;
    {
        std::lock_guard lock(mu_);
        if (fd_ < 0) {
            throw Error("JSONL source '" + options_.path + "' read before open");
        }
        while (n < out.size() && next_line(lines[n])) {
            ++n;
        }
    }
    std::uint64_t failures = 0;
    for (std::size_t i = 0; i < n; ++i) {
        Line& line = lines[i];
        Event& e = out[i];
        const ParseStatus status =
            line.text.size() > options_.max_line_bytes
                ? ParseStatus{.ok = false,
                              .message = "line of " + std::to_string(line.text.size()) +
                                         " bytes exceeds max_line_bytes (" +
                                         std::to_string(options_.max_line_bytes) + ")"}
                : parser.parse_padded(line.text, e);
        e.meta().sequence = line.sequence;
        if (!status) {
            ++failures;
            e.clear();
            e.meta().sequence = line.sequence;
            e.meta().decode_failed = true;
            e.set("_error", Value(options_.path + ":" + std::to_string(line.number) + " (byte " +
                                  std::to_string(line.offset) + "): " + status.message));
            e.set("_raw", Value(std::move(line.text)));
            line.text = std::string();
        }
    }
    if (failures > 0) {
        std::lock_guard lock(mu_);
        decode_failures_ += failures;
    }
    return n;
}

void JsonlFileSource::settle(std::uint64_t sequence, bool ok) {
    // Progress moves over the contiguous acked prefix; a nacked line stops it (re-read on
    // restart).
    if (ok) {
        pending_.ack(sequence, [this](std::uint64_t end) { acked_offset_ = end; });
    } else if (pending_.nack(sequence)) {
        ++nacked_;
    }
}

void JsonlFileSource::ack(std::uint64_t sequence) {
    std::lock_guard lock(mu_);
    settle(sequence, true);
}

void JsonlFileSource::ack_many(std::span<const std::uint64_t> sequences) {
    {
        std::lock_guard lock(mu_);
        for (const std::uint64_t s : sequences) {
            settle(s, true);
        }
    }
    maybe_commit();
}

void JsonlFileSource::maybe_commit() {
    std::unique_lock commit_lock(commit_mu_, std::try_to_lock);
    if (!commit_lock.owns_lock()) {
        return;  // another worker is committing; the next ack will catch up
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last_commit_ < options_.commit_interval) {
        return;
    }
    const std::uint64_t offset = acked_offset();
    if (offset == committed_offset_) {
        return;
    }
    last_commit_ = now;
    // A periodic commit that fails for want of space or descriptors only delays progress (the
    // acked lines stay acked; a crash now would re-read more): the source goes on, says why in
    // degraded(), and tries again at the next interval. The final commit() still throws.
    try {
        write_offset(offset);
        const std::lock_guard lock(degraded_mu_);
        degraded_.clear();
    } catch (const SystemError& e) {
        const int err = e.code().value();
        if (err != ENOSPC && err != EDQUOT && err != EMFILE && err != ENFILE) {
            throw;
        }
        const std::lock_guard lock(degraded_mu_);
        degraded_ = std::string("cannot commit progress: ") + e.what();
    }
}

std::string JsonlFileSource::degraded() const {
    const std::lock_guard lock(degraded_mu_);
    return degraded_;
}

void JsonlFileSource::nack(std::uint64_t sequence, std::string_view /*reason*/) {
    std::lock_guard lock(mu_);
    settle(sequence, false);
}

void JsonlFileSource::commit() {
    std::lock_guard commit_lock(commit_mu_);
    write_offset(acked_offset());
}

void JsonlFileSource::write_offset(std::uint64_t offset) {
    write_file_atomically(offset_path_, std::to_string(offset) + "\n");
    committed_offset_ = offset;
}

std::uint64_t JsonlFileSource::acked_offset() const {
    std::lock_guard lock(mu_);
    return acked_offset_;
}

std::uint64_t JsonlFileSource::start_offset() const {
    std::lock_guard lock(mu_);
    return start_offset_;
}

std::uint64_t JsonlFileSource::lines_read() const {
    std::lock_guard lock(mu_);
    return pending_.next_sequence();
}

std::uint64_t JsonlFileSource::decode_failures() const {
    std::lock_guard lock(mu_);
    return decode_failures_;
}

std::uint64_t JsonlFileSource::nacked() const {
    std::lock_guard lock(mu_);
    return nacked_;
}

}  // namespace scopeflow
