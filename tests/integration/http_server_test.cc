// The embedded HTTP/1.1 server (over libmicrohttpd): routing, protocol errors, limits,
// keep-alive, chunked bodies, IPv6, timeouts and a clean shutdown (threads joined, every descriptor
// closed). Raw sockets send what a client library would refuse to; libcurl sessions check the
// ordinary paths.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <scopeflow/core/error.h>
#include <scopeflow/core/unique_fd.h>
#include <scopeflow/http/server.h>
#include <scopeflow/http/session.h>

#include "integration/http_test_support.h"
#include "support/probe.h"

namespace scopeflow::http {
namespace {

using namespace std::chrono_literals;
using scopeflow::testing::count_open_fds;
using scopeflow::testing::eventually;
using scopeflow::testing::RawConn;
using Clock = std::chrono::steady_clock;

Server::Handler echo() {
    return [](const Request& r) {
        Response resp = Response::text(200, r.method + " " + r.target + " " + r.body);
        resp.headers.add("X-Peer-Seen", r.peer.empty() ? "no" : "yes");
        return resp;
    };
}

std::shared_ptr<const ClientOptions> client_for(const Server& s) {
    return std::make_shared<const ClientOptions>(ClientOptions{.name = "t", .base_url = s.url()});
}

TEST(HttpServer, BindsAnEphemeralPortAndAnswersRoutes) {
    Server server({.name = "t"});
    server.route("GET", "/hello", echo());
    server.route("POST", "/hello", echo());
    EXPECT_EQ(server.port(), 0);
    server.start();
    ASSERT_NE(server.port(), 0);

    Session s = Session::open(client_for(server));
    Response r = s.perform({.method = "GET", .target = "/hello?x=1"});
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "GET /hello?x=1 ");
    EXPECT_EQ(r.headers.get("x-peer-seen"), "yes");
    r = s.perform({.method = "POST", .target = "/hello", .body = "payload"});
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "POST /hello payload");
    EXPECT_EQ(server.stats().requests, 2U);
}

TEST(HttpServer, UnknownPathIs404AndWrongMethodIs405WithAllow) {
    Server server({.name = "t"});
    server.route("GET", "/a", echo());
    server.route("PUT", "/a", echo());
    server.start();
    Session s = Session::open(client_for(server));
    EXPECT_EQ(s.perform({.target = "/nope"}).status, 404);
    const Response r = s.perform({.method = "DELETE", .target = "/a"});
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(r.headers.get("Allow"), "GET, PUT");
    EXPECT_EQ(server.stats().responses_4xx, 2U);
}

TEST(HttpServer, PrefixRoutesAndHeadThroughGet) {
    Server server({.name = "t"});
    server.route("GET", "/resources/*", echo());
    server.route("GET", "/resources/special",
                 [](const Request&) { return Response::text(200, "special"); });
    server.start();
    Session s = Session::open(client_for(server));
    EXPECT_EQ(s.perform({.target = "/resources/db1"}).body, "GET /resources/db1 ");
    EXPECT_EQ(s.perform({.target = "/resources/special"}).body, "special");  // exact wins
    EXPECT_EQ(s.perform({.target = "/resourcesX"}).status, 404);
    const Response head = s.perform({.method = "HEAD", .target = "/resources/special"});
    EXPECT_EQ(head.status, 200);
    EXPECT_EQ(head.body, "");
    EXPECT_EQ(head.headers.get("Content-Length"), "7");
}

