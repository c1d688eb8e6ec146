#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <string>
#include <unordered_map>
#include <utility>

#include <libpq-fe.h>
#include <poll.h>

#include <scopeflow/core/scope_guard.h>
#include <scopeflow/postgres/connection.h>

namespace scopeflow::pg {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kStatementShown = 200;  // bytes of SQL text quoted in messages
constexpr std::size_t kPipelineChunk = 64;    // queries queued between socket checks

struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
        return std::hash<std::string_view>{}(s);
    }
};

struct ConnFree {
    void operator()(PGconn* c) const noexcept { PQfinish(c); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnFree>;

// Server notices (NOTICE, WARNING) would go to stderr by default; drop them.
void drop_notice(void* /*arg*/, const char* /*message*/) {}

std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
        s.pop_back();
    }
    return s;
}

std::string shown(std::string_view sql) {
    if (sql.size() <= kStatementShown) {
        return std::string(sql);
    }
    return std::string(sql.substr(0, kStatementShown)) + "...";
}

// The connection is gone or unusable: class 08 (connection exception), 57P01 admin shutdown
// (pg_terminate_backend, fast shutdown), 57P02 crash shutdown, 57P03 cannot connect now. No
// SQLSTATE at all means libpq itself failed (send/receive).
bool connection_level(const char* sqlstate) {
    if (sqlstate == nullptr || sqlstate[0] == '\0') {
        return true;
    }
    const std::string_view s(sqlstate);
    return s.starts_with("08") || s == "57P01" || s == "57P02" || s == "57P03";
}

std::string millis_option(std::chrono::milliseconds ms) {
    return std::to_string(ms.count());
}

}  // namespace

struct Statement {
    std::string name;
    int nparams = 0;
};

struct Connection::State {
    ConnPtr conn;
    Secret password;  // kept only to redact libpq's messages
    std::string description;
    std::unordered_map<std::string, Statement, StringHash, std::equal_to<>> statements;
    std::uint64_t next_statement = 0;
    std::uint64_t prepares = 0;
    bool broken = false;
    std::vector<const char*> values;  // scratch: parameter pointers of the current call

    std::string redacted(const char* text) const {
        return trimmed(redact(text == nullptr ? "" : text, password));
    }

    [[noreturn]] void lost(std::string_view context) {
        broken = true;
        std::string msg = redacted(PQerrorMessage(conn.get()));
        throw ConnectionLost(description + ": connection lost (" + std::string(context) + ")" +
                             (msg.empty() ? std::string() : ": " + msg));
    }

    void ensure_usable() const {
        if (!conn) {
            throw ConnectionLost("postgres: not connected");
        }
        if (broken) {
            throw ConnectionLost(description + ": connection is broken");
        }
    }

    // Throws the error a failed result stands for (see the header for the classification).
    [[noreturn]] void raise(const PGresult* res, std::string_view sql) {
        const char* state = res == nullptr ? nullptr : PQresultErrorField(res, PG_DIAG_SQLSTATE);
        std::string msg = res == nullptr ? std::string() : redacted(PQresultErrorMessage(res));
        if (msg.empty()) {
            msg = redacted(PQerrorMessage(conn.get()));
        }
        if (PQstatus(conn.get()) == CONNECTION_BAD || connection_level(state)) {
            broken = true;
            throw ConnectionLost(description + ": connection lost: " + msg);
        }
        const std::string sqlstate(state);
        if (sqlstate == "57014") {
            throw QueryTimeout(description + ": statement timed out: " + msg +
                               " (in: " + shown(sql) + ")");
        }
        throw SqlError(description + ": " + msg + " [SQLSTATE " + sqlstate + "] in: " + shown(sql),
                       sqlstate, shown(sql));
    }

