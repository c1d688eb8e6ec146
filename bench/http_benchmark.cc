// HTTP batch POST against the embedded server on loopback: a reused session (one kept-alive
// connection) against a new connection per request (CURLOPT_FORBID_REUSE + FRESH_CONNECT), same
// payloads, interleaved rounds. Prints requests/s and the ratio.
//
//   build/bench/http_benchmark [requests_per_round] [rounds] [events_per_post]
//
// Also reports a pooled http::Client (lease + request + return) and the connections each case
// opened, to show where the difference comes from.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <scopeflow/core/scope.h>
#include <scopeflow/event/event.h>
#include <scopeflow/event/event_json.h>
#include <scopeflow/http/client.h>
#include <scopeflow/http/server.h>
#include <scopeflow/http/session.h>

#include "bench_harness.h"

int main(int argc, char** argv) {
    using namespace scopeflow;
    const long requests = argc > 1 ? std::atol(argv[1]) : 1000;
    const int rounds = argc > 2 ? std::atoi(argv[2]) : 7;
    const int events_per_post = argc > 3 ? std::atoi(argv[3]) : 50;

    http::Server server({.name = "bench", .workers = 2});
    server.route("POST", "/ingest", [](const http::Request& r) {
        return http::Response::json(200, r.body.empty() ? "{}" : R"({"ok":true})");
    });
    server.start();

    // One batch body: events_per_post events as a JSON array, ~100 bytes each.
    std::string body = "[";
    for (int i = 0; i < events_per_post; ++i) {
        const Event e{{"id", i},
                      {"user", "u-" + std::to_string(i % 97)},
                      {"price", 9.5 + i},
                      {"kind", "purchase"},
                      {"ts", 1700000000000LL + i}};
        body += i == 0 ? "" : ",";
        append_json(e, body);
    }
    body += "]";

    http::Request req{.method = "POST", .target = "/ingest", .body = body};
    req.headers.add("Content-Type", "application/json");

    auto reuse_opts = std::make_shared<const http::ClientOptions>(
        http::ClientOptions{.name = "reuse", .base_url = server.url()});
    auto fresh_opts = std::make_shared<const http::ClientOptions>(
        http::ClientOptions{.name = "fresh", .base_url = server.url(), .reuse_connections = false});
    http::Session reused = http::Session::open(reuse_opts);
    http::Session fresh = http::Session::open(fresh_opts);
    auto client =
        http::Client::create({.name = "pooled", .base_url = server.url()}, {.max_size = 1});
    Scope scope("bench");

    long failures = 0;
    auto check = [&](const http::Response& r) {
        if (r.status != 200) {
            ++failures;
        }
    };
    const std::vector<bench::Case> cases = {
        {"new connection per request (baseline)",
         [&](long n) {
             for (long i = 0; i < n; ++i) {
                 check(fresh.perform(req));
             }
         }},
        {"reused session (keep-alive)",
         [&](long n) {
             for (long i = 0; i < n; ++i) {
                 check(reused.perform(req));
             }
         }},
        {"pooled http::Client (lease per request)",
         [&](long n) {
             for (long i = 0; i < n; ++i) {
                 check(client->request(scope, req));
             }
         }},
    };
    const auto results = bench::run_interleaved(cases, requests, rounds);
    bench::print_table("HTTP batch POST, " + std::to_string(events_per_post) + " events (" +
                           std::to_string(body.size()) + " bytes) per request, loopback, " +
                           std::to_string(requests) + " requests x " + std::to_string(rounds) +
                           " rounds",
                       results);
    std::printf("\n  %-46s %12s %12s\n", "case", "requests/s", "vs baseline");
    for (const auto& r : results) {
        std::printf("  %-46s %12.0f %11.2fx\n", r.name.c_str(), 1e9 / r.median_ns,
                    results.front().median_ns / r.median_ns);
    }
    std::printf(
        "\n  connections opened: baseline %llu, reused %llu, pooled %llu; server accepted "
        "%llu; failures %ld\n",
        static_cast<unsigned long long>(fresh.connections_opened()),
        static_cast<unsigned long long>(reused.connections_opened()),
        static_cast<unsigned long long>(client->stats().connections_opened),
        static_cast<unsigned long long>(server.stats().connections_accepted), failures);
    return failures == 0 ? 0 : 1;
}
