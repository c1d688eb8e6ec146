#include "service/process_info.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <unistd.h>

namespace scopeflow::service {
namespace {

std::uint64_t count_entries(const std::filesystem::path& dir) {
    std::error_code ec;
    std::uint64_t n = 0;
    for (auto it = std::filesystem::directory_iterator(dir, ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
        ++n;
    }
    return n;
}

}  // namespace

ProcessInfo read_process_info() {
    ProcessInfo p;
    const auto fds = count_entries("/proc/self/fd");
    p.open_fds = fds > 0 ? fds - 1 : 0;  // the directory iterator's own fd
    {
        std::ifstream statm("/proc/self/statm");
        std::uint64_t size = 0;
        std::uint64_t resident = 0;
        if (statm >> size >> resident) {
            p.rss_bytes = resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
        }
    }
    {
        std::error_code ec;
        for (auto it = std::filesystem::directory_iterator("/proc/self/task", ec);
             !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
            ++p.threads;
            std::ifstream children(it->path() / "children");
            std::string pid;
            while (children >> pid) {
                ++p.children;
            }
        }
    }
    {
        std::ifstream stat("/proc/self/stat");
        std::string line;
        std::getline(stat, line);
        // Fields after the command (which may hold spaces) start after the last ')'.
        const auto close = line.rfind(')');
        if (close != std::string::npos) {
            std::istringstream rest(line.substr(close + 2));
            std::string field;
            unsigned long utime = 0;
            unsigned long stime = 0;
            for (int i = 3; i <= 15 && rest >> field; ++i) {
                if (i == 14) {
                    utime = std::stoul(field);
                } else if (i == 15) {
                    stime = std::stoul(field);
                }
            }
            p.cpu_seconds =
                static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
        }
    }
    return p;
}

}  // namespace scopeflow::service
