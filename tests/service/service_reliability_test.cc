// The scopeflow binary under crashes and stops: what was acked is published, whatever happens.
// SIGKILL mid-run then a restart, events that fail with nowhere to go, invalid UTF-8 in dead
// letters, and what a child process may see of the parent's environment.
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "service/service_support.h"

namespace scopeflow::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// The value of "id" in a published line (an integer, or the one a dead letter's _raw holds).
std::string id_of(const std::string& line) {
    const auto at = line.find("\"id\":");
    if (at == std::string::npos) {
        const auto raw = line.find("\"_raw\":\"");
        return raw == std::string::npos
                   ? ""
                   : "raw:" + line.substr(raw + 8, line.find('"', raw + 8) - raw - 8);
    }
    const auto end = line.find_first_of(",}", at + 5);
    return line.substr(at + 5, end - at - 5);
}

std::uint64_t tmp_bytes(const fs::path& dir) {
    std::uint64_t n = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.path().string().ends_with(".tmp")) {
            n += e.file_size();
        }
    }
    return n;
}

TEST(ServiceReliabilityTest, SigkillMidRunThenRestartPublishesEveryAckedEvent) {
    TempDir d;
    // Every 500th line is not JSON: it goes to the dead-letter sink, so both sinks have parts
    // in progress when the kill comes.
    constexpr int kEvents = 300'000;
    std::string input;
    std::set<std::string> expected;
    for (int i = 1; i <= kEvents; ++i) {
        if (i % 500 == 0) {
            input += "garbage-" + std::to_string(i) + "\n";
            expected.insert("raw:garbage-" + std::to_string(i));
        } else {
            input +=
                "{\"id\":" + std::to_string(i) + ",\"pad\":\"" + std::string(40, 'x') + "\"}\n";
            expected.insert(std::to_string(i));
        }
    }
    write_file(d / "in.jsonl", input);
    fs::create_directories(d / "out");
    fs::create_directories(d / "dead");
    write_file(d / "p.yaml",
               "service:\n  admin: 127.0.0.1:0\n  progress_interval: 0\n"
               "source: {type: jsonl, path: " +
                   (d / "in.jsonl").string() +
                   ", commit_interval_ms: 20}\n"
                   "graph:\n  workers: 3\n  batch_size: 128\n  dead_letter: dlq\n  stages:\n"
                   "    sink: {type: file_sink, directory: " +
                   (d / "out").string() +
                   "}\n"
                   "    dlq: {type: file_sink, directory: " +
                   (d / "dead").string() + ", prefix: dead}\n");
    {
        Service svc({"run", (d / "p.yaml").string()}, d / "log1");
        ASSERT_TRUE(svc.wait_for_log("running")) << svc.log();
        // Kill once offsets were committed and both sinks have written into parts still in
        // progress.
        const auto end = std::chrono::steady_clock::now() + 20s;
        while ((tmp_bytes(d / "out") < (1U << 20) || tmp_bytes(d / "dead") == 0 ||
                !fs::exists(d / "in.jsonl.offset")) &&
               std::chrono::steady_clock::now() < end) {
            std::this_thread::sleep_for(2ms);
        }
        svc.signal(SIGKILL);
        EXPECT_EQ(svc.wait(), 128 + SIGKILL) << svc.log();
    }
    ASSERT_GT(count_files_ending(d.path() / "out", ".jsonl.tmp"), 0U) << "killed too late to test";
    ASSERT_TRUE(fs::exists(d / "in.jsonl.offset")) << "killed before any commit";
    Service again({"run", (d / "p.yaml").string()}, d / "log2");
    ASSERT_EQ(again.wait(), 0) << again.log();
    EXPECT_NE(again.log().find("recovered after a crash"), std::string::npos) << again.log();

    std::set<std::string> seen;
    std::size_t lines = 0;
    for (const fs::path& dir : {d / "out", d / "dead"}) {
        for (const std::string& line : published_lines(dir)) {
            seen.insert(id_of(line));
            ++lines;
        }
    }
    std::size_t missing = 0;
    for (const std::string& id : expected) {
        missing += seen.count(id) == 0 ? 1U : 0U;
    }
    EXPECT_EQ(missing, 0U) << "acked events stranded";
    EXPECT_EQ(seen.size(), expected.size());
    EXPECT_EQ(count_files_ending(d.path(), ".tmp"), 0U);
    // Duplicates are allowed only for what was written but not yet committed at the kill.
    std::cout << "sigkill test: "
              << static_cast<long long>(lines) - static_cast<long long>(expected.size())
              << " duplicate line(s) of " << expected.size() << " events\n";
}

