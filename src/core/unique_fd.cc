#include <cerrno>

#include <fcntl.h>
#include <unistd.h>

#include <scopeflow/core/error.h>
#include <scopeflow/core/unique_fd.h>

namespace scopeflow {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

UniqueFd::~UniqueFd() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

UniqueFd UniqueFd::open(const std::string& path, int flags, unsigned mode) {
    const int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    if (fd < 0) {
        throw SystemError(errno, "open '" + path + "'");
    }
    return UniqueFd(fd);
}

std::pair<UniqueFd, UniqueFd> UniqueFd::pipe() {
    int fds[2] = {-1, -1};
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        throw SystemError(errno, "pipe2");
    }
    return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

void UniqueFd::write_all(std::string_view data, const std::string& what) const {
    while (!data.empty()) {
        const ssize_t n = ::write(fd_, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw SystemError(errno, what);
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

void UniqueFd::sync(const std::string& what) const {
    if (::fsync(fd_) != 0) {
        throw SystemError(errno, what);
    }
}

void UniqueFd::sync_directory(const std::string& path) {
    UniqueFd dir = open(path.empty() ? std::string(".") : path, O_RDONLY | O_DIRECTORY);
    dir.sync("fsync directory '" + path + "'");
    dir.close();
}

void UniqueFd::close() {
    const int fd = std::exchange(fd_, -1);
    // Linux releases the descriptor even when close() fails, so it is never retried.
    if (fd >= 0 && ::close(fd) != 0 && errno != EINTR) {
        throw SystemError(errno, "close fd " + std::to_string(fd));
    }
}

}  // namespace scopeflow
