// The HTTP client with real libcurl against the embedded server: round trips, connection reuse,
// timeouts, the response size limit, retries (5xx, 429) and what is never retried (4xx, TLS),
// secrets kept out of messages, pool exhaustion.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include <scopeflow/core/error.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/core/version.h>
#include <scopeflow/http/client.h>
#include <scopeflow/http/server.h>
#include <scopeflow/http/session.h>
#include <scopeflow/process/child_process.h>

#include "integration/http_test_support.h"
#include "support/leak_check.h"
#include "support/temp_dir.h"

namespace scopeflow::http {
namespace {

using namespace std::chrono_literals;
using scopeflow::testing::closed_port;
using scopeflow::testing::eventually;
using Clock = std::chrono::steady_clock;

constexpr const char* kToken = "tok-9f8e7d6c5b4a";

// Fast retries for tests.
RetryOptions quick(int attempts) {
    return {.max_attempts = attempts, .initial_backoff = 1ms, .max_backoff = 5ms};
}

class HttpClientTest : public ::testing::Test {
protected:
    HttpClientTest() {
        server_.route("GET", "/echo", [this](const Request& r) {
            ++hits_;
            Response resp = Response::text(200, r.body);
            resp.headers.add("X-Method", r.method);
            resp.headers.add("X-Query", std::string(r.query()));
            resp.headers.add("X-Agent", std::string(r.headers.get("User-Agent").value_or("")));
            resp.headers.add("X-Auth", r.headers.get("Authorization") ? "present" : "absent");
            return resp;
        });
        server_.route("POST", "/echo", [this](const Request& r) {
            ++hits_;
            Response resp = Response::text(201, r.body, "application/json");
            resp.headers.add("X-Content-Type",
                             std::string(r.headers.get("Content-Type").value_or("")));
            return resp;
        });
        server_.start();
    }

    ClientOptions options(std::string name = "api") {
        return {.name = std::move(name), .base_url = server_.url(), .retry = quick(3)};
    }

    testing::Isolated iso_;
    Scope scope_{"test", {.monitor = &iso_.monitor}};
    std::atomic<int> hits_{0};
    Server server_{{.name = "test-server", .workers = 4}};
};

TEST_F(HttpClientTest, GetAndPostRoundTrip) {
    auto client = Client::create(options());
    Response r = client->get(scope_, "/echo?a=1&b=2");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.headers.get("X-Method"), "GET");
    EXPECT_EQ(r.headers.get("x-query"), "a=1&b=2");
    EXPECT_EQ(r.headers.get("X-Agent"), "scopeflow/" + std::string(kVersionString));
    EXPECT_EQ(r.headers.get("X-Auth"), "absent");

    const std::string body = R"([{"id":1},{"id":2}])";
    r = client->post(scope_, "/echo", body);
    EXPECT_EQ(r.status, 201);
    EXPECT_EQ(r.body, body);
    EXPECT_EQ(r.headers.get("Content-Type"), "application/json");
    EXPECT_EQ(r.headers.get("X-Content-Type"), "application/json");

