// Running the real scopeflow binary from tests: spawn it (stderr to a log file), find its admin
// port in the log, scrape its endpoints, signal it, wait for its exit code. Each test's files go
// in a testing::TempDir (support/temp_dir.h).
#pragma once

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <scopeflow/core/scope.h>
#include <scopeflow/http/session.h>
#include <scopeflow/process/child_process.h>

#include "support/temp_dir.h"

namespace scopeflow::testing {

// The binary, started with `args`; its stderr goes to `log`.
class Service {
public:
    Service(const std::vector<std::string>& args, std::filesystem::path log)
        : log_(std::move(log)) {
        std::string cmd = "exec '" + std::string(SCOPEFLOW_BIN) + "'";
        for (const auto& a : args) {
            cmd += " '" + a + "'";
        }
        cmd += " 2>'" + log_.string() + "' >>'" + log_.string() + ".out'";
        // The service is started as an operator would, with the whole environment.
        child_ = ChildProcess::spawn({.argv = {"/bin/sh", "-c", cmd},
                                      .inherit_environment = true,
                                      .pipe_stdin = false,
                                      .pipe_stdout = false,
                                      .terminate_grace = std::chrono::seconds(10)});
    }

    [[nodiscard]] std::string log() const { return read_file(log_); }

    // Waits until the log contains `text`; false after `timeout`.
    bool wait_for_log(const std::string& text,
                      std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
        const auto end = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < end) {
            if (log().find(text) != std::string::npos) {
                return true;
            }
            if (child_.try_wait()) {
                return log().find(text) != std::string::npos;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return false;
    }

    // The admin port announced in the log ("admin endpoint on http://127.0.0.1:PORT/").
    std::uint16_t admin_port() {
        if (!wait_for_log("admin endpoint on http://")) {
            return 0;
        }
        const std::string l = log();
        const auto at = l.find("admin endpoint on http://");
        const auto colon = l.find(':', at + 25);
        return static_cast<std::uint16_t>(std::stoi(l.substr(colon + 1)));
    }

    void signal(int sig) { child_.send_signal(sig); }
    // The service's process id (the shell execs it, so it is the child's).
    [[nodiscard]] pid_t pid() const { return child_.pid(); }

    // The exit code; -1 when it did not end within `timeout` (then it is killed).
    int wait(std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
        auto status = child_.wait_for(timeout);
        if (!status) {
            child_.send_signal(SIGKILL);
            status = child_.wait_for(std::chrono::seconds(5));
            return -1;
        }
        return status->exited_normally() ? status->exit_code : 128 + status->signal;
    }

private:
    std::filesystem::path log_;
    ChildProcess child_;
};

// n JSON lines {"id":1<rest>} ... {"id":n<rest>}, where rest(i) adds fields after the id
// (",\"price\":7").
template <typename Rest>
std::string jsonl_ids(int n, Rest rest) {
    std::string s;
    for (int i = 1; i <= n; ++i) {
        s += "{\"id\":" + std::to_string(i) + rest(i) + "}\n";
    }
    return s;
}

// Lines of every published part ("*.jsonl") in `dir`.
inline std::vector<std::string> published_lines(const std::filesystem::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        if (e.path().extension() != ".jsonl") {
            continue;
        }
        std::ifstream in(e.path(), std::ios::binary);
        std::string line;
        while (std::getline(in, line)) {
            out.push_back(line);
        }
    }
    return out;
}

// id -> how many of `lines` carry it, for lines holding an integer "id" field.
inline std::map<long, int> id_counts(const std::vector<std::string>& lines) {
    std::map<long, int> ids;
    for (const auto& line : lines) {
        if (const auto at = line.find("\"id\":"); at != std::string::npos) {
            ++ids[std::stol(line.substr(at + 5))];
        }
    }
    return ids;
}

// Files under `dir` (recursively) whose name ends with `suffix`, e.g. ".tmp".
inline std::size_t count_files_ending(const std::filesystem::path& dir, const std::string& suffix) {
    std::size_t n = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
        n += e.path().filename().string().ends_with(suffix) ? 1U : 0U;
    }
    return n;
}

// GET http://127.0.0.1:port/path -> {status, body}.
inline std::pair<int, std::string> http_get(std::uint16_t port, const std::string& path) {
    auto options = std::make_shared<http::ClientOptions>();
    options->name = "test";
    options->base_url = "http://127.0.0.1:" + std::to_string(port);
    try {
        http::Session session = http::Session::open(options);
        http::Request request;
        request.method = "GET";
        request.target = path;
        const http::Response r = session.perform(request);
        return {r.status, r.body};
    } catch (const std::exception& e) {
        return {-1, e.what()};
    }
}

}  // namespace scopeflow::testing