    // Checks a synchronous call's result; throws unless it succeeded.
    void check(const Result& r, std::string_view sql) {
        if (!r) {
            raise(nullptr, sql);
        }
        const ExecStatusType st = PQresultStatus(r.get());
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
            raise(r.get(), sql);
        }
    }

    // The cached statement for `sql`, prepared (and described, for its parameter count) on
    // first use.
    const Statement& statement(std::string_view sql) {
        if (const auto it = statements.find(sql); it != statements.end()) {
            return it->second;
        }
        std::string text(sql);
        std::string name = "sf_" + std::to_string(++next_statement);
        Result prepared(PQprepare(conn.get(), name.c_str(), text.c_str(), 0, nullptr));
        check(prepared, sql);
        Result described(PQdescribePrepared(conn.get(), name.c_str()));
        check(described, sql);
        ++prepares;
        const int n = PQnparams(described.get());
        return statements.emplace(std::move(text), Statement{std::move(name), n}).first->second;
    }

    void check_arity(const Statement& st, std::size_t given, std::string_view sql) const {
        if (static_cast<std::size_t>(st.nparams) != given) {
            throw SqlError(description + ": statement takes " + std::to_string(st.nparams) +
                               " parameter(s), " + std::to_string(given) +
                               " given, in: " + shown(sql),
                           "", shown(sql));
        }
    }

    const char* const* bind(std::span<const sql::Value> params) {
        values.clear();
        for (const auto& v : params) {
            values.push_back(v ? v->c_str() : nullptr);
        }
        return values.data();
    }

    Result exec(std::string_view sql, std::span<const sql::Value> params) {
        ensure_usable();
        const Statement& st = statement(sql);
        check_arity(st, params.size(), sql);
        Result r(PQexecPrepared(conn.get(), st.name.c_str(), st.nparams, bind(params), nullptr,
                                nullptr, 0));
        check(r, sql);
        return r;
    }

    void wait_socket(short events) {
        pollfd p{PQsocket(conn.get()), events, 0};
        while (::poll(&p, 1, -1) < 0) {
            if (errno != EINTR) {
                lost("poll failed");
            }
        }
    }

    // Sends `rows` (bracketed by BEGIN/COMMIT when `wrap`) in pipeline mode and collects one
    // result per query sent. Any failure that leaves the protocol state unknown marks the
    // connection broken. A failed query's error is thrown after the pipeline drained.
    std::vector<Result> run_pipeline(std::string_view sql,
                                     std::span<const sql::Params> rows,
                                     bool wrap) {
        ensure_usable();
        const Statement& st = statement(sql);
        const Statement* begin = wrap ? &statement("BEGIN") : nullptr;
        const Statement* commit = wrap ? &statement("COMMIT") : nullptr;
        for (const auto& row : rows) {
            check_arity(st, row.size(), sql);
        }
        const std::size_t first_row = wrap ? 1 : 0;
        const std::size_t total = rows.size() + (wrap ? 2 : 0);
        PGconn* c = conn.get();

        // Left in pipeline mode by a throw, the connection cannot be used again.
        auto break_unless_done = ScopeGuard([this] { broken = true; });

        if (PQsetnonblocking(c, 1) != 0 || PQenterPipelineMode(c) != 1) {
            lost("entering pipeline mode");
        }
        std::vector<Result> results;
        results.reserve(total);
        Result first_error;
        std::size_t sent = 0;
        bool synced = false;
        bool finished = false;
        bool have_result = false;  // a query's result arrived; its NULL terminator is next
        while (!finished) {
            for (std::size_t k = 0; k < kPipelineChunk && sent < total; ++k, ++sent) {
                int ok = 0;
                if (wrap && sent == 0) {
                    ok = PQsendQueryPrepared(c, begin->name.c_str(), 0, nullptr, nullptr, nullptr,
                                             0);
                } else if (wrap && sent == total - 1) {
                    ok = PQsendQueryPrepared(c, commit->name.c_str(), 0, nullptr, nullptr, nullptr,
                                             0);
                } else {
                    ok = PQsendQueryPrepared(c, st.name.c_str(), st.nparams,
                                             bind(rows[sent - first_row]), nullptr, nullptr, 0);
                }
                if (ok != 1) {
                    lost("sending a pipelined query");
                }
            }
            if (sent == total && !synced) {
                if (PQpipelineSync(c) != 1) {
                    lost("sending a pipeline sync");
                }
                synced = true;
            }
            const int flushed = PQflush(c);  // 0: all sent, 1: the socket is full
            if (flushed < 0) {
                lost("sending a pipeline");
            }
            if (PQconsumeInput(c) == 0) {
                lost("reading pipeline results");
            }
            while (!finished && PQisBusy(c) == 0) {
                PGresult* raw = PQgetResult(c);
                if (raw == nullptr) {
                    if (!have_result) {
                        break;  // nothing more is ready
                    }
                    have_result = false;
                    continue;
                }
                Result r(raw);
                switch (PQresultStatus(raw)) {
                    case PGRES_PIPELINE_SYNC:
                        finished = true;
                        break;
                    case PGRES_FATAL_ERROR:
                        have_result = true;
                        if (PQstatus(c) == CONNECTION_BAD ||
                            connection_level(PQresultErrorField(raw, PG_DIAG_SQLSTATE))) {
                            raise(raw, sql);
                        }
                        if (!first_error) {
                            first_error = std::move(r);
                        }
                        results.emplace_back();
                        break;
                    case PGRES_PIPELINE_ABORTED:
                        have_result = true;
                        results.emplace_back();
                        break;
                    default:
                        have_result = true;
                        results.push_back(std::move(r));
                        break;
                }
            }
            if (PQstatus(c) == CONNECTION_BAD) {
                lost("reading pipeline results");
            }
            if (finished || (sent < total && flushed == 0)) {
                continue;  // done, or more to queue and the socket took everything so far
            }
            wait_socket(static_cast<short>(flushed == 1 ? (POLLIN | POLLOUT) : POLLIN));
        }
        if (results.size() != total || PQexitPipelineMode(c) != 1 || PQsetnonblocking(c, 0) != 0) {
            lost("leaving pipeline mode");
        }
        break_unless_done.cancel();
        if (first_error) {
            if (wrap && PQtransactionStatus(c) == PQTRANS_INERROR) {
                exec("ROLLBACK", {});
            }
            raise(first_error.get(), sql);
        }
        if (wrap) {
            results.pop_back();
            results.erase(results.begin());
        }
        return results;
    }
};

