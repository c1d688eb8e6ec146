#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <scopeflow/core/error.h>
#include <scopeflow/core/files.h>
#include <scopeflow/core/scope_guard.h>

namespace scopeflow {
namespace {

UniqueFd open_directory(const std::string& dir) {
    return UniqueFd::open(dir, O_RDONLY | O_DIRECTORY);
}

// rename(2), then fsync of the directory when `dir` is open.
void rename_into(UniqueFd& dir, const std::string& from, const std::string& to) {
    if (::rename(from.c_str(), to.c_str()) != 0) {
        throw SystemError(errno, "rename '" + from + "' to '" + to + "'");
    }
    if (dir) {
        dir.sync("fsync directory '" + directory_of(to) + "'");
        dir.close();
    }
}

}  // namespace

std::string directory_of(const std::string& path) {
    const auto slash = path.find_last_of('/');
    if (slash == std::string::npos) {
        return ".";
    }
    return slash == 0 ? "/" : path.substr(0, slash);
}

void write_file_atomically(const std::string& path, std::string_view content) {
    const std::string tmp = path + ".tmp";
    UniqueFd file = UniqueFd::open(tmp, O_WRONLY | O_CREAT | O_TRUNC);
    auto remove_tmp = ScopeGuard([&tmp] { ::unlink(tmp.c_str()); });
    file.write_all(content, "write '" + tmp + "'");
    publish_file(file, tmp, path, true);
    remove_tmp.cancel();
}

void publish_file(UniqueFd& file, const std::string& from, const std::string& to, bool durable) {
    UniqueFd dir = durable ? open_directory(directory_of(to)) : UniqueFd();
    if (durable) {
        file.sync("fsync '" + from + "'");
    }
    file.close();
    rename_into(dir, from, to);
}

void rename_file(const std::string& from, const std::string& to, bool durable) {
    UniqueFd dir = durable ? open_directory(directory_of(to)) : UniqueFd();
    rename_into(dir, from, to);
}

std::vector<std::string> list_files(const std::string& directory) {
    std::vector<std::string> names;
    std::error_code ec;
    std::filesystem::directory_iterator it(directory, ec);
    for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
        std::error_code type_ec;
        if (it->is_regular_file(type_ec)) {
            names.push_back(it->path().filename().string());
        }
    }
    if (ec) {
        throw SystemError(ec.value(), "list directory '" + directory + "'");
    }
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace scopeflow
