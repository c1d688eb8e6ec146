#include "service/resource_types.h"

#include <algorithm>
#include <charconv>
#include <vector>

#include <scopeflow/budget/file_budget.h>
#include <scopeflow/budget/memory_budget.h>
#include <scopeflow/http/client.h>
#include <scopeflow/pool/pool_options.h>
#include <scopeflow/postgres/postgres_pool.h>
#include <scopeflow/redis/client.h>
#include <scopeflow/core/secret.h>
#include <scopeflow/sqlite/database.h>

namespace scopeflow::service {
namespace {

std::string at(const Block& b, std::string_view field) {
    return b.path + "." + std::string(field);
}

constexpr std::string_view kPoolFields[] = {
    "max_size",     "min_idle",       "acquire_timeout",      "idle_timeout",
    "max_lifetime", "leak_threshold", "validate_if_idle_for", "housekeeping_interval"};

// reject_unknown_fields over the type's own fields plus the pool's.
void check_fields(const Block& b, std::initializer_list<std::string_view> own, bool pooled) {
    std::vector<std::string_view> known(own);
    if (pooled) {
        known.insert(known.end(), std::begin(kPoolFields), std::end(kPoolFields));
    }
    for (const auto& f : b.options) {
        if (std::find(known.begin(), known.end(), f.key) == known.end()) {
            std::string list;
            for (auto k : known) {
                list += (list.empty() ? "" : ", ") + std::string(k);
            }
            throw ConfigError(at(b, f.key), "unknown option '" + f.key + "' for a " + b.type +
                                                " resource (known: " + list + ")");
        }
    }
}

// A whole number; a quoted one ("5432", as `port: "${PG_PORT}"` gives) is accepted too.
std::uint64_t optional_count(const Block& b, std::string_view field, std::uint64_t fallback) {
    const Value* v = b.options.find(field);
    if (v == nullptr) {
        return fallback;
    }
    if (v->kind() == ValueKind::integer && v->as_int() >= 0) {
        return static_cast<std::uint64_t>(v->as_int());
    }
    if (v->kind() == ValueKind::string) {
        const std::string_view s = v->as_string();
        std::uint64_t n = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
        if (ec == std::errc() && end == s.data() + s.size() && !s.empty()) {
            return n;
        }
    }
    throw ConfigError(at(b, field), "expected a whole number >= 0");
}

std::uint64_t optional_bytes(const Block& b, std::string_view field, std::uint64_t fallback) {
    return scopeflow::optional_bytes(b.options, field, fallback, b.path);
}

ResourceProbe database_probe(const Block& b, const std::shared_ptr<sql::Database>& db) {
    return {.name = b.name,
            .type = b.type,
            .pool = [db] { return db->pool_stats(); },
            .ping = [db](Scope& s) { return db->ping(s); }};
}

void add_sqlite(Catalog& c) {
    c.resource_types.add({"sqlite", "an embedded SQLite database (the default; no server), pooled",
                          "path: database file, or :memory: (default :memory:)\n"
                          "read_only: open read-only (default false)\n"
                          "busy_timeout: wait for a lock this long (default 5s)\n"
                          "max_size, acquire_timeout, ...: pool settings"},
                         [res = c.resources, probes = c.probes](const Block& b) {
                             check_fields(b, {"path", "read_only", "busy_timeout"}, true);
                             sqlite::ConnectionOptions o;
                             o.path = optional_string(b.options, "path", ":memory:", b.path);
                             o.name = b.name;
                             o.read_only = optional_bool(b, "read_only", false);
                             o.busy_timeout =
                                 optional_duration(b, "busy_timeout", std::chrono::seconds(5));
                             auto db = sqlite::make_sqlite_database(pool_options(b, 4), o);
                             res->add<sql::Database>(b.name, db, b.path);
                             probes->push_back(database_probe(b, db));
                         });
}

void add_postgres(Catalog& c) {
    c.resource_types.add(
        {"postgres", "a PostgreSQL database, pooled (for sql_lookup / sql_upsert)",
         "host, port: the server (default 127.0.0.1:5432)\n"
         "dbname, user: (required)\n"
         "password_env / password_file: the password (optional)\n"
         "connect_timeout: (default 5s)\n"
         "statement_timeout: server-side limit per statement (default: the server's)\n"
         "sslmode: disable, allow, prefer, require, verify-ca, verify-full (default prefer)\n"
         "max_size, acquire_timeout, max_lifetime, leak_threshold, ...: pool settings"},
        [res = c.resources, probes = c.probes](const Block& b) {
            check_fields(b,
                         {"host", "port", "dbname", "user", "password_env", "password_file",
                          "connect_timeout", "statement_timeout", "sslmode"},
                         true);
            pg::ConnectionOptions o;
            o.host = optional_string(b.options, "host", o.host, b.path);
            o.port = static_cast<int>(optional_count(b, "port", 5432));
            o.dbname = require_string(b.options, "dbname", b.path);
            o.user = require_string(b.options, "user", b.path);
            o.password = secret_from(b, "password", false);
            o.application_name = "scopeflow/" + b.name;
            o.connect_timeout = optional_duration(b, "connect_timeout", o.connect_timeout);
            o.statement_timeout = optional_duration(b, "statement_timeout", o.statement_timeout);
            o.sslmode = optional_string(b.options, "sslmode", o.sslmode, b.path);
            o.validate(b.path);
            auto db = pg::make_postgres_database(pool_options(b, 8), std::move(o));
            res->add<sql::Database>(b.name, db, b.path);
            probes->push_back(database_probe(b, db));
        });
}

void add_redis(Catalog& c) {
    c.resource_types.add(
        {"redis", "a Redis server, pooled (for the redis stage)",
         "host, port: the server (default 127.0.0.1:6379)\n"
         "password_env / password_file: AUTH password (optional)\n"
         "username: ACL user (optional)\n"
         "db: database number (default 0)\n"
         "connect_timeout, command_timeout: (default 2s each)\n"
         "max_size, acquire_timeout, ...: pool settings"},
        [res = c.resources, probes = c.probes](const Block& b) {
            check_fields(b,
                         {"host", "port", "password_env", "password_file", "username", "db",
                          "connect_timeout", "command_timeout"},
                         true);
            redis::ConnectionOptions o;
            o.host = optional_string(b.options, "host", o.host, b.path);
            o.port = static_cast<int>(optional_count(b, "port", 6379));
            o.password = secret_from(b, "password", false);
            if (auto user = optional_string(b.options, "username", "", b.path); !user.empty()) {
                o.username = user;
            }
            o.db = static_cast<int>(optional_count(b, "db", 0));
            o.connect_timeout = optional_duration(b, "connect_timeout", o.connect_timeout);
            o.command_timeout = optional_duration(b, "command_timeout", o.command_timeout);
            o.name = "scopeflow-" + b.name;
            try {
                redis::validate(o);
            } catch (const ConfigError& e) {
                // "redis.<field>": the secret is given as password_env / password_file.
                std::string field = e.where().substr(e.where().find('.') + 1);
                if (field == "password") {
                    field = "password_env";
                }
                throw ConfigError(at(b, field), e.text());
            }
            auto client = std::make_shared<redis::Client>(pool_options(b, 8), std::move(o));
            res->add(b.name, client, b.path);
            probes->push_back({.name = b.name,
                               .type = b.type,
                               .pool = [client] { return client->stats(); },
                               .ping = [client](Scope& s) { return client->ping(s); }});
        });
}

void add_http(Catalog& c) {
    c.resource_types.add(
        {"http", "an HTTP client with pooled, kept-alive sessions (for http_post)",
         "base_url: prefixed to paths (e.g. https://api.example.com)\n"
         "connect_timeout: per attempt (default 5s)\n"
         "timeout: whole request, per attempt (default 30s)\n"
         "max_response_bytes: larger responses fail (default 8MiB)\n"
         "verify_tls: check the server's certificate (default true)\n"
         "ca_file: CA bundle instead of the system one\n"
         "bearer_token_env / bearer_token_file: Authorization: Bearer (optional)\n"
         "max_attempts: tries per request on connection errors, 5xx, 429 (default 3)\n"
         "max_size, acquire_timeout, ...: pool settings"},
        [res = c.resources, probes = c.probes](const Block& b) {
            check_fields(
                b,
                {"base_url", "connect_timeout", "timeout", "max_response_bytes", "verify_tls",
                 "ca_file", "bearer_token_env", "bearer_token_file", "max_attempts"},
                true);
            http::ClientOptions o;
            o.name = b.name;
            if (auto base = optional_string(b.options, "base_url", "", b.path); !base.empty()) {
                o.base_url = base;
            }
            o.connect_timeout = optional_duration(b, "connect_timeout", o.connect_timeout);
            o.total_timeout = optional_duration(b, "timeout", o.total_timeout);
            o.max_response_bytes = static_cast<std::size_t>(
                optional_bytes(b, "max_response_bytes", o.max_response_bytes));
            o.verify_tls = optional_bool(b, "verify_tls", true);
            o.ca_file = optional_string(b.options, "ca_file", "", b.path);
            o.bearer_token = secret_from(b, "bearer_token", false);
            o.retry.max_attempts = static_cast<int>(optional_count(
                b, "max_attempts", static_cast<std::uint64_t>(o.retry.max_attempts)));
            try {
                http::validate_client_options(o);
            } catch (const ConfigError& e) {
                // ClientOptions names differ from the option names in two places.
                std::string field = e.where().substr(e.where().rfind('.') + 1);
                if (field == "total_timeout") {
                    field = "timeout";
                }
                throw ConfigError(at(b, field), e.text());
            }
            auto client = http::Client::create(std::move(o), pool_options(b, 8));
            res->add(b.name, client, b.path);
            probes->push_back({.name = b.name, .type = b.type, .pool = [client] {
                                   return client->pool_stats();
                               }});
        });
}

void add_budgets(Catalog& c) {
    c.resource_types.add(
        {"memory", "a byte budget that stages take buffers from",
         "capacity: bytes (e.g. 64MiB; default 64MiB)\n"
         "acquire_timeout: wait this long for room (default 5s)"},
        [res = c.resources, probes = c.probes](const Block& b) {
            check_fields(b, {"capacity", "acquire_timeout"}, false);
            MemoryBudgetOptions o;
            o.name = b.name;
            o.capacity_bytes = optional_bytes(b, "capacity", 64ULL << 20);
            o.acquire_timeout = optional_duration(b, "acquire_timeout", std::chrono::seconds(5));
            std::shared_ptr<MemoryBudget> budget;
            try {
                budget = std::make_shared<MemoryBudget>(o);
            } catch (const ConfigError& e) {  // "memory_budget.<name>.capacity_bytes"
                throw ConfigError(at(b, "capacity"), e.text());
            }
            res->add(b.name, budget, b.path);
            probes->push_back({.name = b.name, .type = b.type, .gauges = [budget] {
                                   const auto s = budget->stats();
                                   return std::vector<std::pair<std::string, double>>{
                                       {"capacity_bytes", static_cast<double>(s.capacity)},
                                       {"used_bytes", static_cast<double>(s.used)},
                                       {"peak_bytes", static_cast<double>(s.peak)},
                                       {"waiting", static_cast<double>(s.waiting)},
                                       {"timeouts", static_cast<double>(s.timeouts)}};
                               }});
        });
    c.resource_types.add(
        {"files", "an open-file budget",
         "max_open: files open at once (default 256)\n"
         "acquire_timeout: wait this long for a slot (default 5s)"},
        [res = c.resources, probes = c.probes](const Block& b) {
            check_fields(b, {"max_open", "acquire_timeout"}, false);
            FileBudgetOptions o;
            o.name = b.name;
            o.max_open = static_cast<std::size_t>(optional_count(b, "max_open", o.max_open));
            o.acquire_timeout = optional_duration(b, "acquire_timeout", std::chrono::seconds(5));
            std::shared_ptr<FileBudget> budget;
            try {
                budget = std::make_shared<FileBudget>(o);
            } catch (const ConfigError& e) {  // "file_budget.<name>.max_open"
                throw ConfigError(at(b, "max_open"), e.text());
            }
            res->add(b.name, budget, b.path);
            probes->push_back({.name = b.name, .type = b.type, .gauges = [budget] {
                                   const auto s = budget->stats();
                                   return std::vector<std::pair<std::string, double>>{
                                       {"max_open", static_cast<double>(s.capacity)},
                                       {"open", static_cast<double>(s.open)},
                                       {"peak", static_cast<double>(s.peak)},
                                       {"timeouts", static_cast<double>(s.timeouts)}};
                               }});
        });
}

}  // namespace

std::chrono::milliseconds optional_duration(const Block& b,
                                            std::string_view field,
                                            std::chrono::milliseconds fallback) {
    return scopeflow::optional_duration(b.options, field, fallback, b.path);
}

bool optional_bool(const Block& b, std::string_view field, bool fallback) {
    const Value* v = b.options.find(field);
    if (v == nullptr) {
        return fallback;
    }
    if (v->kind() != ValueKind::boolean) {
        throw ConfigError(at(b, field), "expected true or false");
    }
    return v->as_bool();
}

// `<field>_env: VAR` or `<field>_file: PATH`; neither: empty (or an error when required).
Secret secret_from(const Block& b, std::string_view field, bool required) {
    const std::string env_key = std::string(field) + "_env";
    const std::string file_key = std::string(field) + "_file";
    const auto env = optional_string(b.options, env_key, "", b.path);
    const auto file = optional_string(b.options, file_key, "", b.path);
    if (!env.empty() && !file.empty()) {
        throw ConfigError(at(b, env_key), "give " + env_key + " or " + file_key + ", not both");
    }
    if (!env.empty()) {
        return Secret::from_env(env, at(b, env_key));
    }
    if (!file.empty()) {
        return Secret::from_file(file, at(b, file_key));
    }
    if (required) {
        throw ConfigError(b.path, "needs " + env_key + ": VARIABLE or " + file_key + ": PATH");
    }
    return {};
}

PoolOptions pool_options(const Block& b, std::size_t default_max) {
    PoolOptions o;
    o.name = b.name;
    o.max_size = static_cast<std::size_t>(optional_count(b, "max_size", default_max));
    o.min_idle = static_cast<std::size_t>(optional_count(b, "min_idle", 0));
    o.acquire_timeout = optional_duration(b, "acquire_timeout", o.acquire_timeout);
    o.idle_timeout = optional_duration(b, "idle_timeout", o.idle_timeout);
    o.max_lifetime = optional_duration(b, "max_lifetime", o.max_lifetime);
    o.leak_threshold = optional_duration(b, "leak_threshold", o.leak_threshold);
    o.validate_if_idle_for = optional_duration(b, "validate_if_idle_for", o.validate_if_idle_for);
    o.housekeeping_interval =
        optional_duration(b, "housekeeping_interval", std::chrono::seconds(5));
    try {
        validate_pool_options(o);
    } catch (const ConfigError& e) {
        // "pool.<name>.<field>: ..." -> "<block.path>.<field>: ..."
        const std::string& w = e.where();
        throw ConfigError(at(b, w.substr(w.rfind('.') + 1)), e.text());
    }
    return o;
}

void register_resource_types(Catalog& catalog) {
    add_sqlite(catalog);
    add_postgres(catalog);
    add_redis(catalog);
    add_http(catalog);
    add_budgets(catalog);
}

}  // namespace scopeflow::service
