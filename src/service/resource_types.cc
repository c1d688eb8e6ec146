#include "service/resource_types.h"

#include <string>
#include <vector>

#include <scopeflow/budget/file_budget.h>
#include <scopeflow/budget/memory_budget.h>
#include <scopeflow/core/secret.h>
#include <scopeflow/http/client.h>
#include <scopeflow/pool/pool_options.h>
#include <scopeflow/postgres/postgres_pool.h>
#include <scopeflow/redis/client.h>
#include <scopeflow/sqlite/database.h>

namespace scopeflow::service {
namespace {

// A default as the file would write it: "2s", "10m", "500ms", "0".
std::string duration_text(std::chrono::milliseconds d) {
    const auto ms = d.count();
    if (ms != 0 && ms % 60'000 == 0) {
        return std::to_string(ms / 60'000) + "m";
    }
    if (ms != 0 && ms % 1000 == 0) {
        return std::to_string(ms / 1000) + "s";
    }
    return ms == 0 ? "0" : std::to_string(ms) + "ms";
}

// "8MiB", "64KiB", "100".
std::string bytes_text(std::uint64_t n) {
    if (n != 0 && n % (1ULL << 20) == 0) {
        return std::to_string(n >> 20) + "MiB";
    }
    if (n != 0 && n % 1024 == 0) {
        return std::to_string(n >> 10) + "KiB";
    }
    return std::to_string(n);
}

// The pool settings every pooled resource takes; defaults from PoolOptions (max_size per type).
std::vector<Option> pool_option_specs(std::size_t default_max) {
    const PoolOptions d;
    return {
        {.name = "max_size",
         .kind = OptionKind::count,
         .doc = "pool: connections open at most",
         .default_value = std::to_string(default_max),
         .unit = "connections"},
        {.name = "min_idle",
         .kind = OptionKind::count,
         .doc = "pool: kept open while idle",
         .default_value = std::to_string(d.min_idle),
         .unit = "connections"},
        {.name = "acquire_timeout",
         .kind = OptionKind::duration,
         .doc = "pool: a stage waits this long for a connection",
         .default_value = duration_text(d.acquire_timeout)},
        {.name = "idle_timeout",
         .kind = OptionKind::duration,
         .doc = "pool: idle longer, closed (down to min_idle); 0: never",
         .default_value = duration_text(d.idle_timeout)},
        {.name = "max_lifetime",
         .kind = OptionKind::duration,
         .doc = "pool: older, closed when returned (less up to 10% jitter); 0: never",
         .default_value = duration_text(d.max_lifetime)},
        {.name = "leak_threshold",
         .kind = OptionKind::duration,
         .doc = "pool: a lease held longer is reported; 0: off",
         .default_value = duration_text(d.leak_threshold)},
        {.name = "validate_if_idle_for",
         .kind = OptionKind::duration,
         .doc = "pool: validate on borrow after this idle time",
         .default_value = duration_text(d.validate_if_idle_for)},
        {.name = "housekeeping_interval",
         .kind = OptionKind::duration,
         .doc = "pool: background eviction, top-up and leak checks",
         .default_value = "5s"},
    };
}

PoolOptions pool_options(const ParsedOptions& p) {
    PoolOptions o;
    o.name = p.name();
    o.max_size = static_cast<std::size_t>(p.count("max_size"));
    o.min_idle = static_cast<std::size_t>(p.count("min_idle"));
    o.acquire_timeout = p.duration("acquire_timeout");
    o.idle_timeout = p.duration("idle_timeout");
    o.max_lifetime = p.duration("max_lifetime");
    o.leak_threshold = p.duration("leak_threshold");
    o.validate_if_idle_for = p.duration("validate_if_idle_for");
    o.housekeeping_interval = p.duration("housekeeping_interval");
    try {
        validate_pool_options(o);
    } catch (const ConfigError& e) {
        // "pool.<name>.<field>: ..." -> "<where>.<field>: ..."
        const std::string& w = e.where();
        throw ConfigError(p.where(w.substr(w.rfind('.') + 1)), e.text());
    }
    return o;
}

// `<field>_env: VAR` or `<field>_file: PATH`, declared once for every type with a secret.
std::vector<Option> secret_option_specs(const std::string& field, const std::string& what) {
    return {{.name = field + "_env", .doc = "environment variable holding " + what},
            {.name = field + "_file", .doc = "file holding " + what}};
}

// The secret named by `<field>_env` or `<field>_file`; neither: empty.
Secret secret_from(const ParsedOptions& p, const std::string& field) {
    const std::string env_key = field + "_env";
    const std::string file_key = field + "_file";
    const std::string env = p.string(env_key);
    const std::string file = p.string(file_key);
    if (!env.empty() && !file.empty()) {
        throw ConfigError(p.where(env_key), "give " + env_key + " or " + file_key + ", not both");
    }
    if (!env.empty()) {
        return Secret::from_env(env, p.where(env_key));
    }
    if (!file.empty()) {
        return Secret::from_file(file, p.where(file_key));
    }
    return {};
}

ResourceProbe database_probe(const ParsedOptions& p,
                             const std::string& type,
                             const std::shared_ptr<sql::Database>& db) {
    return {.name = p.name(),
            .type = type,
            .pool = [db] { return db->pool_stats(); },
            .ping = [db](Scope& s) { return db->ping(s); }};
}

void add_sqlite(Catalog& c) {
    c.resource_types.add(
        OptionsSchema("sqlite", "an embedded SQLite database (the default; no server), pooled")
            .add({.name = "path", .doc = "database file, or :memory:", .default_value = ":memory:"})
            .add({.name = "read_only",
                  .kind = OptionKind::boolean,
                  .doc = "open read-only",
                  .default_value = "false"})
            .add({.name = "busy_timeout",
                  .kind = OptionKind::duration,
                  .doc = "wait for a lock this long",
                  .default_value = "5s"})
            .add_all(pool_option_specs(4)),
        [res = c.resources, probes = c.probes](const ParsedOptions& p) {
            sqlite::ConnectionOptions o;
            o.path = p.string("path");
            o.name = p.name();
            o.read_only = p.boolean("read_only");
            o.busy_timeout = p.duration("busy_timeout");
            auto db = sqlite::make_sqlite_database(pool_options(p), o);
            res->add<sql::Database>(p.name(), db, p.where());
            probes->push_back(database_probe(p, "sqlite", db));
        });
}

void add_postgres(Catalog& c) {
    const pg::ConnectionOptions d;
    c.resource_types.add(
        OptionsSchema("postgres", "a PostgreSQL database, pooled (for sql_lookup / sql_upsert)")
            .add({.name = "host", .doc = "the server", .default_value = d.host})
            .add({.name = "port",
                  .kind = OptionKind::count,
                  .doc = "the server's port",
                  .default_value = std::to_string(d.port)})
            .add({.name = "dbname", .doc = "the database", .required = true})
            .add({.name = "user", .doc = "the role", .required = true})
            .add_all(secret_option_specs("password", "the password"))
            .add({.name = "connect_timeout",
                  .kind = OptionKind::duration,
                  .doc = "connecting gives up after this long",
                  .default_value = duration_text(d.connect_timeout)})
            .add({.name = "statement_timeout",
                  .kind = OptionKind::duration,
                  .doc = "server-side limit per statement; 0: the server's",
                  .default_value = duration_text(d.statement_timeout)})
            .add({.name = "sslmode",
                  .doc = "libpq's sslmode",
                  .default_value = d.sslmode,
                  .choices = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}})
            .add_all(pool_option_specs(8)),
        [res = c.resources, probes = c.probes](const ParsedOptions& p) {
            pg::ConnectionOptions o;
            o.host = p.string("host");
            o.port = static_cast<int>(p.count("port"));
            o.dbname = p.string("dbname");
            o.user = p.string("user");
            o.password = secret_from(p, "password");
            o.application_name = "scopeflow/" + p.name();
            o.connect_timeout = p.duration("connect_timeout");
            o.statement_timeout = p.duration("statement_timeout");
            o.sslmode = p.string("sslmode");
            o.validate(p.where());
            auto db = pg::make_postgres_database(pool_options(p), std::move(o));
            res->add<sql::Database>(p.name(), db, p.where());
            probes->push_back(database_probe(p, "postgres", db));
        });
}

void add_redis(Catalog& c) {
    const redis::ConnectionOptions d;
    c.resource_types.add(
        OptionsSchema("redis", "a Redis server, pooled (for the redis stage)")
            .add({.name = "host", .doc = "the server", .default_value = d.host})
            .add({.name = "port",
                  .kind = OptionKind::count,
                  .doc = "the server's port",
                  .default_value = std::to_string(d.port)})
            .add_all(secret_option_specs("password", "the AUTH password"))
            .add({.name = "username", .doc = "ACL user"})
            .add({.name = "db",
                  .kind = OptionKind::count,
                  .doc = "database number",
                  .default_value = std::to_string(d.db)})
            .add({.name = "connect_timeout",
                  .kind = OptionKind::duration,
                  .doc = "TCP connect",
                  .default_value = duration_text(d.connect_timeout)})
            .add({.name = "command_timeout",
                  .kind = OptionKind::duration,
                  .doc = "per command; 0: none",
                  .default_value = duration_text(d.command_timeout)})
            .add_all(pool_option_specs(8)),
        [res = c.resources, probes = c.probes](const ParsedOptions& p) {
            redis::ConnectionOptions o;
            o.host = p.string("host");
            o.port = static_cast<int>(p.count("port"));
            o.password = secret_from(p, "password");
            if (const std::string user = p.string("username"); !user.empty()) {
                o.username = user;
            }
            o.db = static_cast<int>(p.count("db"));
            o.connect_timeout = p.duration("connect_timeout");
            o.command_timeout = p.duration("command_timeout");
            o.name = "scopeflow-" + p.name();
            try {
                redis::validate(o);
            } catch (const ConfigError& e) {
                // "redis.<field>": the secret is given as password_env / password_file.
                std::string field = e.where().substr(e.where().find('.') + 1);
                if (field == "password") {
                    field = "password_env";
                }
                throw ConfigError(p.where(field), e.text());
            }
            auto client = std::make_shared<redis::Client>(pool_options(p), std::move(o));
            res->add(p.name(), client, p.where());
            probes->push_back({.name = p.name(),
                               .type = "redis",
                               .pool = [client] { return client->stats(); },
                               .ping = [client](Scope& s) { return client->ping(s); }});
        });
}

void add_http(Catalog& c) {
    const http::ClientOptions d;
    c.resource_types.add(
        OptionsSchema("http", "an HTTP client with pooled, kept-alive sessions (for http_post)")
            .add({.name = "base_url", .doc = "prefixed to paths (e.g. https://api.example.com)"})
            .add({.name = "connect_timeout",
                  .kind = OptionKind::duration,
                  .doc = "per attempt",
                  .default_value = duration_text(d.connect_timeout)})
            .add({.name = "timeout",
                  .kind = OptionKind::duration,
                  .doc = "whole request, per attempt",
                  .default_value = duration_text(d.total_timeout)})
            .add({.name = "max_response_bytes",
                  .kind = OptionKind::bytes,
                  .doc = "larger responses fail",
                  .default_value = bytes_text(d.max_response_bytes)})
            .add({.name = "verify_tls",
                  .kind = OptionKind::boolean,
                  .doc = "check the server's certificate",
                  .default_value = "true"})
            .add({.name = "ca_file", .doc = "CA bundle instead of the system one"})
            .add_all(secret_option_specs("bearer_token", "the token sent as Authorization: Bearer"))
            .add({.name = "max_attempts",
                  .kind = OptionKind::count,
                  .doc = "tries per request on connection errors, 5xx, 429",
                  .default_value = std::to_string(d.retry.max_attempts)})
            .add_all(pool_option_specs(8)),
        [res = c.resources, probes = c.probes](const ParsedOptions& p) {
            http::ClientOptions o;
            o.name = p.name();
            if (const std::string base = p.string("base_url"); !base.empty()) {
                o.base_url = base;
            }
            o.connect_timeout = p.duration("connect_timeout");
            o.total_timeout = p.duration("timeout");
            o.max_response_bytes = static_cast<std::size_t>(p.bytes("max_response_bytes"));
            o.verify_tls = p.boolean("verify_tls");
            o.ca_file = p.string("ca_file");
            o.bearer_token = secret_from(p, "bearer_token");
            o.retry.max_attempts = static_cast<int>(p.count("max_attempts"));
            try {
                http::validate_client_options(o);
            } catch (const ConfigError& e) {
                // ClientOptions names differ from the option names in one place.
                std::string field = e.where().substr(e.where().rfind('.') + 1);
                if (field == "total_timeout") {
                    field = "timeout";
                }
                throw ConfigError(p.where(field), e.text());
            }
            auto client = http::Client::create(std::move(o), pool_options(p));
            res->add(p.name(), client, p.where());
            probes->push_back({.name = p.name(), .type = "http", .pool = [client] {
                                   return client->pool_stats();
                               }});
        });
}

void add_budgets(Catalog& c) {
    c.resource_types.add(
        OptionsSchema("memory", "a byte budget that stages take buffers from")
            .add({.name = "capacity",
                  .kind = OptionKind::bytes,
                  .doc = "bytes stages may hold at once",
                  .default_value = "64MiB"})
            .add({.name = "acquire_timeout",
                  .kind = OptionKind::duration,
                  .doc = "wait this long for room",
                  .default_value = "5s"}),
        [res = c.resources, probes = c.probes](const ParsedOptions& p) {
            MemoryBudgetOptions o;
            o.name = p.name();
            o.capacity_bytes = p.bytes("capacity");
            o.acquire_timeout = p.duration("acquire_timeout");
            std::shared_ptr<MemoryBudget> budget;
            try {
                budget = std::make_shared<MemoryBudget>(o);
            } catch (const ConfigError& e) {  // "memory_budget.<name>.capacity_bytes"
                throw ConfigError(p.where("capacity"), e.text());
            }
            res->add(p.name(), budget, p.where());
            probes->push_back({.name = p.name(), .type = "memory", .gauges = [budget] {
                                   const auto s = budget->stats();
                                   return std::vector<std::pair<std::string, double>>{
                                       {"capacity_bytes", static_cast<double>(s.capacity)},
                                       {"used_bytes", static_cast<double>(s.used)},
                                       {"peak_bytes", static_cast<double>(s.peak)},
                                       {"waiting", static_cast<double>(s.waiting)},
                                       {"timeouts", static_cast<double>(s.timeouts)}};
                               }});
        });
    const FileBudgetOptions files;
    c.resource_types.add(
        OptionsSchema("files", "an open-file budget")
            .add({.name = "max_open",
                  .kind = OptionKind::count,
                  .doc = "files open at once",
                  .default_value = std::to_string(files.max_open),
                  .unit = "files"})
            .add({.name = "acquire_timeout",
                  .kind = OptionKind::duration,
                  .doc = "wait this long for a slot",
                  .default_value = "5s"}),
        [res = c.resources, probes = c.probes](const ParsedOptions& p) {
            FileBudgetOptions o;
            o.name = p.name();
            o.max_open = static_cast<std::size_t>(p.count("max_open"));
            o.acquire_timeout = p.duration("acquire_timeout");
            std::shared_ptr<FileBudget> budget;
            try {
                budget = std::make_shared<FileBudget>(o);
            } catch (const ConfigError& e) {  // "file_budget.<name>.max_open"
                throw ConfigError(p.where("max_open"), e.text());
            }
            res->add(p.name(), budget, p.where());
            probes->push_back({.name = p.name(), .type = "files", .gauges = [budget] {
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

void register_resource_types(Catalog& catalog) {
    add_sqlite(catalog);
    add_postgres(catalog);
    add_redis(catalog);
    add_http(catalog);
    add_budgets(catalog);
}

}  // namespace scopeflow::service