    // An absolute URL works without a base_url.
    auto bare = Client::create({.name = "bare"});
    EXPECT_EQ(bare->get(scope_, server_.url() + "/echo").status, 200);
    EXPECT_EQ(hits_.load(), 3);
}

TEST_F(HttpClientTest, OneSessionReusesOneConnectionFor100Requests) {
    auto shared = std::make_shared<const ClientOptions>(options());
    Session s = Session::open(shared);
    for (int i = 0; i < 100; ++i) {
        ASSERT_EQ(s.perform({.method = "POST", .target = "/echo", .body = std::to_string(i)}).body,
                  std::to_string(i));
    }
    EXPECT_EQ(s.connections_opened(), 1U);
    EXPECT_EQ(s.responses(), 100U);
    EXPECT_EQ(server_.stats().connections_accepted, 1U);
    EXPECT_EQ(server_.stats().requests, 100U);
}

TEST_F(HttpClientTest, PooledClientReusesItsSession) {
    auto client = Client::create(options(), {.max_size = 2});
    for (int i = 0; i < 50; ++i) {
        ASSERT_EQ(client->get(scope_, "/echo").status, 200);
    }
    EXPECT_EQ(client->stats().connections_opened, 1U);
    EXPECT_EQ(client->pool_stats().created, 1U);
    EXPECT_EQ(server_.stats().connections_accepted, 1U);
}

TEST_F(HttpClientTest, WithoutReuseEveryRequestOpensAConnection) {
    ClientOptions o = options();
    o.reuse_connections = false;
    auto client = Client::create(o, {.max_size = 1});
    for (int i = 0; i < 10; ++i) {
        ASSERT_EQ(client->get(scope_, "/echo").status, 200);
    }
    EXPECT_EQ(client->stats().connections_opened, 10U);
    EXPECT_TRUE(eventually([&] { return server_.stats().connections_accepted == 10; }));
}

TEST_F(HttpClientTest, ServerClosingAnIdleConnectionIsHealedTransparently) {
    Server short_idle({.name = "short", .idle_timeout = 50ms});
    short_idle.route("GET", "/", [](const Request&) { return Response::text(200, "ok"); });
    short_idle.start();
    auto client = Client::create({.name = "c", .base_url = short_idle.url(), .retry = quick(1)});
    EXPECT_EQ(client->get(scope_, "/").status, 200);
    ASSERT_TRUE(eventually([&] { return short_idle.stats().connections_open == 0; }));
    EXPECT_EQ(client->get(scope_, "/").status, 200);  // curl notices and reconnects
    EXPECT_EQ(client->stats().connections_opened, 2U);
}

TEST_F(HttpClientTest, ConnectionRefusedIsTransientAfterRetriesAndNamesTheAddress) {
    const std::uint16_t port = closed_port();
    auto client = Client::create({.name = "down",
                                  .base_url = "http://127.0.0.1:" + std::to_string(port),
                                  .connect_timeout = 500ms,
                                  .retry = quick(3)});
    try {
        (void)client->get(scope_, "/x");
        FAIL() << "expected a TransientError";
    } catch (const TransientError& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("http 'down'"), std::string::npos) << msg;
        EXPECT_NE(msg.find("GET http://127.0.0.1:" + std::to_string(port) + "/x"),
                  std::string::npos)
            << msg;
    }
    EXPECT_EQ(client->stats().attempts, 3U);
    EXPECT_EQ(client->stats().retries, 2U);
    EXPECT_EQ(client->stats().failures, 1U);
    EXPECT_EQ(client->pool_stats().broken, 3U);  // each failed session was discarded
}

TEST_F(HttpClientTest, TotalTimeoutAgainstASlowHandler) {
    std::mutex mu;
    std::condition_variable_any cv;
    bool release = false;
    std::atomic<int> calls{0};
    Server slow({.name = "slow"});
    slow.route("GET", "/slow", [&](const Request& r) {
        ++calls;
        std::unique_lock lock(mu);
        cv.wait_for(lock, r.stop, 10s, [&] { return release; });
        return Response::text(200, "late");
    });
    slow.start();
    auto client = Client::create(
        {.name = "impatient", .base_url = slow.url(), .total_timeout = 200ms, .retry = quick(2)});
    const auto start = Clock::now();
    try {
        (void)client->get(scope_, "/slow");
        FAIL() << "expected a timeout";
    } catch (const TransientError& e) {
        EXPECT_NE(std::string(e.what()).find("imed out"), std::string::npos) << e.what();
    }
    const auto took = Clock::now() - start;
    EXPECT_GE(took, 400ms);  // two attempts of 200 ms
    EXPECT_LT(took, 5s);
    EXPECT_EQ(calls.load(), 2);
    {
        std::lock_guard lock(mu);
        release = true;
    }
    cv.notify_all();
}