TEST(HttpServer, TheLongestPrefixWinsAndAllowNamesOnlyItsMethods) {
    Server server({.name = "t"});
    server.route("GET", "/v1/*", [](const Request&) { return Response::text(200, "v1"); });
    server.route("POST", "/v1/ingest/*", [](const Request&) { return Response::text(200, "in"); });
    server.route("PUT", "/v1/ingest/*", [](const Request&) { return Response::text(200, "in"); });
    server.start();
    Session s = Session::open(client_for(server));
    EXPECT_EQ(s.perform({.method = "POST", .target = "/v1/ingest/orders"}).body, "in");
    EXPECT_EQ(s.perform({.target = "/v1/status"}).body, "v1");
    // GET /v1/ingest/x matches both prefixes: the longer one decides, and it has no GET.
    const Response r = s.perform({.target = "/v1/ingest/orders"});
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(r.headers.get("Allow"), "POST, PUT");
}

TEST(HttpServer, TheQueryIsNotPartOfThePathAndAPrefixNeedsItsSlash) {
    Server server({.name = "t"});
    server.route("GET", "/healthz", echo());
    server.route("POST", "/ingest/*", echo());
    server.start();
    Session s = Session::open(client_for(server));
    const Response q = s.perform({.target = "/healthz?probe=/ingest/x"});
    EXPECT_EQ(q.status, 200);
    EXPECT_EQ(q.body, "GET /healthz?probe=/ingest/x ") << "the handler sees the whole target";
    EXPECT_EQ(s.perform({.target = "/healthz/"}).status, 404) << "exact routes are exact";
    EXPECT_EQ(s.perform({.method = "POST", .target = "/ingest"}).status, 404)
        << "\"/ingest/*\" is the folder, not the name without its slash";
    EXPECT_EQ(s.perform({.method = "POST", .target = "/ingest/"}).status, 200);
}

TEST(HttpServer, ADuplicateRouteIsAConfigError) {
    Server server({.name = "t"});
    server.route("GET", "/a", echo());
    server.route("POST", "/a", echo());   // another method: fine
    server.route("GET", "/a/*", echo());  // the prefix of the same path: fine
    EXPECT_THROW(server.route("GET", "/a", echo()), ConfigError);
    EXPECT_THROW(server.route("GET", "/a/*", echo()), ConfigError);
}

TEST(HttpServer, HandlerExceptionIs500WithoutInternals) {
    Server server({.name = "t"});
    server.route("GET", "/boom", [](const Request&) -> Response {
        throw std::runtime_error("db password hunter2 rejected at row 7");
    });
    server.start();
    Session s = Session::open(client_for(server));
    const Response r = s.perform({.target = "/boom"});
    EXPECT_EQ(r.status, 500);
    EXPECT_EQ(r.body.find("hunter2"), std::string::npos);
    EXPECT_EQ(r.body.find("row 7"), std::string::npos);
    EXPECT_EQ(server.stats().handler_errors, 1U);
    EXPECT_NE(server.last_handler_error().find("row 7"), std::string::npos);
    // The connection survives a handler failure.
    EXPECT_EQ(s.perform({.target = "/boom"}).status, 500);
    EXPECT_EQ(s.connections_opened(), 1U);
}

TEST(HttpServer, MalformedRequestsAre400AndClose) {
    Server server({.name = "t", .read_timeout = 1s});
    server.route("GET", "/", echo());
    server.start();
    for (const char* bad :
         {"GET /\r\n\r\n", "GET / HTTP/1.1\r\nHost: t\r\nNo colon\r\n\r\n",
          "GET noslash HTTP/1.1\r\nHost: t\r\n\r\n",
          "GET / HTTP/1.1\r\nHost: t\r\nBad Name: x\r\n\r\n",
          "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 12x\r\n\r\n",
          "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"}) {
        RawConn c(server.port());
        ASSERT_TRUE(c.connected());
        ASSERT_TRUE(c.send(bad));
        const std::string got = c.read_all();
        EXPECT_TRUE(got.starts_with("HTTP/1.1 400 Bad Request\r\n")) << bad << " -> " << got;
        EXPECT_NE(got.find("Connection: close"), std::string::npos);
        EXPECT_TRUE(c.eof()) << bad;
    }
    // What cannot be an HTTP request at all (no request line; a TLS ClientHello) is closed
    // unanswered by libmicrohttpd, at once or when read_timeout (1 s here) passes.
    for (const std::string& junk :
         {std::string("GARBAGE\r\n\r\n"), std::string("\x16\x03\x01\x02\x00\x01", 6)}) {
        RawConn c(server.port());
        ASSERT_TRUE(c.send(junk));
        const std::string got = c.read_all(3s);
        EXPECT_FALSE(got.starts_with("HTTP/1.1 2")) << got;
        EXPECT_TRUE(c.eof());
    }
    RawConn v(server.port());
    ASSERT_TRUE(v.send("GET / HTTP/2.0\r\n\r\n"));
    EXPECT_TRUE(v.read_all().starts_with("HTTP/1.1 505 "));
}