// Runs a strict JSON check over every line of `files` (Python's json.loads on strictly decoded
// UTF-8); returns its exit status and prints what it refused.
int strict_json_lines(const std::vector<fs::path>& files) {
    std::string cmd =
        "python3 -c 'import json,sys\n"
        "bad = 0\n"
        "for name in sys.argv[1:]:\n"
        "    for n, raw in enumerate(open(name, \"rb\"), 1):\n"
        "        try:\n"
        "            json.loads(raw.decode(\"utf-8\", errors=\"strict\"))\n"
        "        except Exception as e:\n"
        "            bad += 1; print(name, n, repr(raw[:120]), e)\n"
        "sys.exit(1 if bad else 0)'";
    for (const auto& f : files) {
        cmd += " '" + f.string() + "'";
    }
    return std::system(cmd.c_str());
}

TEST(ServiceReliabilityTest, EveryLineWrittenIsStrictJsonWhateverBytesTheInputHeld) {
    TempDir d;
    // Lines that are not valid UTF-8 are dead-lettered with their bytes in `_raw`; lines the
    // parser accepts go through a log stage (stdout) to a file_sink.
    const std::vector<std::string> invalid = {
        "{\"id\":\"\xFF\"}",                      // a byte never used in UTF-8
        "{\"id\":\"\xC0\xAF\"}",                  // overlong '/'
        "{\"id\":\"\xED\xA0\x80\"}",              // a surrogate encoded in UTF-8
        "{\"id\":\"\xE2\x82\"}",                  // a truncated sequence
        "\xF0\x9F\x98 not json \x80\x00 either",  // garbage, a NUL included
    };
    std::string input;
    for (int i = 0; i < 50; ++i) {
        input += "{\"id\":" + std::to_string(i) + ",\"name\":\"caf\xC3\xA9 \xE2\x82\xAC\"}\n";
        input += invalid[static_cast<std::size_t>(i) % invalid.size()] + "\n";
    }
    write_file(d / "in.jsonl", input);
    fs::create_directories(d / "out");
    fs::create_directories(d / "dead");
    write_file(d / "p.yaml",
               "service:\n  admin: off\n  log_format: json\n  log_level: debug\n"
               "source: {type: jsonl, path: " +
                   (d / "in.jsonl").string() +
                   "}\n"
                   "graph:\n  workers: 2\n  dead_letter: dlq\n  stages:\n"
                   "    show: {type: log, stream: stdout, routes: {default: sink}}\n"
                   "    sink: {type: file_sink, directory: " +
                   (d / "out").string() +
                   "}\n"
                   "    dlq: {type: file_sink, directory: " +
                   (d / "dead").string() + ", prefix: dead}\n");
    Service svc({"run", (d / "p.yaml").string()}, d / "log");
    ASSERT_EQ(svc.wait(), 0) << svc.log();
    std::vector<fs::path> files = {d / "log", d / "log.out"};
    std::size_t dead = 0;
    for (const fs::path& dir : {d / "out", d / "dead"}) {
        for (const auto& e : fs::directory_iterator(dir)) {
            files.push_back(e.path());
        }
    }
    dead = published_lines(d / "dead").size();
    EXPECT_EQ(dead, 50U);
    EXPECT_EQ(published_lines(d / "out").size(), 50U);
    EXPECT_EQ(strict_json_lines(files), 0) << "a line is not strict JSON";
}