Connection::Connection() noexcept = default;
Connection::Connection(std::unique_ptr<State> state) noexcept
    : state_(std::move(state)) {}
Connection::Connection(Connection&& other) noexcept = default;
Connection& Connection::operator=(Connection&& other) noexcept {
    if (this != &other) {
        close();
        state_ = std::move(other.state_);
    }
    return *this;
}
Connection::~Connection() {
    close();
}

Connection Connection::open(const ConnectionOptions& options) {
    options.validate("postgres " + options.describe());
    auto state = std::make_unique<State>();
    state->password = options.password;
    state->description = options.describe();

    const std::string port = std::to_string(options.port);
    // libpq's own connect_timeout (whole seconds, at least 2) is only a backstop here: the poll
    // loop below enforces options.connect_timeout.
    const auto backstop = std::max<std::int64_t>(
        2, std::chrono::ceil<std::chrono::seconds>(options.connect_timeout).count() + 1);
    const std::string connect_timeout = std::to_string(backstop);
    std::string server_options;
    if (options.statement_timeout.count() > 0) {
        server_options = "-c statement_timeout=" + millis_option(options.statement_timeout);
    }
    const std::string keepalive_idle = std::to_string(options.keepalive_idle.count());
    const std::string user_timeout = millis_option(options.tcp_user_timeout);
    std::vector<const char*> keys;
    std::vector<const char*> values;
    // Values must outlive PQconnectStartParams: std::string arguments are the named locals above.
    auto add = [&](const char* k, const std::string& v) {
        keys.push_back(k);
        values.push_back(v.c_str());
    };
    auto add_literal = [&](const char* k, const char* v) {
        keys.push_back(k);
        values.push_back(v);
    };
    add("host", options.host);
    add("port", port);
    add("dbname", options.dbname);
    add("user", options.user);
    add("password", options.password.reveal());
    add("application_name", options.application_name);
    add("sslmode", options.sslmode);
    add("connect_timeout", connect_timeout);
    add_literal("client_encoding", "UTF8");
    if (!server_options.empty()) {
        add("options", server_options);
    }
    if (options.keepalive_idle.count() > 0) {
        add_literal("keepalives", "1");
        add("keepalives_idle", keepalive_idle);
    }
    if (options.tcp_user_timeout.count() > 0) {
        add("tcp_user_timeout", user_timeout);
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);

    state->conn.reset(PQconnectStartParams(keys.data(), values.data(), 0));
    if (!state->conn) {
        throw std::bad_alloc();
    }
    PGconn* c = state->conn.get();
    auto failed = [&](const std::string& why) -> ConnectError {
        const std::string msg = state->redacted(PQerrorMessage(c));
        // libpq reports authentication failures only as text (no SQLSTATE before the session
        // starts); the server's messages are English unless lc_messages says otherwise.
        if (msg.find("authentication failed") != std::string::npos) {
            throw AuthenticationError(state->description, "authentication failed: " + msg);
        }
        return ConnectError(state->description + ": " + why + (msg.empty() ? "" : ": " + msg));
    };
    if (PQstatus(c) == CONNECTION_BAD) {
        throw failed("cannot connect");
    }
    const auto deadline = Clock::now() + options.connect_timeout;
    PostgresPollingStatusType poll_status = PGRES_POLLING_WRITING;
    while (poll_status != PGRES_POLLING_OK) {
        if (poll_status == PGRES_POLLING_FAILED) {
            throw failed("cannot connect");
        }
        const auto left =
            std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) {
            throw failed("no connection within " + std::to_string(options.connect_timeout.count()) +
                         "ms");
        }
        pollfd p{PQsocket(c),
                 static_cast<short>(poll_status == PGRES_POLLING_READING ? POLLIN : POLLOUT), 0};
        const int n = ::poll(&p, 1, static_cast<int>(left));
        if (n < 0 && errno != EINTR) {
            throw failed(std::string("poll failed: ") + errno_text(errno));
        }
        if (n > 0) {
            poll_status = PQconnectPoll(c);
        }
    }
    PQsetNoticeProcessor(c, drop_notice, nullptr);
    return Connection(std::move(state));
}

