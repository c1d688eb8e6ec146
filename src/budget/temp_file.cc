#include <cerrno>
#include <cstdlib>
#include <exception>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <scopeflow/budget/file_budget.h>
#include <scopeflow/budget/temp_file.h>
#include <scopeflow/core/error.h>
#include <scopeflow/core/files.h>
#include <scopeflow/core/resource_monitor.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/core/unique_fd.h>

#include "budget/open_fd.h"

namespace scopeflow {
namespace {

std::string default_directory() {
    const char* env = std::getenv("TMPDIR");
    return env != nullptr && *env != '\0' ? std::string(env) : std::string("/tmp");
}

}  // namespace

TempFile::TempFile(BufferedWriter writer, std::string path) noexcept
    : writer_(std::move(writer)),
      path_(std::move(path)) {}

TempFile::TempFile(TempFile&& other) noexcept
    : writer_(std::move(other.writer_)),
      path_(std::move(other.path_)),
      committed_(other.committed_),
      removed_(std::exchange(other.removed_, true)),
      durable_(other.durable_) {}

TempFile::~TempFile() {
    try {
        close();
    } catch (...) {
        writer_.file().monitor().report({.kind = ReportKind::close_error,
                                         .scope_path = writer_.file().owner_path(),
                                         .resource = path_,
                                         .resource_kind = ResourceKind::file,
                                         .site = {},
                                         .message = message_of(std::current_exception())});
    }
}

TempFile TempFile::create(Scope& owner, TempFileOptions options, std::source_location site) {
    const std::string dir =
        options.directory.empty() ? default_directory() : std::move(options.directory);
    std::string pattern = dir + "/" + options.prefix + "XXXXXX";
    FilePermit permit = options.budget != nullptr ? options.budget->reserve(owner, pattern, site)
                                                  : FilePermit::unbudgeted(owner, pattern, site);
    std::vector<char> name(pattern.begin(), pattern.end());
    name.push_back('\0');
    const int fd = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd < 0) {
        throw Error("temp file in '" + dir + "': " + errno_text(errno));
    }
    UniqueFd owned(fd);
    std::string path(name.data());
    try {
        TempFile file(BufferedWriter(OpenFile(std::move(owned), path, std::move(permit), owner),
                                     options.writer),
                      path);
        file.durable_ = options.durable;
        return file;
    } catch (...) {
        ::unlink(path.c_str());
        throw;
    }
}

void TempFile::commit(const std::string& final_path) {
    if (committed_) {
        throw Error("temp file '" + path_ + "': already committed");
    }
    if (removed_) {
        throw Error("temp file '" + path_ + "': commit after close");
    }
    if (durable_) {
        writer_.sync();
    }
    writer_.close();
    rename_file(path_, final_path, durable_);  // and fsyncs the directory when durable
    committed_ = true;
    path_ = final_path;
}

void TempFile::close() {
    if (committed_ || removed_) {
        return;
    }
    removed_ = true;
    writer_.discard();
    if (::unlink(path_.c_str()) != 0 && errno != ENOENT) {
        throw Error("temp file '" + path_ + "': remove failed: " + errno_text(errno));
    }
}

}  // namespace scopeflow