TEST(ServiceReliabilityTest, AProcessStagesChildSeesOnlyTheEnvironmentItIsGiven) {
    TempDir d;
    write_file(d / "in.jsonl", "{\"id\":1}\n{\"id\":2}\n");
    fs::create_directories(d / "out");
    // The service holds a secret in its environment, as for a password_env option.
    ASSERT_EQ(::setenv("SCOPEFLOW_FAKE_DB_PASSWORD", "s3cret-value", 1), 0);
    ASSERT_EQ(::setenv("SCOPEFLOW_SHARED", "shared-value", 1), 0);
    write_file(d / "p.yaml",
               "service:\n  admin: off\n"
               "source: {type: jsonl, path: " +
                   (d / "in.jsonl").string() +
                   "}\n"
                   "graph:\n  workers: 1\n  stages:\n"
                   "    child:\n      type: process\n"
                   "      command: [/bin/sh, -c, 'env > " +
                   (d / "child.env").string() +
                   "; exec cat']\n"
                   "      env: [GREETING=hi, SCOPEFLOW_SHARED]\n"
                   "      routes: {default: sink}\n"
                   "    sink: {type: file_sink, directory: " +
                   (d / "out").string() + "}\n");
    Service svc({"run", (d / "p.yaml").string()}, d / "log");
    const int code = svc.wait();
    ::unsetenv("SCOPEFLOW_FAKE_DB_PASSWORD");
    ::unsetenv("SCOPEFLOW_SHARED");
    ASSERT_EQ(code, 0) << svc.log();
    EXPECT_EQ(published_lines(d / "out").size(), 2U);
    const std::string env = read_file(d / "child.env");
    EXPECT_EQ(env.find("SCOPEFLOW_FAKE_DB_PASSWORD"), std::string::npos) << env;
    EXPECT_EQ(env.find("s3cret-value"), std::string::npos) << env;
    EXPECT_NE(env.find("GREETING=hi\n"), std::string::npos) << env;
    EXPECT_NE(env.find("SCOPEFLOW_SHARED=shared-value\n"), std::string::npos) << env;
    std::istringstream lines(env);
    const std::set<std::string> allowed = {"PATH", "LANG",     "LC_ALL",
                                           "TZ",   "GREETING", "SCOPEFLOW_SHARED",
                                           "PWD",  "SHLVL",    "_"};  // the ones sh sets itself
    for (std::string line; std::getline(lines, line);) {
        EXPECT_EQ(allowed.count(line.substr(0, line.find('='))), 1U) << "leaked: " << line;
    }
}

TEST(ServiceReliabilityTest, EventsFailingWithNowhereToGoAreLoggedAndExit1) {
    TempDir d;
    std::string input;
    for (int i = 0; i < 500; ++i) {
        input += "{\"id\":" + std::to_string(i) + ",\"payload\":\"not json\"}\n";
    }
    write_file(d / "in.jsonl", input);
    fs::create_directories(d / "out");
    write_file(d / "p.yaml",
               "service:\n  admin: off\n"
               "source: {type: jsonl, path: " +
                   (d / "in.jsonl").string() +
                   "}\n"
                   "graph:\n  workers: 2\n  stages:\n"
                   "    decode: {type: json_parse, field: payload, routes: {default: sink}}\n"
                   "    sink: {type: file_sink, directory: " +
                   (d / "out").string() + "}\n");
    Service svc({"run", (d / "p.yaml").string()}, d / "log");
    EXPECT_EQ(svc.wait(), 1) << svc.log();
    const std::string log = svc.log();
    // The first failure at once, naming the stage and the reason; the rest as a count.
    EXPECT_NE(log.find(" error pipeline 'main': stage 'decode': event failed (error), nacked: no "
                       "dead-letter stage took it: stage 'decode': "),
              std::string::npos)
        << log;
    EXPECT_NE(log.find("499 times since the last such line"), std::string::npos) << log;
    EXPECT_NE(log.find("500 event(s) failed with no route"), std::string::npos) << log;
    std::size_t lines = 0;
    for (const char c : log) {
        lines += c == '\n' ? 1U : 0U;
    }
    EXPECT_LT(lines, 15U) << "a storm of failures must not flood the log:\n" << log;
}

}  // namespace
}  // namespace scopeflow::testing
