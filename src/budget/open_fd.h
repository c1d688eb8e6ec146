// open(2) for the file budget: O_CLOEXEC always, errors as scopeflow errors naming the path.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>

#include <fcntl.h>

#include <scopeflow/core/error.h>
#include <scopeflow/core/unique_fd.h>

namespace scopeflow::detail {

inline std::string errno_text(int err) {
    char buf[256];
    // GNU strerror_r returns the message (maybe not in buf).
    return ::strerror_r(err, buf, sizeof buf);
}

// Throws TransientError when the process or system is out of descriptors (EMFILE, ENFILE):
// another try may succeed once some are closed; Error otherwise.
inline UniqueFd open_fd(const std::string& path, int flags, unsigned mode) {
    const int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    if (fd < 0) {
        const int err = errno;
        const std::string msg = "open '" + path + "': " + errno_text(err);
        if (err == EMFILE || err == ENFILE) {
            throw TransientError(msg);
        }
        throw Error(msg);
    }
    return UniqueFd(fd);
}

}  // namespace scopeflow::detail