TEST_F(HttpClientTest, ResponsesOverTheLimitAreAbortedNotRetried) {
    std::atomic<int> calls{0};
    server_.close();
    Server big({.name = "big"});
    big.route("GET", "/big", [&](const Request&) {
        ++calls;
        return Response::text(200, std::string(100'000, 'x'));
    });
    big.route("GET", "/small", [](const Request&) { return Response::text(200, "ok"); });
    big.start();
    ClientOptions o{
        .name = "limited", .base_url = big.url(), .max_response_bytes = 10'000, .retry = quick(3)};
    auto client = Client::create(o);
    try {
        (void)client->get(scope_, "/big");
        FAIL() << "expected ResponseTooLargeError";
    } catch (const ResponseTooLargeError& e) {
        EXPECT_EQ(e.limit(), 10'000U);
        EXPECT_NE(std::string(e.what()).find("max_response_bytes"), std::string::npos);
    }
    EXPECT_EQ(calls.load(), 1);
    EXPECT_EQ(client->get(scope_, "/small").body, "ok");

    // Without a Content-Length to refuse early, the body callback enforces the limit.
    auto shared = std::make_shared<const ClientOptions>(o);
    Session s = Session::open(shared);
    EXPECT_THROW((void)s.perform({.target = "/big"}), ResponseTooLargeError);
    EXPECT_TRUE(s.broken());
}

TEST_F(HttpClientTest, RetriesA503StreakThenSucceeds) {
    std::atomic<int> calls{0};
    server_.close();
    Server flaky({.name = "flaky"});
    flaky.route("POST", "/ingest", [&](const Request& r) {
        if (++calls <= 2) {
            return Response::text(503, "busy");
        }
        return Response::text(200, "got " + r.body);
    });
    flaky.start();
    auto client = Client::create({.name = "c", .base_url = flaky.url(), .retry = quick(3)});
    const Response r = client->post(scope_, "/ingest", "[1]");
    EXPECT_EQ(r.body, "got [1]");
    EXPECT_EQ(calls.load(), 3);  // counted on the server side
    EXPECT_EQ(client->stats().retries, 2U);
    EXPECT_EQ(client->stats().connections_opened, 1U);  // 5xx do not cost the connection
}

TEST_F(HttpClientTest, A5xxStreakLongerThanTheRetriesIsTransient) {
    std::atomic<int> calls{0};
    server_.close();
    Server down({.name = "down"});
    down.route("GET", "/", [&](const Request&) {
        ++calls;
        return Response::text(502, "upstream gone");
    });
    down.start();
    auto client = Client::create({.name = "c", .base_url = down.url(), .retry = quick(4)});
    try {
        (void)client->get(scope_, "/");
        FAIL();
    } catch (const HttpUnavailableError& e) {
        EXPECT_EQ(e.status(), 502);
        EXPECT_NE(std::string(e.what()).find("502 Bad Gateway after 4 attempt(s)"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_EQ(calls.load(), 4);
}

TEST_F(HttpClientTest, TooManyRequestsHonoursRetryAfter) {
    std::atomic<int> calls{0};
    server_.close();
    Server limited({.name = "limited"});
    limited.route("GET", "/", [&](const Request&) {
        if (++calls == 1) {
            Response r = Response::text(429, "slow down");
            r.headers.add("Retry-After", "1");
            return r;
        }
        return Response::text(200, "ok");
    });
    limited.start();
    ClientOptions o{.name = "c", .base_url = limited.url(), .retry = quick(2)};
    o.retry.max_retry_after = 300ms;  // caps the server's 1 s, keeping the test short
    auto client = Client::create(o);
    const auto start = Clock::now();
    EXPECT_EQ(client->get(scope_, "/").body, "ok");
    EXPECT_GE(Clock::now() - start, 290ms);  // far above the 1-5 ms backoff
    EXPECT_EQ(calls.load(), 2);
}

TEST_F(HttpClientTest, ClientErrorsAreNotRetriedAndNameMethodUrlAndStatus) {
    std::atomic<int> calls{0};
    server_.close();
    Server strict({.name = "strict"});
    strict.route("POST", "/v1/events", [&](const Request&) {
        ++calls;
        return Response::text(422, "field 'ts' is required");
    });
    strict.start();
    const std::string base = "http://alice:s3cr3t-pw@127.0.0.1:" + std::to_string(strict.port());
    auto client = Client::create({.name = "collector", .base_url = base, .retry = quick(5)});
    try {
        (void)client->post(scope_, "/v1/events?api_key=qk-123456", "{}");
        FAIL();
    } catch (const TransientError&) {
        FAIL() << "a 4xx must not be transient";
    } catch (const HttpStatusError& e) {
        const std::string msg = e.what();
        EXPECT_EQ(e.status(), 422);
        EXPECT_NE(msg.find("http 'collector': POST http://127.0.0.1:" +
                           std::to_string(strict.port()) + "/v1/events: 422"),
                  std::string::npos)
            << msg;
        EXPECT_NE(msg.find("field 'ts' is required"), std::string::npos) << msg;
        EXPECT_EQ(msg.find("qk-123456"), std::string::npos) << msg;
        EXPECT_EQ(msg.find("s3cr3t-pw"), std::string::npos) << msg;
        EXPECT_EQ(msg.find("alice"), std::string::npos) << msg;
    }
    EXPECT_EQ(calls.load(), 1);
    EXPECT_EQ(client->stats().retries, 0U);
}

TEST_F(HttpClientTest, BearerTokenIsSentButNeverInAMessage) {
    std::atomic<int> calls{0};
    server_.close();
    Server echoing({.name = "echoing"});
    // A careless server that echoes the credentials into its error body.
    echoing.route("GET", "/", [&](const Request& r) {
        ++calls;
        const std::string auth(r.headers.get("Authorization").value_or(""));
        return Response::text(calls == 1 ? 401 : 503, "rejected credentials: " + auth);
    });
    echoing.start();
    auto client = Client::create({.name = "c",
                                  .base_url = echoing.url(),
                                  .bearer_token = Secret(kToken),
                                  .retry = quick(2)});
    try {
        (void)client->get(scope_, "/");
        FAIL();
    } catch (const HttpStatusError& e) {
        EXPECT_EQ(e.status(), 401);
        EXPECT_NE(std::string(e.what()).find("Bearer ***"), std::string::npos) << e.what();
        EXPECT_EQ(std::string(e.what()).find(kToken), std::string::npos) << e.what();
    }
    try {
        (void)client->get(scope_, "/");
        FAIL();
    } catch (const HttpUnavailableError& e) {
        EXPECT_EQ(std::string(e.what()).find(kToken), std::string::npos) << e.what();
    }
    // And on a connection error.
    auto down = Client::create({.name = "c",
                                .base_url = "http://127.0.0.1:" + std::to_string(closed_port()),
                                .bearer_token = Secret(kToken),
                                .retry = quick(1)});
    try {
        (void)down->get(scope_, "/");
        FAIL();
    } catch (const TransientError& e) {
        EXPECT_EQ(std::string(e.what()).find(kToken), std::string::npos) << e.what();
    }
}

TEST_F(HttpClientTest, TlsIsVerifiedByDefaultWithNoFallback) {
    EXPECT_TRUE(ClientOptions{}.verify_tls);
    // https to the plain server: the TLS handshake fails; nothing is retried or downgraded.
    const std::string https = "https://127.0.0.1:" + std::to_string(server_.port());
    auto client = Client::create(
        {.name = "tls", .base_url = https, .connect_timeout = 2s, .retry = quick(3)});
    try {
        (void)client->get(scope_, "/echo");
        FAIL() << "expected a TLS failure";
    } catch (const TransientError& e) {
        FAIL() << "a TLS failure is not transient: " << e.what();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("TLS"), std::string::npos) << e.what();
    }
    EXPECT_EQ(client->stats().attempts, 1U);
    EXPECT_EQ(hits_.load(), 0);
    EXPECT_EQ(server_.stats().requests, 0U);
}

// A real TLS server (openssl s_server) with a self-signed certificate for 127.0.0.1.
class TlsServer {
public:
    TlsServer() {
        const ExitStatus made =
            ChildProcess::spawn(
                {.argv = {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                          "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj",
                          "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout",
                          (dir_ / "key.pem").string(), "-out", cert()},
                 .pipe_stdin = false,
                 .pipe_stdout = true,
                 .pipe_stderr = true})
                .wait();
        if (!made.succeeded()) {
            return;
        }
        port_ = scopeflow::testing::closed_port();
        server_ = ChildProcess::spawn({.argv = {"openssl", "s_server", "-quiet", "-www", "-accept",
                                                "127.0.0.1:" + std::to_string(port_), "-cert",
                                                cert(), "-key", (dir_ / "key.pem").string()},
                                       .pipe_stdout = false});
        ready_ = eventually([&] { return scopeflow::testing::RawConn(port_).connected(); });
    }
    TlsServer(const TlsServer&) = delete;
    TlsServer& operator=(const TlsServer&) = delete;
    ~TlsServer() {
        if (server_.pid() > 0) {
            (void)server_.terminate(1s);
        }
    }
    [[nodiscard]] bool ready() const { return ready_; }
    [[nodiscard]] std::string cert() const { return (dir_ / "cert.pem").string(); }
    [[nodiscard]] std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }

private:
    testing::TempDir dir_{"tls"};  // removed after the server stopped
    std::uint16_t port_ = 0;
    ChildProcess server_;
    bool ready_ = false;
};

TEST_F(HttpClientTest, SelfSignedCertificateIsRejectedUnlessItsCaIsGiven) {
    TlsServer tls;
    if (!tls.ready()) {
        GTEST_SKIP() << "openssl s_server could not be started";
    }
    auto strict = Client::create({.name = "strict", .base_url = tls.url(), .retry = quick(3)});
    try {
        (void)strict->get(scope_, "/");
        FAIL() << "a self-signed certificate was accepted";
    } catch (const TransientError& e) {
        FAIL() << "a verification failure is not transient: " << e.what();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("TLS failure"), std::string::npos) << e.what();
    }
    EXPECT_EQ(strict->stats().attempts, 1U);  // not retried, not downgraded

    auto trusting = Client::create(
        {.name = "trusting", .base_url = tls.url(), .ca_file = tls.cert(), .retry = quick(1)});
    EXPECT_EQ(trusting->get(scope_, "/").status, 200);
}

TEST_F(HttpClientTest, ExhaustedPoolTimesOutNamingThePool) {
    std::mutex mu;
    std::condition_variable_any cv;
    bool entered = false;
    bool release = false;
    server_.close();
    Server blocking({.name = "blocking"});
    blocking.route("GET", "/hold", [&](const Request& r) {
        std::unique_lock lock(mu);
        entered = true;
        cv.notify_all();
        cv.wait(lock, r.stop, [&] { return release; });
        return Response::text(200, "held");
    });
    blocking.start();
    auto client = Client::create({.name = "scarce", .base_url = blocking.url()},
                                 {.max_size = 1, .acquire_timeout = 100ms});
    std::thread holder([&] {
        Scope s("holder", {.monitor = &iso_.monitor});
        EXPECT_EQ(client->get(s, "/hold").body, "held");
    });
    {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return entered; });
    }
    try {
        (void)client->get(scope_, "/hold");
        FAIL() << "expected a pool timeout";
    } catch (const TransientError& e) {
        EXPECT_NE(std::string(e.what()).find("pool 'scarce'"), std::string::npos) << e.what();
    }
    EXPECT_EQ(client->pool_stats().timeouts, 1U);
    {
        std::lock_guard lock(mu);
        release = true;
    }
    cv.notify_all();
    holder.join();
}

TEST_F(HttpClientTest, StopTokenCutsABackoffShort) {
    server_.close();
    Server down({.name = "down"});
    down.route("GET", "/", [](const Request&) { return Response::text(503, ""); });
    down.start();
    ClientOptions o{.name = "c", .base_url = down.url()};
    o.retry = {.max_attempts = 5, .initial_backoff = 10s, .max_backoff = 10s};
    auto client = Client::create(o);
    std::stop_source stop;
    std::thread stopper([&] {
        std::this_thread::sleep_for(50ms);
        stop.request_stop();
    });
    const auto start = Clock::now();
    EXPECT_THROW((void)client->request(scope_, {.target = "/"}, stop.get_token()), CancelledError);
    EXPECT_LT(Clock::now() - start, 5s);
    stopper.join();
}

TEST_F(HttpClientTest, OptionsAreValidated) {
    EXPECT_THROW((void)Client::create({.name = ""}), ConfigError);
    EXPECT_THROW((void)Client::create({.name = "x", .base_url = "ftp://h"}), ConfigError);
    EXPECT_THROW((void)Client::create({.name = "x", .max_response_bytes = 0}), ConfigError);
    EXPECT_THROW((void)Client::create({.name = "x", .retry = {.max_attempts = 0}}), ConfigError);
    try {
        (void)Client::create({.name = "x", .connect_timeout = 0ms});
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.where(), "http.x.connect_timeout");
    }
}

TEST_F(HttpClientTest, LeasesAreTrackedInTheOwnerScope) {
    auto pool = http::make_pool({.max_size = 1}, options("raw"));
    EXPECT_EQ(pool->name(), "raw");
    {
        auto lease = pool->acquire(scope_);
        EXPECT_EQ(lease->perform({.target = "/echo"}).status, 200);
        lease->mark_broken();
    }
    // A broken session is discarded, not pooled again.
    auto lease = pool->acquire(scope_);
    EXPECT_EQ(pool->stats().created, 2U);
    EXPECT_FALSE(lease->broken());
}

}  // namespace
}  // namespace scopeflow::http
