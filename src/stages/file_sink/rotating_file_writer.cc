#include <algorithm>
#include <cerrno>
#include <charconv>
#include <filesystem>
#include <optional>
#include <string_view>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <scopeflow/core/error.h>
#include <scopeflow/core/files.h>
#include <scopeflow/stages/rotating_file_writer.h>

namespace scopeflow {
namespace {

// Running out of space, quota or descriptors is a state the system recovers from (a consumer
// frees space, descriptors are closed): TransientError, so the caller may wait and retry.
void rethrow_if_exhausted(int err, const std::string& what) {
    if (err == ENOSPC || err == EDQUOT || err == EMFILE || err == ENFILE) {
        throw TransientError(what);
    }
}

}  // namespace

RotatingFileWriter::RotatingFileWriter(RotatingFileOptions options)
    : options_(std::move(options)) {
    buffer_.reserve(options_.buffer_bytes);
}

RotatingFileWriter::RotatingFileWriter(RotatingFileWriter&& other) noexcept
    : options_(std::move(other.options_)),
      fd_(std::move(other.fd_)),
      buffer_(std::move(other.buffer_)),
      part_index_(other.part_index_),
      part_bytes_(other.part_bytes_),
      total_bytes_(other.total_bytes_),
      parts_(other.parts_),
      numbered_(other.numbered_),
      closed_(std::exchange(other.closed_, true)) {}

RotatingFileWriter::~RotatingFileWriter() {
    try {
        close();
    } catch (...) {  // NOLINT(bugprone-empty-catch): close() reports to its caller; here nobody
    }
}

std::string RotatingFileWriter::part_path(bool temporary) const {
    std::string p =
        options_.directory + "/" + options_.prefix + "-" + std::to_string(part_index_) + ".jsonl";
    if (temporary) {
        p += ".tmp";
    }
    return p;
}

namespace {

constexpr std::string_view kTmpSuffix = ".jsonl.tmp";

// "<prefix>-<n>.jsonl.tmp" -> prefix; nullopt for any other name.
std::optional<std::string> leftover_prefix(std::string_view name) {
    if (!name.ends_with(kTmpSuffix)) {
        return std::nullopt;
    }
    name.remove_suffix(kTmpSuffix.size());
    const std::size_t dash = name.rfind('-');
    if (dash == std::string_view::npos || dash == 0 || dash + 1 == name.size()) {
        return std::nullopt;
    }
    for (const char c : name.substr(dash + 1)) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
    }
    return std::string(name.substr(0, dash));
}

}  // namespace

std::vector<std::pair<std::string, std::string>> RotatingFileWriter::leftover_parts(
    const std::string& directory) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const std::string& name : list_files(directory)) {
        if (auto prefix = leftover_prefix(name)) {
            out.emplace_back((std::filesystem::path(directory) / name).string(),
                             std::move(*prefix));
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

void RotatingFileWriter::publish_leftover(const std::string& path, PartRecovery& report) {
    // Every line up to the last newline was flushed whole by a writer before the crash, and may
    // have been acked; what follows it is a line that was being written: cut it off.
    UniqueFd fd = UniqueFd::open(path, O_RDWR);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        throw SystemError(errno, "stat " + path);
    }
    const auto size = static_cast<std::uint64_t>(st.st_size);
    std::uint64_t keep = 0;
    std::uint64_t lines = 0;
    std::string chunk(std::size_t{1} << 16, '\0');
    for (std::uint64_t at = 0; at < size;) {
        const ssize_t n = ::pread(fd.get(), chunk.data(), chunk.size(), static_cast<off_t>(at));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw SystemError(errno, "read " + path);
        }
        if (n == 0) {
            break;
        }
        for (ssize_t i = 0; i < n; ++i) {
            if (chunk[static_cast<std::size_t>(i)] == '\n') {
                keep = at + static_cast<std::uint64_t>(i) + 1;
                ++lines;
            }
        }
        at += static_cast<std::uint64_t>(n);
    }
    if (keep == 0) {
        fd.close();
        if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
            throw SystemError(errno, "remove " + path);
        }
        ++report.empty_removed;
        report.bytes_truncated += size;
        return;
    }
    if (keep < size && ::ftruncate(fd.get(), static_cast<off_t>(keep)) != 0) {
        throw SystemError(errno, "truncate " + path);
    }
    fd.sync("fsync " + path);
    fd.close();
    const std::string final_path = path.substr(0, path.size() - 4);  // without ".tmp"
    // link + unlink instead of rename: never replaces a published part of the same name.
    if (::link(path.c_str(), final_path.c_str()) != 0) {
        throw SystemError(errno, "publish " + path + " as " + final_path);
    }
    if (::unlink(path.c_str()) != 0) {
        throw SystemError(errno, "remove " + path);
    }
    ++report.parts;
    report.lines += lines;
    report.bytes_truncated += size - keep;
}

