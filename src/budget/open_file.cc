#include <exception>
#include <utility>

#include <unistd.h>

#include <scopeflow/budget/open_file.h>
#include <scopeflow/core/error.h>
#include <scopeflow/core/resource_monitor.h>
#include <scopeflow/core/scope.h>

#include "budget/open_fd.h"

namespace scopeflow {

OpenFile::OpenFile(UniqueFd fd, std::string path, FilePermit permit, Scope& owner)
    : fd_(std::move(fd)),
      path_(std::move(path)),
      permit_(std::move(permit)),
      owner_path_(owner.path()),
      monitor_(&owner.monitor()) {}

OpenFile::OpenFile(UniqueFd fd, std::string path) noexcept
    : fd_(std::move(fd)),
      path_(std::move(path)) {}

OpenFile& OpenFile::operator=(OpenFile&& other) noexcept {
    if (this != &other) {
        fd_ = std::move(other.fd_);  // closes ours quietly
        permit_ = std::move(other.permit_);
        path_ = std::move(other.path_);
        owner_path_ = std::move(other.owner_path_);
        monitor_ = std::exchange(other.monitor_, nullptr);
    }
    return *this;
}

OpenFile::~OpenFile() {
    if (fd_.valid()) {
        // The descriptor is gone after close(2) even when it fails; nobody can rethrow here.
        ::close(fd_.release());
    }
    permit_.release();
}

OpenFile OpenFile::open(
    Scope& owner, const std::string& path, int flags, unsigned mode, std::source_location site) {
    FilePermit permit = FilePermit::unbudgeted(owner, path, site);
    UniqueFd fd = detail::open_fd(path, flags, mode);
    return OpenFile(std::move(fd), path, std::move(permit), owner);
}

void OpenFile::close() {
    std::exception_ptr failed;
    try {
        fd_.close();
    } catch (const SystemError& e) {
        failed = std::make_exception_ptr(Error("file '" + path_ + "': " + e.what()));
    }
    permit_.release();
    if (failed) {
        std::rethrow_exception(failed);
    }
}

ResourceMonitor& OpenFile::monitor() const noexcept {
    return monitor_ != nullptr ? *monitor_ : ResourceMonitor::global();
}

}  // namespace scopeflow
