// Eight threads on one redis::Client (a pool smaller than the thread count), with and without
// server-side kills: counts add up, no error escapes the retry, nothing leaks. Run under TSan.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <scopeflow/redis/batch.h>
#include <scopeflow/redis/client.h>
#include <scopeflow/redis/connection.h>

#include "integration/redis_support.h"

namespace scopeflow {
namespace {

using namespace std::chrono_literals;
using testing::redis_options;

constexpr int kThreads = 8;
constexpr int kOpsPerThread = 300;

class RedisConcurrencyTest : public testing::RedisTest {};

// Each thread: INCR a shared counter, SET/GET its own key, and every 10th op a pipelined batch.
void hammer(redis::Client& client, Scope& root, int t, std::atomic<int>& failures) {
    Scope worker = root.child("worker-" + std::to_string(t));
    const std::string own = "stress:own:" + std::to_string(t);
    redis::Batch batch;
    for (int i = 0; i < kOpsPerThread; ++i) {
        try {
            // The killer may strike again between a retry's PING and its command: allow a few.
            const redis::RetryOptions retry{.retries = 5, .backoff = 1ms};
            client.run(
                worker,
                [&](redis::Connection& c) {
                    c.command({"INCR", "stress:counter"});
                },
                retry);
            const std::string v = std::to_string(i);
            client.run(
                worker,
                [&](redis::Connection& c) {
                    c.command({"SET", own, v});
                },
                retry);
            const std::string got = client.run(
                worker,
                [&](redis::Connection& c) {
                    return std::string(c.command({"GET", own}).str());
                },
                retry);
            if (got != v) {
                failures.fetch_add(1);
            }
            if (i % 10 == 0) {
                batch.clear();
                for (int k = 0; k < 20; ++k) {
                    batch.add({"INCR", "stress:batched"});
                }
                const auto replies = client.run(
                    worker, [&](redis::Connection& c) { return c.exec(batch); }, retry);
                if (replies.size() != 20 || !replies.back().is_integer()) {
                    failures.fetch_add(1);
                }
            }
        } catch (const std::exception& e) {
            ADD_FAILURE() << "thread " << t << " op " << i << ": " << e.what();
            failures.fetch_add(1);
        }
    }
    worker.close();
}

TEST_F(RedisConcurrencyTest, EightThreadsShareASmallPool) {
    redis::Client client(PoolOptions{.name = "stress", .max_size = 3, .acquire_timeout = 10s},
                         redis_options(7));
    client.command(root_, {"DEL", "stress:counter", "stress:batched"});
    std::atomic<int> failures{0};
    {
        std::vector<std::jthread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] { hammer(client, root_, t, failures); });
        }
    }
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(client.command(root_, {"GET", "stress:counter"}).str(),
              std::to_string(kThreads * kOpsPerThread));
    EXPECT_EQ(client.command(root_, {"GET", "stress:batched"}).str(),
              std::to_string(kThreads * (kOpsPerThread / 10) * 20));
    const PoolStats s = client.stats();
    EXPECT_LE(s.created, 3U);
    EXPECT_EQ(s.active, 0U);
    EXPECT_EQ(client.retries(), 0U);
    EXPECT_TRUE(client.close(2s).clean());
}

TEST_F(RedisConcurrencyTest, KillsDuringTheStressAreRetriedAway) {
    redis::Client client(PoolOptions{.name = "stress-kill", .max_size = 3, .acquire_timeout = 10s},
                         redis_options(7));
    client.command(root_, {"DEL", "stress:counter", "stress:batched"});
    std::atomic<int> failures{0};
    std::atomic<bool> done{false};
    std::atomic<int> kills{0};
    {
        std::jthread killer([&] {
            auto admin = redis::Connection::open(redis_options());
            while (!done.load()) {
                // Every normal client but this one: the pool's connections die mid-stress.
                kills.fetch_add(static_cast<int>(
                    admin.command({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"})
                        .integer()));
                std::this_thread::sleep_for(20ms);
            }
        });
        std::vector<std::jthread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] { hammer(client, root_, t, failures); });
        }
        for (auto& th : threads) {
            th.join();
        }
        done.store(true);
    }
    EXPECT_EQ(failures.load(), 0);
    // At least once: an INCR whose reply was lost to a kill may have been applied twice.
    const auto counter =
        std::stoll(std::string(client.command(root_, {"GET", "stress:counter"}).str()));
    EXPECT_GE(counter, kThreads * kOpsPerThread);
    EXPECT_GT(kills.load(), 0);
    EXPECT_GE(client.stats().broken, 1U);
    EXPECT_GE(client.retries(), 1U);
    EXPECT_EQ(client.stats().active, 0U);
    EXPECT_TRUE(client.close(2s).clean());
}

}  // namespace
}  // namespace scopeflow
