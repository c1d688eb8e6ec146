// Chaos: the real binary on jsonl -> sql_upsert (PostgreSQL) -> redis -> file_sink, with a
// dead-letter sink, while PostgreSQL and Redis restart and the service is stopped with SIGTERM
// and killed with SIGKILL, then run to the end of its input.
//
// What must hold (docs/reliability.md):
// - nothing is lost: every input id is in a published part or in the dead letter;
// - nothing acked stays unpublished: no in-progress (.tmp) part is left, and every line before
//   the offset committed at the moment of a SIGKILL is in a published part or the dead letter;
// - duplicates appear only after a SIGKILL, and only for events past the committed offset;
// - PostgreSQL holds every published id; Redis holds the key of every event read after its last
//   restart (the test server keeps nothing across a restart).
//
// The short form runs in the suite; the long form is scripts/chaos (more rounds, more events):
//   SCOPEFLOW_CHAOS_ROUNDS   rounds of (restart PostgreSQL, restart Redis, SIGTERM, SIGKILL)
//   SCOPEFLOW_CHAOS_EVENTS   input events (default 300k)
// The figures (in / out / lost / duplicated, recovery times) are printed and recorded as test
// properties.
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <scopeflow/postgres/connection.h>
#include <scopeflow/redis/connection.h>

#include "integration/postgres_test_support.h"
#include "integration/redis_support.h"
#include "service/service_support.h"

namespace scopeflow::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

int env_int(const char* name, int fallback) {
    const std::string v = env_or_empty(name);
    return v.empty() ? fallback : std::stoi(v);
}

// The value of the first sample of metric `name` (with or without labels); -1 when absent.
double metric(const std::string& text, const std::string& name) {
    std::size_t at = 0;
    while ((at = text.find("\n" + name, at)) != std::string::npos) {
        const std::size_t after = at + 1 + name.size();
        if (after < text.size() && (text[after] == '{' || text[after] == ' ')) {
            const std::size_t end = text.find('\n', after);
            const std::string line = text.substr(after, end - after);
            return std::stod(line.substr(line.rfind(' ') + 1));
        }
        at = after;
    }
    return -1;
}

double metric_of(std::uint16_t port, const std::string& name) {
    const auto [status, body] = http_get(port, "/metrics");
    return status == 200 ? metric("\n" + body, name) : -1;
}

double acked(std::uint16_t port) {
    return metric_of(port, "scopeflow_events_acked_total");
}

// Waits until the acked counter passes `at_least`; returns false after `timeout`.
bool wait_acked(std::uint16_t port, double at_least, std::chrono::milliseconds timeout) {
    const auto end = Clock::now() + timeout;
    while (Clock::now() < end) {
        if (acked(port) >= at_least) {
            return true;
        }
        std::this_thread::sleep_for(20ms);
    }
    return false;
}

