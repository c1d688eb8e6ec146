// UniqueFd: the owner of one POSIX file descriptor.
//
// Move-only. close() is explicit and reports failure (EIO on close means data may be lost);
// the destructor closes quietly. Descriptors are opened with O_CLOEXEC so child processes never
// inherit them by accident.
//
//   scopeflow::UniqueFd fd = scopeflow::UniqueFd::open("/var/log/app.log", O_WRONLY | O_APPEND);
//   scope.adopt({"app.log", ResourceKind::file}, std::move(fd));
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace scopeflow {

class UniqueFd {
public:
    UniqueFd() noexcept = default;
    explicit UniqueFd(int fd) noexcept
        : fd_(fd) {}
    UniqueFd(UniqueFd&& other) noexcept
        : fd_(std::exchange(other.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept;
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd();

    // open(2) with O_CLOEXEC added; throws SystemError naming the path.
    static UniqueFd open(const std::string& path, int flags, unsigned mode = 0644);
    // pipe2(2) with O_CLOEXEC: {read end, write end}.
    static std::pair<UniqueFd, UniqueFd> pipe();

    // Writes all of `data`, retrying short writes and EINTR; throws SystemError whose
    // message starts with `what` (e.g. "write /var/log/app.log").
    void write_all(std::string_view data, const std::string& what) const;
    // fsync(2): the file's data and metadata reach the disk; throws SystemError whose
    // message starts with `what`.
    void sync(const std::string& what) const;
    // fsyncs the directory `path`, so the entries created, renamed or removed in it survive a
    // power loss (a rename is durable only then). Throws SystemError naming it.
    static void sync_directory(const std::string& path);

    // Closes the descriptor; throws SystemError if close(2) reports an error (the
    // descriptor is released either way). Idempotent.
    void close();

    [[nodiscard]] int get() const noexcept { return fd_; }
    [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
    explicit operator bool() const noexcept { return valid(); }
    // Gives up ownership without closing.
    [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }

private:
    int fd_ = -1;
};

}  // namespace scopeflow
