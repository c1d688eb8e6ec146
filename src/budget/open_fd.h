// open(2) for the file budget: O_CLOEXEC always, errors as scopeflow errors naming the path.
#pragma once

#include <cerrno>
#include <string>

#include <fcntl.h>

#include <scopeflow/core/error.h>
#include <scopeflow/core/unique_fd.h>

namespace scopeflow::detail {

// Throws TransientError when the process or system is out of descriptors (EMFILE, ENFILE):
// another try may succeed once some are closed; SystemError otherwise.
inline UniqueFd open_fd(const std::string& path, int flags, unsigned mode) {
    const int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    if (fd < 0) {
        const int err = errno;
        if (err == EMFILE || err == ENFILE) {
            throw TransientError("open '" + path + "': " + errno_text(err));
        }
        throw SystemError(err, "open '" + path + "'");
    }
    return UniqueFd(fd);
}

}  // namespace scopeflow::detail