// The index after the highest part "<prefix>-<n>.jsonl[.tmp]" already in the directory.
std::uint64_t RotatingFileWriter::first_free_index() const {
    std::uint64_t next = 0;
    std::error_code ec;
    const std::string head = options_.prefix + "-";
    for (const auto& entry : std::filesystem::directory_iterator(options_.directory, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind(head, 0) != 0) {
            continue;
        }
        const char* first = name.data() + head.size();
        const char* last = name.data() + name.size();
        std::uint64_t n = 0;
        const auto [end, err] = std::from_chars(first, last, n);
        const std::string_view rest(end, static_cast<std::size_t>(last - end));
        if (err == std::errc() && end != first && (rest == ".jsonl" || rest == ".jsonl.tmp")) {
            next = std::max(next, n + 1);
        }
    }
    return next;
}

void RotatingFileWriter::open_part() {
    // Never overwrite: parts of an earlier run (or its unfinished .tmp, which may hold acked
    // lines after a crash) keep their names and this run continues after them.
    if (!numbered_) {
        part_index_ = first_free_index();
        numbered_ = true;
    }
    while (::access(part_path(false).c_str(), F_OK) == 0 ||
           ::access(part_path(true).c_str(), F_OK) == 0) {
        ++part_index_;
    }
    try {
        fd_ = UniqueFd::open(part_path(true), O_WRONLY | O_CREAT | O_EXCL);
    } catch (const SystemError& e) {
        rethrow_if_exhausted(e.code().value(), e.what());
        throw;
    }
    part_bytes_ = 0;
}

void RotatingFileWriter::append(std::string_view line) {
    if (closed_) {
        throw UsageError("append to a closed RotatingFileWriter");
    }
    if (!fd_) {
        open_part();
    } else if (part_bytes_ + buffer_.size() + line.size() + 1 > options_.max_bytes &&
               part_bytes_ + buffer_.size() > 0) {
        finish_part();
        ++part_index_;
        open_part();
    }
    buffer_.append(line);
    buffer_.push_back('\n');
    if (buffer_.size() >= options_.buffer_bytes) {
        flush();
    }
}

void RotatingFileWriter::flush() {
    // Bytes written leave the buffer as they go, so after a failed write (disk full) the part
    // holds a prefix of the buffer and a later flush() writes exactly the rest: no line is
    // written twice or cut.
    std::size_t done = 0;
    while (done < buffer_.size()) {
        const ssize_t n = ::write(fd_.get(), buffer_.data() + done, buffer_.size() - done);
        if (n < 0) {
            const int err = errno;
            if (err == EINTR) {
                continue;
            }
            buffer_.erase(0, done);
            part_bytes_ += done;
            total_bytes_ += done;
            const std::string what = "write " + part_path(true);
            rethrow_if_exhausted(err, what + ": " + errno_text(err));
            throw SystemError(err, what);
        }
        done += static_cast<std::size_t>(n);
    }
    part_bytes_ += done;
    total_bytes_ += done;
    buffer_.clear();
    if (options_.fsync == FsyncPolicy::always && fd_) {
        fd_.sync("fsync " + part_path(true));
    }
}

void RotatingFileWriter::finish_part() {
    flush();
    try {
        publish_file(fd_, part_path(true), part_path(false), options_.fsync != FsyncPolicy::never);
    } catch (const SystemError& e) {
        // Out of descriptors, publish_file throws before anything changed, with the part still
        // open: the caller may wait and finish it again.
        const int err = e.code().value();
        if (fd_ && (err == EMFILE || err == ENFILE)) {
            throw TransientError(e.what());
        }
        throw;
    }
    ++parts_;
}

void RotatingFileWriter::close() {
    if (closed_) {
        return;
    }
    closed_ = true;
    if (fd_) {
        finish_part();
    }
}

}  // namespace scopeflow