TEST(HttpServer, Http11WithoutHostIs400AndHttp10WithoutHostIsServed) {
    Server server({.name = "t"});
    server.route("GET", "/", echo());
    server.start();
    RawConn c(server.port());
    ASSERT_TRUE(c.send("GET / HTTP/1.1\r\n\r\n"));
    const std::string got = c.read_all();
    EXPECT_TRUE(got.starts_with("HTTP/1.1 400 ")) << got;
    EXPECT_NE(got.find("Host"), std::string::npos) << got;  // the answer says what is missing
    EXPECT_TRUE(c.eof());
    RawConn old(server.port());
    ASSERT_TRUE(old.send("GET / HTTP/1.0\r\n\r\n"));
    EXPECT_TRUE(old.read_all().starts_with("HTTP/1.1 200 "));
}

TEST(HttpServer, ChunkedRequestBodiesAreAccepted) {
    Server server({.name = "t"});
    server.route("POST", "/", echo());
    server.start();
    RawConn c(server.port());
    ASSERT_TRUE(
        c.send("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
               "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
    const std::string got = c.read_responses(1);
    EXPECT_TRUE(got.starts_with("HTTP/1.1 200 ")) << got;
    EXPECT_NE(got.find("POST / hello world"), std::string::npos) << got;
    // Through libcurl, which sends chunked when told to.
    Session s = Session::open(client_for(server));
    Request r{.method = "POST", .target = "/", .body = "streamed"};
    r.headers.set("Transfer-Encoding", "chunked");
    const Response resp = s.perform(r);
    EXPECT_EQ(resp.status, 200);
    EXPECT_EQ(resp.body, "POST / streamed");
}

bool ipv6_loopback_available() {
    UniqueFd fd(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    return fd.valid() && ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
}

TEST(HttpServer, ServesIpv6AndDualStack) {
    if (!ipv6_loopback_available()) {
        GTEST_SKIP() << "no IPv6 loopback in this kernel";
    }
    Server v6({.name = "v6", .address = "::1"});
    v6.route("GET", "/", echo());
    v6.start();
    EXPECT_EQ(v6.url(), "http://[::1]:" + std::to_string(v6.port()));
    Session s = Session::open(client_for(v6));
    const Response r = s.perform({.target = "/"});
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "GET / ");
    // "::" takes IPv4 clients too.
    Server both({.name = "both", .address = "::"});
    both.route("GET", "/", echo());
    both.start();
    RawConn c(both.port());
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n"));
    EXPECT_TRUE(c.read_responses(1).starts_with("HTTP/1.1 200 "));
}

TEST(HttpServer, BodyOverLimitIs413AndHeadersOverLimitAre431) {
    Server server({.name = "t", .max_header_bytes = 1024, .max_body_bytes = 100});
    server.route("POST", "/", echo());
    server.start();
    {
        RawConn c(server.port());
        ASSERT_TRUE(c.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 101\r\n\r\n"));
        EXPECT_TRUE(c.read_all().starts_with("HTTP/1.1 413 "));
    }
    {
        RawConn c(server.port());
        ASSERT_TRUE(
            c.send("GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n"));
        EXPECT_TRUE(c.read_all().starts_with("HTTP/1.1 431 "));
    }
    {
        // A chunked body has no length up front: refused once it grows past the limit.
        RawConn c(server.port());
        ASSERT_TRUE(
            c.send("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "64\r\n" +
                   std::string(100, 'a') + "\r\n1\r\nb\r\n0\r\n\r\n"));
        const std::string got = c.read_all();
        EXPECT_TRUE(got.starts_with("HTTP/1.1 413 ")) << got;
        EXPECT_NE(got.find("100 bytes"), std::string::npos) << got;  // names the limit
        EXPECT_TRUE(c.eof());
    }
    {
        // Through libcurl too: a body one byte over the limit.
        Session s = Session::open(client_for(server));
        EXPECT_EQ(
            s.perform({.method = "POST", .target = "/", .body = std::string(101, 'x')}).status,
            413);
        EXPECT_EQ(
            s.perform({.method = "POST", .target = "/", .body = std::string(100, 'x')}).status,
            200);
    }
    EXPECT_EQ(server.stats().responses_4xx, 4U);
}

TEST(HttpServer, KeepAliveAndPipelinedRequestsShareOneConnection) {
    Server server({.name = "t"});
    server.route("GET", "/", echo());
    server.route("POST", "/", echo());
    server.start();
    RawConn c(server.port());
    ASSERT_TRUE(c.send("GET /?1 HTTP/1.1\r\nHost: x\r\n\r\n"));
    std::string got = c.read_responses(1);
    EXPECT_EQ(RawConn::complete(got), 1);
    EXPECT_EQ(got.find("Connection: close"), std::string::npos);
    EXPECT_FALSE(c.eof());
    c.clear();
    // Two requests in one write: both answered, in order.
    ASSERT_TRUE(
        c.send("POST /?2 HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabcGET /?3 "
               "HTTP/1.1\r\nHost: t\r\n\r\n"));
    got = c.read_responses(2);
    EXPECT_EQ(RawConn::complete(got), 2);
    EXPECT_LT(got.find("POST /?2 abc"), got.find("GET /?3 "));
    c.clear();
    ASSERT_TRUE(c.send("GET /?4 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
    got = c.read_all();
    EXPECT_NE(got.find("Connection: close"), std::string::npos);
    EXPECT_TRUE(c.eof());
    EXPECT_EQ(server.stats().connections_accepted, 1U);
    EXPECT_EQ(server.stats().requests, 4U);
}

TEST(HttpServer, Http10ClosesUnlessKeepAliveIsAsked) {
    Server server({.name = "t"});
    server.route("GET", "/", echo());
    server.start();
    RawConn c(server.port());
    ASSERT_TRUE(c.send("GET / HTTP/1.0\r\n\r\n"));
    EXPECT_NE(c.read_all().find("Connection: close"), std::string::npos);
    EXPECT_TRUE(c.eof());
    RawConn k(server.port());
    ASSERT_TRUE(k.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    EXPECT_NE(k.read_responses(1).find("Connection: Keep-Alive"), std::string::npos);
    EXPECT_FALSE(k.eof());
}

TEST(HttpServer, ExpectContinueIsAnswered) {
    Server server({.name = "t"});
    server.route("POST", "/", echo());
    server.start();
    RawConn c(server.port());
    ASSERT_TRUE(
        c.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
    const std::string interim =
        c.read_until([](const std::string& b) { return b.find("\r\n\r\n") != std::string::npos; });
    EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
    c.clear();
    ASSERT_TRUE(c.send("hello"));
    EXPECT_NE(c.read_responses(1).find("POST / hello"), std::string::npos);
}

TEST(HttpServer, SlowClientsAreClosedAfterReadTimeout) {
    // libmicrohttpd counts timeouts in whole seconds: 200 ms becomes 1 s.
    Server server({.name = "t", .workers = 1, .read_timeout = 200ms});
    server.route("GET", "/", echo());
    server.route("POST", "/", echo());
    server.start();
    RawConn slow(server.port());
    ASSERT_TRUE(slow.send("GET / HTTP/1.1\r\nHost: t\r\nX-Slow: "));  // never finishes its head
    RawConn slow_body(server.port());
    ASSERT_TRUE(slow_body.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc"));
    const auto start = Clock::now();
    EXPECT_EQ(slow.read_all(5s), "");
    EXPECT_TRUE(slow.eof());
    EXPECT_EQ(slow_body.read_all(5s), "");
    EXPECT_TRUE(slow_body.eof());
    EXPECT_LT(Clock::now() - start, 3s);
    EXPECT_EQ(server.stats().timeouts, 1U);  // the one whose body stopped
    // The single worker was never held.
    Session s = Session::open(client_for(server));
    EXPECT_EQ(s.perform({.target = "/"}).status, 200);
}

TEST(HttpServer, IdleKeepAliveConnectionsAreClosed) {
    Server server({.name = "t", .idle_timeout = 100ms});
    server.route("GET", "/", echo());
    server.start();
    RawConn c(server.port());
    ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n"));
    (void)c.read_responses(1);
    (void)c.read_all(5s);  // the server closes it after 100 ms idle
    EXPECT_TRUE(c.eof());
    EXPECT_TRUE(eventually([&] { return server.stats().connections_open == 0; }));
}

TEST(HttpServer, IdleConnectionsDoNotHoldWorkers) {
    // One worker, three idle keep-alive connections: a fourth client is still served.
    Server server({.name = "t", .workers = 1});
    server.route("GET", "/", echo());
    server.start();
    std::vector<std::unique_ptr<RawConn>> idle;
    for (int i = 0; i < 3; ++i) {
        idle.push_back(std::make_unique<RawConn>(server.port()));
        ASSERT_TRUE(idle.back()->send("GET / HTTP/1.1\r\nHost: t\r\n\r\n"));
        ASSERT_EQ(RawConn::complete(idle.back()->read_responses(1)), 1);
    }
    Session s = Session::open(client_for(server));
    EXPECT_EQ(s.perform({.target = "/"}).status, 200);
    EXPECT_EQ(server.stats().connections_open, 4U);
}

TEST(HttpServer, ConnectionsOverTheLimitAreClosed) {
    Server server({.name = "t", .max_connections = 1});
    server.route("GET", "/", echo());
    server.start();
    RawConn first(server.port());
    ASSERT_TRUE(first.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n"));
    ASSERT_EQ(RawConn::complete(first.read_responses(1)), 1);
    RawConn second(server.port());
    EXPECT_EQ(second.read_all(), "");
    EXPECT_TRUE(second.eof());
    EXPECT_EQ(server.stats().connections_rejected, 1U);
}

TEST(HttpServer, BindConflictNamesTheAddress) {
    Server a({.name = "a"});
    a.start();
    Server b({.name = "b", .port = a.port()});
    try {
        b.start();
        FAIL() << "expected a bind error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(a.port())),
                  std::string::npos)
            << e.what();
        EXPECT_NE(std::string(e.what()).find("bind"), std::string::npos);
    }
}

TEST(HttpServer, OptionsAreValidated) {
    EXPECT_THROW(Server({.name = "t", .address = "localhost"}), ConfigError);
    EXPECT_NO_THROW(Server({.name = "t", .address = "::1"}));
    EXPECT_THROW(Server({.name = "t", .workers = 0}), ConfigError);
    Server s({.name = "t"});
    s.route("GET", "/x", echo());
    EXPECT_THROW(s.route("GET", "/x", echo()), ConfigError);
    EXPECT_THROW(s.route("GET", "x", echo()), ConfigError);
    s.start();
    EXPECT_THROW(s.route("GET", "/y", echo()), UsageError);
}

// A handler that blocks until released (or its stop token fires), for shutdown tests.
struct Blocker {
    std::mutex mu;
    std::condition_variable_any cv;
    bool entered = false;
    bool released = false;

    Response handle(const Request& r) {
        std::unique_lock lock(mu);
        entered = true;
        cv.notify_all();
        cv.wait(lock, r.stop, [&] { return released; });
        return Response::text(200, released ? "finished" : "stopped");
    }
    void wait_entered() {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return entered; });
    }
    void release() {
        std::lock_guard lock(mu);
        released = true;
        cv.notify_all();
    }
};

TEST(HttpServer, CloseFinishesAnInFlightRequestWithinTheDeadline) {
    Blocker blocker;
    auto server = std::make_unique<Server>(ServerOptions{.name = "t", .shutdown_timeout = 5s});
    server->route("GET", "/slow", [&](const Request& r) { return blocker.handle(r); });
    server->start();
    RawConn c(server->port());
    ASSERT_TRUE(c.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n"));
    blocker.wait_entered();
    std::thread closer([&] { server->close(); });
    // close() has begun: no new connection is accepted...
    ASSERT_TRUE(eventually([&] { return !RawConn(server->port()).connected(); }));
    blocker.release();  // ...but the request in flight completes, marked Connection: close.
    const std::string got = c.read_all();
    closer.join();
    EXPECT_NE(got.find("finished"), std::string::npos) << got;
    EXPECT_NE(got.find("Connection: close"), std::string::npos);
    EXPECT_TRUE(c.eof());
}

TEST(HttpServer, CloseStopsAStuckRequestAtTheDeadline) {
    Blocker blocker;  // never released: only the stop token ends it
    Server server({.name = "t", .shutdown_timeout = 150ms});
    server.route("GET", "/slow", [&](const Request& r) { return blocker.handle(r); });
    server.start();
    RawConn c(server.port());
    ASSERT_TRUE(c.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n"));
    blocker.wait_entered();
    const auto start = Clock::now();
    server.close();
    const auto took = Clock::now() - start;
    EXPECT_GE(took, 140ms);
    EXPECT_LT(took, 3s);
    (void)c.read_all(2s);
    EXPECT_TRUE(c.eof());
    EXPECT_EQ(server.stats().connections_open, 0U);
}

TEST(HttpServer, CloseLeavesNoDescriptorBehind) {
    const int before = count_open_fds();
    {
        Server server({.name = "t", .workers = 3});
        server.route("GET", "/", echo());
        server.start();
        {
            std::vector<std::unique_ptr<RawConn>> conns;
            for (int i = 0; i < 5; ++i) {
                conns.push_back(std::make_unique<RawConn>(server.port()));
                ASSERT_TRUE(conns.back()->send("GET / HTTP/1.1\r\nHost: t\r\n\r\n"));
                ASSERT_EQ(RawConn::complete(conns.back()->read_responses(1)), 1);
            }
            RawConn half(server.port());
            ASSERT_TRUE(half.send("GET / HTTP/1.1\r\nHost: t\r\n"));  // in a worker, mid-head
            ASSERT_TRUE(eventually([&] { return server.stats().connections_open == 6; }));
            EXPECT_GT(count_open_fds(), before + 6);
            // No request is in flight (the half one is not complete): close does not wait for
            // the 5 s shutdown_timeout.
            const auto start = Clock::now();
            server.close();
            EXPECT_LT(Clock::now() - start, 2s);
            EXPECT_EQ(server.stats().connections_open, 0U);
        }
        EXPECT_EQ(count_open_fds(), before);
        server.close();  // idempotent
    }
    EXPECT_EQ(count_open_fds(), before);
}

TEST(HttpServer, DestructorWithoutStartOrCloseIsClean) {
    const int before = count_open_fds();
    { Server unstarted({.name = "t"}); }
    {
        Server started({.name = "t"});
        started.start();
    }
    EXPECT_EQ(count_open_fds(), before);
}

}  // namespace
}  // namespace scopeflow::http
