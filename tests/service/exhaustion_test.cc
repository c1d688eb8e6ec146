// Resource exhaustion, through the real binary: the file sink on a full filesystem (a small
// tmpfs) and with no free file descriptor (RLIMIT_NOFILE lowered on the running process). The
// service must degrade (the sink waits, the source is held back, /readyz answers 503 naming the
// stage and the error) and recover when the resource comes back, losing and doubling nothing.
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "service/service_support.h"

namespace scopeflow::testing {
namespace {

using namespace std::chrono_literals;

std::string jsonl(int n) {
    return jsonl_ids(n, [](int) { return ",\"text\":\"some payload to fill the disk\""; });
}

// id -> copies over the published parts; every line must be a whole event.
std::map<long, int> published_ids(const std::filesystem::path& dir) {
    const std::vector<std::string> lines = published_lines(dir);
    for (const auto& line : lines) {
        EXPECT_TRUE(line.starts_with("{\"id\":") && line.ends_with("}")) << line;
    }
    return id_counts(lines);
}

// Polls /readyz until its body contains `text` (and the status is 503); false after `timeout`.
bool wait_not_ready(std::uint16_t port,
                    const std::string& text,
                    std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
        const auto [status, body] = http_get(port, "/readyz");
        if (status == 503 && body.find(text) != std::string::npos) {
            return true;
        }
        std::this_thread::sleep_for(20ms);
    }
    return false;
}

std::string sink_pipeline(const TempDir& d, const std::filesystem::path& out, int max_bytes) {
    return "service: {admin: '127.0.0.1:0', shutdown_timeout: 10s}\n"
           "source: {type: jsonl, path: " +
           (d / "in.jsonl").string() +
           "}\n"
           "graph:\n  workers: 2\n  batch_size: 64\n  stages:\n"
           "    sink: {type: file_sink, directory: " +
           out.string() + ", max_bytes: " + std::to_string(max_bytes) + "}\n";
}

// A tmpfs of `size` mounted at a fresh directory, unmounted at the end.
class SmallFilesystem {
public:
    SmallFilesystem(std::filesystem::path at, const std::string& size)
        : at_(std::move(at)) {
        std::filesystem::create_directories(at_);
        mounted_ = ::mount("tmpfs", at_.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
    }
    ~SmallFilesystem() {
        if (mounted_) {
            ::umount2(at_.c_str(), MNT_DETACH);
        }
    }
    SmallFilesystem(const SmallFilesystem&) = delete;
    SmallFilesystem& operator=(const SmallFilesystem&) = delete;
    [[nodiscard]] bool mounted() const { return mounted_; }
    bool resize(const std::string& size) {
        return ::mount("tmpfs", at_.c_str(), "tmpfs", MS_REMOUNT, ("size=" + size).c_str()) == 0;
    }

private:
    std::filesystem::path at_;
    bool mounted_ = false;
};

TEST(ExhaustionTest, FileSinkWaitsOnAFullDiskAndResumesWhenSpaceReturns) {
    TempDir d;
    SmallFilesystem fs(d / "out", "256k");
    if (!fs.mounted()) {
        GTEST_SKIP() << "mounting a tmpfs needs root (CAP_SYS_ADMIN); scripts/test runs as root";
    }
    constexpr int kEvents = 20'000;  // about 1.1 MB of output: four times the filesystem
    write_file(d / "in.jsonl", jsonl(kEvents));
    write_file(d / "p.yaml", sink_pipeline(d, d / "out", 64 * 1024));
    Service svc({"run", (d / "p.yaml").string()}, d / "log");
    const auto port = svc.admin_port();
    ASSERT_NE(port, 0) << svc.log();
    ASSERT_TRUE(wait_not_ready(port, "stage 'sink' degraded", 30s)) << svc.log();
    EXPECT_TRUE(wait_not_ready(port, "No space left on device", 1s));
    const auto [status, metrics] = http_get(port, "/metrics");
    EXPECT_NE(metrics.find("scopeflow_stage_degraded{pipeline=\"main\",stage=\"sink\"} 1"),
              std::string::npos)
        << metrics;
    // Space comes back (a consumer freed it): the sink writes on, the input is finished.
    ASSERT_TRUE(fs.resize("64m"));
    ASSERT_EQ(svc.wait(60s), 0) << svc.log();
    const auto ids = published_ids(d / "out");
    EXPECT_EQ(ids.size(), static_cast<std::size_t>(kEvents));
    for (const auto& [id, copies] : ids) {
        ASSERT_EQ(copies, 1) << "id " << id;
    }
    EXPECT_EQ(count_files_ending(d / "out", ".tmp"), 0U);
}

TEST(ExhaustionTest, FileSinkWaitsWithoutFreeDescriptorsAndResumesWhenTheyReturn) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    // The sanitizer runtimes need descriptors of their own (UBSan's memory checks open a pipe),
    // so a process left with none cannot run under them: they report a false error. The plain
    // build runs this test.
    GTEST_SKIP() << "a process without free descriptors cannot run under the sanitizers";
#endif
    TempDir d;
    std::filesystem::create_directories(d / "out");
    constexpr int kEvents = 400'000;
    write_file(d / "in.jsonl", jsonl(kEvents));
    write_file(d / "p.yaml", sink_pipeline(d, d / "out", 16 * 1024));  // a new part every ~300
    Service svc({"run", (d / "p.yaml").string()}, d / "log");
    const auto port = svc.admin_port();
    ASSERT_NE(port, 0) << svc.log();
    ASSERT_TRUE(svc.wait_for_log("running")) << svc.log();
    const pid_t pid = svc.pid();
    // No descriptor number is free below the limit (0-2 are always open): every open fails,
    // including the next part's (a rotation closes the old part first, so a limit at the count
    // of open descriptors would let the new part reuse the old one's number).
    rlimit old{};
    ASSERT_EQ(::prlimit(pid, RLIMIT_NOFILE, nullptr, &old), 0);
    const rlimit tight{.rlim_cur = 3, .rlim_max = old.rlim_max};
    ASSERT_EQ(::prlimit(pid, RLIMIT_NOFILE, &tight, nullptr), 0);
    // The admin endpoint needs a descriptor per connection too, so the log tells: the sink
    // reports that it waits, and no part is opened meanwhile.
    ASSERT_TRUE(svc.wait_for_log("stage 'sink' degraded", 30s)) << svc.log();
    EXPECT_NE(svc.log().find("Too many open files"), std::string::npos) << svc.log();
    const auto count_parts = [&] {
        std::size_t n = 0;
        for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(d / "out")) {
            ++n;
        }
        return n;
    };
    const std::size_t parts_while_tight = count_parts();
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(count_parts(), parts_while_tight) << "parts were opened without a free descriptor";
    ASSERT_EQ(::prlimit(pid, RLIMIT_NOFILE, &old, nullptr), 0);
    ASSERT_EQ(svc.wait(120s), 0) << svc.log();
    const auto ids = published_ids(d / "out");
    EXPECT_EQ(ids.size(), static_cast<std::size_t>(kEvents));
    for (const auto& [id, copies] : ids) {
        ASSERT_EQ(copies, 1) << "id " << id;
    }
    EXPECT_EQ(count_files_ending(d / "out", ".tmp"), 0U);
}

}  // namespace
}  // namespace scopeflow::testing