void Connection::close() noexcept {
    state_.reset();
}

bool Connection::is_open() const noexcept {
    return state_ != nullptr && state_->conn != nullptr;
}

bool Connection::broken() const noexcept {
    return state_ == nullptr || state_->broken || PQstatus(state_->conn.get()) == CONNECTION_BAD;
}

void Connection::mark_broken() noexcept {
    if (state_) {
        state_->broken = true;
    }
}

const std::string& Connection::describe() const noexcept {
    static const std::string kNone;
    return state_ ? state_->description : kNone;
}

int Connection::backend_pid() const noexcept {
    return state_ ? PQbackendPID(state_->conn.get()) : 0;
}

bool Connection::in_transaction() const noexcept {
    if (!state_) {
        return false;
    }
    const PGTransactionStatusType s = PQtransactionStatus(state_->conn.get());
    return s == PQTRANS_INTRANS || s == PQTRANS_INERROR || s == PQTRANS_ACTIVE;
}

bool Connection::transaction_failed() const noexcept {
    return state_ && PQtransactionStatus(state_->conn.get()) == PQTRANS_INERROR;
}

Result Connection::exec(std::string_view sql, std::span<const sql::Value> params) {
    if (!state_) {
        throw ConnectionLost("postgres: not connected");
    }
    return state_->exec(sql, params);
}

std::vector<Result> Connection::pipeline(std::string_view sql, std::span<const sql::Params> rows) {
    if (!state_) {
        throw ConnectionLost("postgres: not connected");
    }
    if (rows.empty()) {
        return {};
    }
    return state_->run_pipeline(sql, rows, false);
}

std::int64_t Connection::execute_batch(std::string_view sql, std::span<const sql::Params> rows) {
    if (!state_) {
        throw ConnectionLost("postgres: not connected");
    }
    if (rows.empty()) {
        return 0;
    }
    if (transaction_failed()) {
        throw SqlError(state_->description +
                           ": current transaction is aborted; batch not sent, in: " + shown(sql),
                       "25P02", shown(sql));
    }
    const auto results = state_->run_pipeline(sql, rows, !in_transaction());
    std::int64_t affected = 0;
    for (const auto& r : results) {
        affected += r.affected();
    }
    return affected;
}

bool Connection::ping() noexcept {
    if (broken()) {
        return false;
    }
    try {
        (void)exec("SELECT 1", {});
        return true;
    } catch (...) {
        return false;
    }
}

std::uint64_t Connection::prepares() const noexcept {
    return state_ ? state_->prepares : 0;
}

}  // namespace scopeflow::pg
