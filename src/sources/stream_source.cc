#include <cerrno>

#include <poll.h>
#include <unistd.h>

#include <scopeflow/core/error.h>
#include <scopeflow/sources/stream_source.h>

namespace scopeflow {

StreamSource::StreamSource(StreamSourceOptions options)
    : options_(std::move(options)) {}

bool StreamSource::next_line(std::string& line, const std::stop_token& stop) {
    for (;;) {
        const auto nl = buffer_.find('\n', consumed_);
        if (nl != std::string::npos) {
            line.assign(buffer_, consumed_, nl - consumed_);
            consumed_ = nl + 1;
            return true;
        }
        if (eof_) {
            if (consumed_ < buffer_.size()) {  // a last line without a newline
                line.assign(buffer_, consumed_, std::string::npos);
                consumed_ = buffer_.size();
                return true;
            }
            return false;
        }
        if (stop.stop_requested()) {
            return false;
        }
        if (consumed_ > 0) {  // keep only the unfinished line
            buffer_.erase(0, consumed_);
            consumed_ = 0;
        }
        pollfd p{.fd = options_.fd, .events = POLLIN, .revents = 0};
        const int ready = ::poll(&p, 1, 100);  // wake up to look at stop
        if (ready < 0 && errno != EINTR) {
            throw SystemError(errno, "poll " + options_.name);
        }
        if (ready <= 0) {
            continue;
        }
        char chunk[64 * 1024];
        const ssize_t n = ::read(options_.fd, chunk, sizeof chunk);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            throw SystemError(errno, "read " + options_.name);
        }
        if (n == 0) {
            eof_ = true;
            continue;
        }
        buffer_.append(chunk, static_cast<std::size_t>(n));
    }
}

std::size_t StreamSource::read(std::span<Event> out, const std::stop_token& stop) {
    std::lock_guard lock(mu_);
    std::size_t n = 0;
    std::string line;
    while (n < out.size()) {
        // Block only for the first event of a batch; hand over what is there after that.
        if (n > 0 && buffer_.find('\n', consumed_) == std::string::npos && !eof_) {
            break;
        }
        if (!next_line(line, stop)) {
            break;
        }
        ++line_no_;
        if (line.find_first_not_of(" \t\r") == std::string::npos) {
            continue;
        }
        Event& e = out[n];
        ParseStatus st;
        if (line.size() > options_.max_line_bytes) {
            st = {false, "line longer than " + std::to_string(options_.max_line_bytes) + " bytes"};
        } else {
            st = parser_.parse(line, e);
        }
        if (!st) {
            e.clear();
            e.meta().decode_failed = true;
            e.set("_error",
                  Value(options_.name + ":" + std::to_string(line_no_) + ": " + st.message));
            e.set("_raw", Value(line.substr(0, 4096)));
        }
        e.meta().sequence = ++sequence_;
        ++n;
    }
    return n;
}

void StreamSource::nack(std::uint64_t /*sequence*/, std::string_view /*reason*/) {
    nacked_.fetch_add(1);  // a stream cannot offer it again: counted (and in the pipeline stats)
}

}  // namespace scopeflow
