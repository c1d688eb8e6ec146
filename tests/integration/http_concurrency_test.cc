// Eight client threads against the embedded server at once (run under TSan by scripts/test):
// a shared pooled Client, per-thread sessions, and a server closing under load.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <scopeflow/core/error.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/http/client.h>
#include <scopeflow/http/server.h>
#include <scopeflow/http/session.h>

#include "support/leak_check.h"
#include "support/probe.h"

namespace scopeflow::http {
namespace {

using namespace std::chrono_literals;

constexpr int kThreads = 8;
constexpr int kRequestsPerThread = 150;

Server::Handler echo(std::atomic<int>& handled) {
    return [&handled](const Request& r) {
        handled.fetch_add(1, std::memory_order_relaxed);
        return Response::text(200, r.body);
    };
}

TEST(HttpConcurrency, EightThreadsShareOnePooledClient) {
    testing::Isolated iso;
    std::atomic<int> handled{0};
    Server server({.name = "stress", .workers = 4});
    server.route("POST", "/echo", echo(handled));
    server.start();
    auto client = Client::create({.name = "shared", .base_url = server.url()}, {.max_size = 4});
    std::atomic<int> mismatches{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            Scope scope("client-" + std::to_string(t), {.monitor = &iso.monitor});
            for (int i = 0; i < kRequestsPerThread; ++i) {
                const std::string body = std::to_string(t) + ":" + std::to_string(i);
                if (client->post(scope, "/echo", body, "text/plain").body != body) {
                    mismatches.fetch_add(1);
                }
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    EXPECT_EQ(mismatches.load(), 0);
    EXPECT_EQ(handled.load(), kThreads * kRequestsPerThread);
    EXPECT_EQ(server.stats().requests, static_cast<std::uint64_t>(kThreads * kRequestsPerThread));
    // At most one connection per pooled session.
    EXPECT_LE(client->stats().connections_opened, 4U);
    EXPECT_LE(server.stats().connections_accepted, 4U);
    EXPECT_EQ(client->pool_stats().active, 0U);
}

TEST(HttpConcurrency, EightSessionsWithFewerWorkersThanConnections) {
    std::atomic<int> handled{0};
    Server server({.name = "stress", .workers = 2});
    server.route("POST", "/echo", echo(handled));
    server.start();
    auto options = std::make_shared<const ClientOptions>(
        ClientOptions{.name = "own", .base_url = server.url()});
    std::atomic<int> mismatches{0};
    std::atomic<std::uint64_t> connections{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            Session s = Session::open(options);
            for (int i = 0; i < kRequestsPerThread; ++i) {
                const std::string body(static_cast<std::size_t>(i % 7) * 300 + 1,
                                       static_cast<char>('a' + t));
                if (s.perform({.method = "POST", .target = "/echo", .body = body}).body != body) {
                    mismatches.fetch_add(1);
                }
            }
            connections.fetch_add(s.connections_opened());
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    EXPECT_EQ(mismatches.load(), 0);
    EXPECT_EQ(handled.load(), kThreads * kRequestsPerThread);
    EXPECT_EQ(connections.load(), static_cast<std::uint64_t>(kThreads));
    EXPECT_EQ(server.stats().connections_accepted, static_cast<std::uint64_t>(kThreads));
}

TEST(HttpConcurrency, ServerClosesUnderLoadWithoutLeaks) {
    const int fds_before = testing::count_open_fds();
    testing::Isolated iso;
    std::atomic<int> handled{0};
    std::atomic<int> ok{0};
    std::atomic<int> failed{0};
    {
        auto server = std::make_unique<Server>(
            ServerOptions{.name = "closing", .workers = 3, .shutdown_timeout = 500ms});
        server->route("POST", "/echo", echo(handled));
        server->start();
        auto client = Client::create({.name = "c",
                                      .base_url = server->url(),
                                      .connect_timeout = 500ms,
                                      .total_timeout = 2s,
                                      .retry = {.max_attempts = 1}},
                                     {.max_size = kThreads});
        std::atomic<bool> go_on{true};
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] {
                Scope scope("client-" + std::to_string(t), {.monitor = &iso.monitor});
                while (go_on.load()) {
                    try {
                        (void)client->post(scope, "/echo", "x", "text/plain");
                        ok.fetch_add(1);
                    } catch (const TransientError&) {
                        failed.fetch_add(1);  // refused or reset once the server is closing
                    }
                }
            });
        }
        while (ok.load() < 200) {
            std::this_thread::yield();
        }
        server->close();
        const auto after_close = ok.load();
        std::this_thread::sleep_for(20ms);
        go_on.store(false);
        for (auto& th : threads) {
            th.join();
        }
        EXPECT_EQ(server->stats().connections_open, 0U);
        // Nothing is answered after close() returned.
        EXPECT_LE(ok.load(), after_close + kThreads);
        EXPECT_GT(failed.load(), 0);
        (void)client->close(1s);
    }
    EXPECT_EQ(testing::count_open_fds(), fds_before);
}

}  // namespace
}  // namespace scopeflow::http
