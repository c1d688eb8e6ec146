// redis::Connection, redis::make_pool and redis::Client against a real server: binary safety,
// pipelining, AUTH, SELECT, timeouts, server-side kills, pool exhaustion, password hygiene.
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <scopeflow/core/error.h>
#include <scopeflow/pool/pool.h>
#include <scopeflow/redis/batch.h>
#include <scopeflow/redis/client.h>
#include <scopeflow/redis/connection.h>
#include <scopeflow/redis/connection_pool.h>
#include <scopeflow/redis/errors.h>
#include <scopeflow/redis/reply.h>

#include "integration/redis_support.h"

namespace scopeflow {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::redis_options;

// A server that answers whatever it is sent with an array announcing two million elements and
// then says nothing more: hiredis alone would allocate 16 MB for it at once, and a count of a few
// hundred million would cost gigabytes.
TEST(RedisReplyLimitTest, AnArrayAnnouncingTooManyElementsDropsTheConnectionWithoutAllocating) {
    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(listener, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(listener, 1), 0);
    socklen_t len = sizeof addr;
    ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    std::thread server([listener] {
        const int c = ::accept(listener, nullptr, nullptr);
        char buf[256];
        if (c >= 0 && ::read(c, buf, sizeof buf) > 0) {
            const std::string reply = "*2000000\r\n";
            (void)::write(c, reply.data(), reply.size());
            (void)::read(c, buf, sizeof buf);  // until the client hangs up
        }
        if (c >= 0) {
            ::close(c);
        }
    });
    std::string message;
    {
        auto conn = redis::Connection::open({.host = "127.0.0.1",
                                             .port = ntohs(addr.sin_port),
                                             .command_timeout = std::chrono::milliseconds(5000)});
        try {
            (void)conn.command({"PING"});
            ADD_FAILURE() << "a two-million-element reply was accepted";
        } catch (const redis::ConnectionLost& e) {
            message = e.what();
        }
        EXPECT_TRUE(conn.broken());
    }
    server.join();
    ::close(listener);
    EXPECT_NE(message.find("more than 1048576 elements"), std::string::npos) << message;
}

class RedisConnectionTest : public testing::RedisTest {};

std::string password() {
    return testing::servers().redis.password;
}

std::int64_t client_id(redis::Connection& c) {
    return c.command({"CLIENT", "ID"}).integer();
}

// Kills connection `id` from a separate connection, as an operator or a failover would.
void kill_client(std::int64_t id) {
    auto admin = redis::Connection::open(redis_options());
    const std::string ids = std::to_string(id);
    ASSERT_EQ(admin.command({"CLIENT", "KILL", "ID", ids}).integer(), 1);
}

TEST_F(RedisConnectionTest, SetAndGetAreBinarySafe) {
    auto c = redis::Connection::open(redis_options());
    using namespace std::string_literals;
    const std::string key = "bin:\0key\r\n%s"s;
    const std::string value = "a\0b\r\nc%s%d\r\n*1\r\n$3\r\n\xff\xfe\0"s;
    ASSERT_EQ(key.size(), 12U);
    EXPECT_EQ(c.command({"SET", key, value}).str(), "OK");
    const redis::Reply r = c.command({"GET", key});
    ASSERT_TRUE(r.is_string());
    EXPECT_EQ(r.str(), value);
    EXPECT_EQ(c.command({"STRLEN", key}).integer(), static_cast<std::int64_t>(value.size()));
    EXPECT_TRUE(c.command({"GET", "bin:\0other"s}).is_nil());  // the NUL is part of the key
    // The same through a pipelined batch.
    redis::Batch b;
    b.add({"SET", key + "2", value}).add({"GET", key + "2"});
    const auto replies = c.exec(b);
    ASSERT_EQ(replies.size(), 2U);
    EXPECT_EQ(replies[1].str(), value);
    c.command({"DEL", key, key + "2"});
}

TEST_F(RedisConnectionTest, PipelinesAThousandCommandsInOrder) {
    auto c = redis::Connection::open(redis_options());
    c.command({"DEL", "pipe:counter"});
    redis::Batch b;
    for (int i = 0; i < 1000; ++i) {
        b.add({"INCR", "pipe:counter"});
    }
    std::vector<redis::Reply> replies;
    c.exec(b, replies);
    ASSERT_EQ(replies.size(), 1000U);
    for (int i = 0; i < 1000; ++i) {
        ASSERT_EQ(replies[static_cast<std::size_t>(i)].integer(), i + 1) << "reply " << i;
    }
    // Mixed kinds, including an error in the middle that does not hide the rest.
    b.clear();
    b.add({"SET", "pipe:s", "v"}).add({"LPUSH", "pipe:s", "x"}).add({"GET", "pipe:s"});
    c.exec(b, replies);
    ASSERT_EQ(replies.size(), 3U);
    EXPECT_EQ(replies[0].kind(), redis::ReplyKind::status);
    EXPECT_TRUE(replies[1].is_error());
    EXPECT_EQ(redis::error_code(replies[1].str()), "WRONGTYPE");
    EXPECT_EQ(replies[2].str(), "v");
    EXPECT_THROW(c.check(replies[1], "LPUSH"), redis::CommandError);
    EXPECT_FALSE(c.broken());
    c.command({"DEL", "pipe:counter", "pipe:s"});
}

TEST_F(RedisConnectionTest, WrongPasswordFailsWithoutNamingIt) {
    auto o = redis_options();
    const std::string wrong = "wrong-" + password();  // contains the real one, too
    o.password = Secret(wrong);
    try {
        (void)redis::Connection::open(o);
        FAIL() << "AUTH with a wrong password succeeded";
    } catch (const TransientError& e) {
        FAIL() << "a wrong password must not be retriable: " << e.what();
    } catch (const redis::CommandError& e) {
        const std::string m = e.what();
        EXPECT_NE(m.find("redis://" + o.host + ":" + std::to_string(o.port) + "/0"),
                  std::string::npos)
            << m;
        EXPECT_EQ(m.find(wrong), std::string::npos) << m;
        EXPECT_EQ(m.find(password()), std::string::npos) << m;
        EXPECT_EQ(e.code(), "WRONGPASS") << m;
    }
    // An ACL user that does not exist fails the same way.
    o.password = Secret(password());
    o.username = "nobody";
    EXPECT_THROW((void)redis::Connection::open(o), redis::CommandError);
    // No password at all: the server refuses the first command that needs one.
    o = redis_options(3);
    o.password = Secret();
    try {
        (void)redis::Connection::open(o);
        FAIL() << "SELECT without AUTH succeeded";
    } catch (const redis::CommandError& e) {
        EXPECT_EQ(e.code(), "NOAUTH") << e.what();
    }
}

TEST_F(RedisConnectionTest, ErrorRepliesAreRedactedAndClassified) {
    auto c = redis::Connection::open(redis_options());
    // The server echoes arguments of an unknown command: the password must not come back.
    try {
        c.command({"NOSUCHCOMMAND", password()});
        FAIL();
    } catch (const redis::CommandError& e) {
        EXPECT_EQ(e.code(), "ERR");
        EXPECT_EQ(std::string(e.what()).find(password()), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("***"), std::string::npos) << e.what();
    }
    redis::Batch b;
    b.add({"NOSUCHCOMMAND", password()});
    const auto replies = c.exec(b);
    EXPECT_EQ(std::string(replies[0].str()).find(password()), std::string::npos);
    c.command({"SET", "classify:s", "v"});
    try {
        c.command({"LPUSH", "classify:s", "x"});
        FAIL();
    } catch (const TransientError&) {
        FAIL() << "WRONGTYPE is not retriable";
    } catch (const redis::CommandError& e) {
        EXPECT_EQ(e.code(), "WRONGTYPE");
    }
    EXPECT_FALSE(c.broken());  // a command error leaves the connection usable
    EXPECT_EQ(c.command({"GET", "classify:s"}).str(), "v");
    // The server states that mean "try again later" are transient.
    EXPECT_THROW(redis::throw_reply_error("r", "GET", "LOADING Redis is loading"),
                 redis::TryAgainError);
    EXPECT_THROW(redis::throw_reply_error("r", "GET", "BUSY script"), TransientError);
    EXPECT_THROW(redis::throw_reply_error("r", "GET", "MASTERDOWN link down"), TransientError);
    EXPECT_THROW(redis::throw_reply_error("r", "GET", "TRYAGAIN multi"), TransientError);
    c.command({"DEL", "classify:s"});
}

TEST_F(RedisConnectionTest, DatabaseSelectionIsolatesKeys) {
    auto c3 = redis::Connection::open(redis_options(3));
    auto c4 = redis::Connection::open(redis_options(4));
    EXPECT_EQ(c3.name(), "redis://" + redis_options().host + ":" +
                             std::to_string(redis_options().port) + "/3");
    c3.command({"SET", "isolated", "three"});
    c4.command({"DEL", "isolated"});
    EXPECT_TRUE(c4.command({"GET", "isolated"}).is_nil());
    EXPECT_EQ(c3.command({"GET", "isolated"}).str(), "three");
    c4.command({"SET", "isolated", "four"});
    EXPECT_EQ(c3.command({"GET", "isolated"}).str(), "three");
    c3.command({"DEL", "isolated"});
    c4.command({"DEL", "isolated"});
}

TEST_F(RedisConnectionTest, ClientNameIsSet) {
    auto o = redis_options();
    o.name = "scopeflow-test";
    auto c = redis::Connection::open(o);
    EXPECT_EQ(c.command({"CLIENT", "GETNAME"}).str(), "scopeflow-test");
    o.name = "has space";
    EXPECT_THROW((void)redis::Connection::open(o), ConfigError);
}

TEST_F(RedisConnectionTest, CommandTimeoutBreaksAndDiscardsTheConnection) {
    auto o = redis_options();
    o.command_timeout = 200ms;
    auto client = std::make_shared<redis::Client>(PoolOptions{.name = "cache-timeout"}, o);
    const auto start = Clock::now();
    try {
        client->run(root_,
                    [](redis::Connection& c) {
                        return c.command({"BLPOP", "timeout:none", "5"});
                    },
                    {.retries = 0});
        FAIL() << "BLPOP returned before the command timeout";
    } catch (const redis::ConnectionLost& e) {
        EXPECT_NE(std::string(e.what()).find("timed out after 200ms"), std::string::npos)
            << e.what();
    }
    EXPECT_LT(Clock::now() - start, 3s);
    PoolStats s = client->stats();
    EXPECT_EQ(s.broken, 1U);  // discarded, not returned to the idle set
    EXPECT_EQ(s.destroyed, 1U);
    EXPECT_EQ(s.idle, 0U);
    // A raw connection: broken after the timeout, refuses further commands.
    auto c = redis::Connection::open(o);
    EXPECT_THROW(c.command({"BLPOP", "timeout:none", "5"}), TransientError);
    EXPECT_TRUE(c.broken());
    EXPECT_THROW(c.command({"PING"}), redis::ConnectionLost);
    EXPECT_FALSE(c.ping());
}

TEST_F(RedisConnectionTest, ServerSideKillIsOneRetriableErrorAndTheConnectionIsReplaced) {
    auto pool = redis::make_pool(
        {.name = "cache-kill", .max_size = 2, .validate_if_idle_for = std::chrono::hours(1)},
        redis_options());
    std::int64_t first = 0;
    {
        auto lease = pool->acquire(root_);
        first = client_id(*lease);
    }
    kill_client(first);
    int errors = 0;
    std::int64_t second = 0;
    for (int attempt = 0; attempt < 3 && second == 0; ++attempt) {
        auto lease = pool->acquire(root_);
        try {
            second = client_id(*lease);
        } catch (const TransientError& e) {
            ++errors;
            EXPECT_NE(std::string(e.what()).find("redis://"), std::string::npos) << e.what();
        }
    }
    EXPECT_EQ(errors, 1);  // exactly one retriable error, then a new connection
    EXPECT_NE(second, 0);
    EXPECT_NE(second, first);
    const PoolStats s = pool->stats();
    EXPECT_EQ(s.broken, 1U);
    EXPECT_EQ(s.created, 2U);
    EXPECT_TRUE(pool->close(1s).clean());
}

TEST_F(RedisConnectionTest, ClientRetriesAKilledConnectionOnceOnAFreshOne) {
    redis::Client client(
        PoolOptions{
            .name = "cache-retry", .max_size = 2, .validate_if_idle_for = std::chrono::hours(1)},
        redis_options());
    // Two idle connections, both killed: the retry must not land on the other dead one.
    std::vector<std::int64_t> ids;
    {
        auto a = client.pool()->acquire(root_);
        auto b = client.pool()->acquire(root_);
        ids = {client_id(*a), client_id(*b)};
    }
    kill_client(ids[0]);
    kill_client(ids[1]);
    int calls = 0;
    const std::int64_t id = client.run(root_, [&](redis::Connection& c) {
        ++calls;
        return client_id(c);
    });
    EXPECT_EQ(calls, 2);  // one failure, one success: the caller saw no error
    EXPECT_EQ(client.retries(), 1U);
    EXPECT_NE(id, ids[0]);
    EXPECT_NE(id, ids[1]);
    EXPECT_EQ(client.stats().broken, 2U);
}

TEST_F(RedisConnectionTest, ValidationOnBorrowReplacesADeadIdleConnection) {
    auto pool = redis::make_pool(
        {.name = "cache-validate", .max_size = 1, .validate_if_idle_for = 0ms}, redis_options());
    std::int64_t first = 0;
    {
        auto lease = pool->acquire(root_);
        first = client_id(*lease);
    }
    kill_client(first);
    auto lease = pool->acquire(root_);  // PING fails: discarded and replaced, no error here
    EXPECT_NE(client_id(*lease), first);
    EXPECT_EQ(pool->stats().broken, 1U);
}

TEST_F(RedisConnectionTest, ExhaustedPoolTimesOutNamingThePool) {
    auto pool = redis::make_pool(
        {.name = "cache-exhausted", .max_size = 1, .acquire_timeout = 150ms}, redis_options());
    auto held = pool->acquire(root_, 10s);  // acquire_timeout bounds connecting too
    const auto start = Clock::now();
    try {
        auto second = pool->acquire(root_);
        FAIL() << "acquired past max_size";
    } catch (const TransientError& e) {
        EXPECT_NE(std::string(e.what()).find("cache-exhausted"), std::string::npos) << e.what();
        EXPECT_EQ(std::string(e.what()).find(password()), std::string::npos);
    }
    EXPECT_GE(Clock::now() - start, 150ms);
    EXPECT_EQ(pool->stats().timeouts, 1U);
}

TEST_F(RedisConnectionTest, UnnamedPoolIsNamedAfterTheServer) {
    auto pool = redis::make_pool({}, redis_options(2));
    EXPECT_EQ(pool->name(), "redis://" + redis_options().host + ":" +
                                std::to_string(redis_options().port) + "/2");
}

TEST_F(RedisConnectionTest, RefusedConnectIsTransientAndNamesTheServer) {
    auto o = redis_options();
    o.port = 1;  // nothing listens there
    try {
        (void)redis::Connection::open(o);
        FAIL();
    } catch (const redis::ConnectionLost& e) {
        EXPECT_NE(std::string(e.what()).find("redis://" + o.host + ":1/0"), std::string::npos);
        EXPECT_EQ(std::string(e.what()).find(password()), std::string::npos);
    }
}

TEST_F(RedisConnectionTest, ClosedAndMovedFromConnectionsRefuseCommands) {
    auto c = redis::Connection::open(redis_options());
    redis::Connection moved = std::move(c);
    EXPECT_TRUE(moved.ping());
    EXPECT_THROW(c.command({"PING"}), redis::ConnectionLost);  // NOLINT(bugprone-use-after-move)
    moved.close();
    moved.close();  // idempotent
    EXPECT_FALSE(moved.is_open());
    EXPECT_THROW(moved.command({"PING"}), redis::ConnectionLost);
}

TEST_F(RedisConnectionTest, OptionsAreValidated) {
    auto o = redis_options();
    o.port = 0;
    EXPECT_THROW((void)redis::make_pool({}, o), ConfigError);
    o = redis_options();
    o.db = -1;
    EXPECT_THROW((void)redis::Connection::open(o), ConfigError);
    o = redis_options();
    o.connect_timeout = 0ms;
    EXPECT_THROW((void)redis::Connection::open(o), ConfigError);
}

TEST_F(RedisConnectionTest, ClientCommandExecAndPing) {
    redis::Client client(PoolOptions{.name = "cache-client"}, redis_options(5));
    EXPECT_TRUE(client.ping(root_));
    client.command(root_, {"SET", "client:k", "1"});
    redis::Batch b;
    b.add({"INCR", "client:k"}).add({"GET", "client:k"});
    const auto replies = client.exec(root_, b);
    EXPECT_EQ(replies[0].integer(), 2);
    EXPECT_EQ(replies[1].str(), "2");
    EXPECT_THROW(client.command(root_, {"LPUSH", "client:k", "x"}), redis::CommandError);
    EXPECT_EQ(client.retries(), 0U);  // command errors are not retried
    client.command(root_, {"DEL", "client:k"});
    EXPECT_TRUE(client.close(1s).clean());
}

}  // namespace
}  // namespace scopeflow
