// sqlite::Statement: one prepared statement (RAII over sqlite3_stmt*, finalized on destruction),
// with the map from the common $1..$n parameters to SQLite's bind indexes.
//
//   scopeflow::sqlite::Statement st = conn.prepare("UPDATE t SET v = $2 WHERE k = $1");
//   conn.execute(st, params);      // binds, steps, resets
//
// Statements come from Connection::prepare() (owned by the caller) or Connection::prepared()
// (cached by the connection). A statement must be finalized before its connection closes:
// destroy it first.
//
// Thread safety: used with its connection, by one thread at a time. Move-only.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

struct sqlite3_stmt;

namespace scopeflow::sqlite {

class Statement {
public:
    Statement() noexcept = default;
    // Takes ownership of `stmt`. `bind_index[k - 1]` is the SQLite bind index of `$k`.
    Statement(sqlite3_stmt* stmt, std::string sql, std::vector<int> bind_index) noexcept
        : stmt_(stmt),
          sql_(std::move(sql)),
          bind_index_(std::move(bind_index)) {}
    Statement(Statement&&) noexcept = default;
    Statement& operator=(Statement&&) noexcept = default;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    ~Statement() = default;  // sqlite3_finalize

    [[nodiscard]] sqlite3_stmt* native_handle() const noexcept { return stmt_.get(); }
    [[nodiscard]] const std::string& sql() const noexcept { return sql_; }
    // n for a statement using $1..$n.
    [[nodiscard]] std::size_t parameter_count() const noexcept { return bind_index_.size(); }
    [[nodiscard]] int bind_index(std::size_t k) const noexcept { return bind_index_[k - 1]; }
    explicit operator bool() const noexcept { return stmt_ != nullptr; }

    struct Finalize {
        void operator()(sqlite3_stmt* stmt) const noexcept;
    };

private:
    std::unique_ptr<sqlite3_stmt, Finalize> stmt_;
    std::string sql_;
    std::vector<int> bind_index_;
};

}  // namespace scopeflow::sqlite