// Seconds from now until the acked counter moves past its current value (events flow again).
double seconds_until_progress(std::uint16_t port, std::chrono::milliseconds timeout) {
    const auto start = Clock::now();
    const double base = acked(port);
    if (!wait_acked(port, base + 1, timeout)) {
        return -1;
    }
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// Ids of the input lines that end at or before byte `offset` (ids are 1..n, one per line).
long ids_before(const std::string& input, std::uint64_t offset) {
    long n = 0;
    for (std::uint64_t i = 0; i < offset && i < input.size(); ++i) {
        n += input[i] == '\n' ? 1 : 0;
    }
    return n;
}

std::uint64_t committed_offset(const std::filesystem::path& offset_file) {
    const std::string text = read_file(offset_file);
    return text.empty() ? 0 : std::stoull(text);
}

TEST(ChaosTest, RestartsStopsAndKillsLoseNothingAndLeaveNothingAckedUnpublished) {
    SCOPEFLOW_NEED_POSTGRES();
    SCOPEFLOW_NEED_REDIS();
    const int rounds = env_int("SCOPEFLOW_CHAOS_ROUNDS", 1);
    const long events = env_int("SCOPEFLOW_CHAOS_EVENTS", 300'000);
    const auto& pg = servers().pg;
    const auto& rs = servers().redis;
    ScratchTables tables;
    const std::string table = tables.create("chaos", "id BIGINT PRIMARY KEY, v TEXT NOT NULL");
    const std::string key_prefix = "chaos:" + std::to_string(::getpid()) + ":";

    TempDir d;
    std::string input;
    for (long i = 1; i <= events; ++i) {
        input += "{\"id\":" + std::to_string(i) + ",\"v\":\"value-" + std::to_string(i) +
                 "-padding-padding-padding\"}\n";
    }
    write_file(d / "in.jsonl", input);
    std::filesystem::create_directories(d / "out");
    std::filesystem::create_directories(d / "dl");
    ::setenv("CHAOS_PG_PASSWORD", pg.password.c_str(), 1);
    ::setenv("CHAOS_REDIS_PASSWORD", rs.password.c_str(), 1);
    write_file(d / "p.yaml",
               "service: {admin: '127.0.0.1:0', shutdown_timeout: 20s}\n"
               "resources:\n"
               "  db: {type: postgres, host: " +
                   pg.host + ", port: " + pg.port + ", dbname: " + pg.db + ", user: " + pg.user +
                   ", password_env: CHAOS_PG_PASSWORD, max_size: 2, connect_timeout: 1s}\n"
                   "  cache: {type: redis, host: " +
                   rs.host + ", port: " + rs.port +
                   (rs.password.empty() ? std::string() : ", password_env: CHAOS_REDIS_PASSWORD") +
                   ", max_size: 2}\n"
                   "source: {type: jsonl, path: " +
                   (d / "in.jsonl").string() +
                   ", commit_interval_ms: 50}\n"
                   "graph:\n  workers: 2\n  batch_size: 64\n  dead_letter: dead\n  stages:\n"
                   "    upsert:\n      type: sql_upsert\n      resource: db\n"
                   "      query: INSERT INTO " +
                   table +
                   " (id, v) VALUES (CAST($1 AS BIGINT), $2) ON CONFLICT (id) DO UPDATE SET v = "
                   "EXCLUDED.v\n"
                   "      params: id,v\n      max_attempts: 100\n      backoff_ms: 20\n"
                   "      max_backoff_ms: 200\n      routes: {default: cache}\n"
                   "    cache: {type: redis, resource: cache, command: set, key: '" +
                   key_prefix +
                   "${id}', value: v, retries: 100, retry_backoff_ms: 20, routes: {default: "
                   "out}}\n"
                   "    out: {type: file_sink, directory: " +
                   (d / "out").string() +
                   ", prefix: ev, max_bytes: 65536}\n"
                   "    dead: {type: file_sink, directory: " +
                   (d / "dl").string() + ", prefix: dead}\n");

    std::vector<double> pg_recovery, redis_recovery;
    int run = 0;
    long acked_at_kills = 0;
    long redis_keys_from = 0;            // ids above this were read after the last Redis restart
    std::set<long> past_offset_at_kill;  // ids a SIGKILL may legitimately duplicate
    auto start = [&] {
        return std::make_unique<Service>(std::vector<std::string>{"run", (d / "p.yaml").string()},
                                         d / ("log" + std::to_string(++run)));
    };

    for (int round = 0; round < rounds; ++round) {
        // Restart both servers under load, then stop with SIGTERM: no duplicate may appear.
        {
            const long start_id = std::filesystem::exists(d / "in.jsonl.offset")
                                      ? ids_before(input, committed_offset(d / "in.jsonl.offset"))
                                      : 0;
            auto svc = start();
            const auto port = svc->admin_port();
            ASSERT_NE(port, 0) << svc->log();
            const double base = acked(port);
            ASSERT_TRUE(wait_acked(port, base + static_cast<double>(events) / 50, 60s))
                << svc->log();
            servers_command("restart-postgres");
            pg_recovery.push_back(seconds_until_progress(port, 30s));
            ASSERT_GE(pg_recovery.back(), 0) << "no progress after PostgreSQL restarted\n"
                                             << svc->log();
            servers_command("restart-redis");
            // The test server keeps no data across a restart: only events read from now on
            // must have their key at the end.
            redis_keys_from =
                start_id + static_cast<long>(metric_of(port, "scopeflow_events_read_total"));
            redis_recovery.push_back(seconds_until_progress(port, 30s));
            ASSERT_GE(redis_recovery.back(), 0) << "no progress after Redis restarted\n"
                                                << svc->log();
            svc->signal(SIGTERM);
            ASSERT_EQ(svc->wait(), 0) << svc->log();
        }
        if (round == 0) {
            const auto published = id_counts(published_lines(d / "out"));
            for (const auto& [id, n] : published) {
                ASSERT_EQ(n, 1) << "id " << id << " published twice before any SIGKILL";
            }
        }
        // SIGKILL mid-run: what was committed at that moment must end up published.
        {
            auto svc = start();
            const auto port = svc->admin_port();
            ASSERT_NE(port, 0) << svc->log();
            const double base = acked(port);
            ASSERT_TRUE(wait_acked(port, base + static_cast<double>(events) / 50, 60s))
                << "the run ended before it could be killed mid-way: give it more events\n"
                << svc->log();
            svc->signal(SIGKILL);
            EXPECT_EQ(svc->wait(), 128 + SIGKILL);
            const long committed = ids_before(input, committed_offset(d / "in.jsonl.offset"));
            acked_at_kills = committed;
            for (long id = committed + 1; id <= events; ++id) {
                past_offset_at_kill.insert(id);
            }
        }
    }
    // To the end of the input.
    {
        auto svc = start();
        ASSERT_EQ(svc->wait(180s), 0) << svc->log();
    }

    const auto published = id_counts(published_lines(d / "out"));
    const auto dead = id_counts(published_lines(d / "dl"));
    long lost = 0;
    long duplicated = 0;
    long wrongly_duplicated = 0;
    for (long id = 1; id <= events; ++id) {
        const auto p = published.find(id);
        const int copies = (p == published.end() ? 0 : p->second) + (dead.contains(id) ? 1 : 0);
        if (copies == 0) {
            ++lost;
        } else if (copies > 1) {
            duplicated += copies - 1;
            wrongly_duplicated += past_offset_at_kill.contains(id) ? 0 : 1;
        }
    }
    const std::size_t tmp_left = count_files_ending(d.path(), ".tmp");

    // PostgreSQL and Redis saw every published event.
    auto db = pg::Connection::open(pg_options());
    const long rows =
        std::stol(std::string(db.exec("SELECT count(*) FROM " + table, {}).value(0, 0)));
    auto cache = redis::Connection::open(redis_options());
    long cached = 0;
    long must_be_cached = 0;
    for (const auto& [id, n] : published) {
        if (id > redis_keys_from) {
            ++must_be_cached;
            cached += cache.command({"EXISTS", key_prefix + std::to_string(id)}).integer();
        }
    }
    for (long id = 1; id <= events; ++id) {
        (void)cache.command({"DEL", key_prefix + std::to_string(id)});
    }

    const auto join = [](const std::vector<double>& v) {
        std::string s;
        for (const double x : v) {
            s += (s.empty() ? "" : " ") + std::to_string(x).substr(0, 5) + "s";
        }
        return s;
    };
    const std::string figures =
        "chaos: rounds " + std::to_string(rounds) + ", in " + std::to_string(events) +
        ", published " + std::to_string(published.size()) + ", dead-lettered " +
        std::to_string(dead.size()) + ", lost " + std::to_string(lost) + ", duplicated " +
        std::to_string(duplicated) +
        " (committed before the last SIGKILL: " + std::to_string(acked_at_kills) + "), tmp left " +
        std::to_string(tmp_left) + ", PostgreSQL rows " + std::to_string(rows) + ", Redis keys " +
        std::to_string(cached) + " of " + std::to_string(must_be_cached) +
        " published after its restart" + ", recovery after PostgreSQL restart " +
        join(pg_recovery) + ", after Redis restart " + join(redis_recovery);
    std::cout << figures << "\n";
    ::testing::Test::RecordProperty("chaos", figures);

    EXPECT_EQ(lost, 0) << figures;
    EXPECT_EQ(tmp_left, 0U) << figures;
    EXPECT_EQ(wrongly_duplicated, 0) << "duplicates of events committed before a SIGKILL\n"
                                     << figures;
    EXPECT_GE(rows, static_cast<long>(published.size())) << figures;
    EXPECT_EQ(cached, must_be_cached) << figures;
}

}  // namespace
}  // namespace scopeflow::testing
