// Helpers for the PostgreSQL connector's tests: options for the test server and scratch tables
// with names unique to the test process, dropped at the end.
#pragma once

#include <string>
#include <vector>

#include <unistd.h>

#include <scopeflow/postgres/connection.h>
#include <scopeflow/postgres/connection_options.h>

#include "integration/server_support.h"

namespace scopeflow::testing {

inline pg::ConnectionOptions pg_options() {
    const auto& s = servers().pg;
    return {.host = s.host,
            .port = std::stoi(s.port),
            .dbname = s.db,
            .user = s.user,
            .password = Secret(s.password),
            .application_name = "scopeflow-test"};
}

// Creates tables named <base>_<pid>_<n> and drops them when destroyed.
class ScratchTables {
public:
    ScratchTables() = default;
    ScratchTables(const ScratchTables&) = delete;
    ScratchTables& operator=(const ScratchTables&) = delete;
    ~ScratchTables() {
        if (names_.empty()) {
            return;
        }
        try {
            auto c = pg::Connection::open(pg_options());
            for (const auto& n : names_) {
                (void)c.exec("DROP TABLE IF EXISTS " + n, {});
            }
        } catch (...) {  // NOLINT(bugprone-empty-catch): best effort; the server is scratch
        }
    }

    // `columns` is the body of CREATE TABLE (...). Returns the table's name.
    std::string create(const std::string& base, const std::string& columns) {
        const std::string name =
            base + "_" + std::to_string(::getpid()) + "_" + std::to_string(names_.size());
        auto c = pg::Connection::open(pg_options());
        (void)c.exec("DROP TABLE IF EXISTS " + name, {});
        (void)c.exec("CREATE TABLE " + name + " (" + columns + ")", {});
        names_.push_back(name);
        return name;
    }

private:
    std::vector<std::string> names_;
};

}  // namespace scopeflow::testing
