// pg::Result: the RAII owner of one libpq result (PGresult), values in text format.
//
//   pg::Result r = conn.exec("SELECT id, name FROM customers WHERE tier = $1", {{"gold"}});
//   for (std::size_t i = 0; i < r.rows(); ++i) {
//       std::string_view name = r.value(i, 1);       // "" for NULL; is_null() tells them apart
//   }
//   sql::Result copy = r.to_sql();                   // owning copy, for sql::Database callers
//
// Views returned by value()/column_name() live as long as the Result. Move-only; the destructor
// frees the PGresult (PQclear). Thread safety: a const Result may be read concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include <scopeflow/sql/database.h>

struct pg_result;  // libpq's PGresult

namespace scopeflow::pg {

class Result {
public:
    Result() noexcept = default;
    explicit Result(pg_result* owned) noexcept
        : res_(owned) {}

    [[nodiscard]] std::size_t rows() const noexcept;
    [[nodiscard]] std::size_t columns() const noexcept;
    [[nodiscard]] std::string_view column_name(std::size_t column) const noexcept;
    [[nodiscard]] bool is_null(std::size_t row, std::size_t column) const noexcept;
    // The value as text; "" for NULL.
    [[nodiscard]] std::string_view value(std::size_t row, std::size_t column) const noexcept;
    // nullopt for NULL.
    [[nodiscard]] std::optional<std::string_view> get(std::size_t row,
                                                      std::size_t column) const noexcept;
    // Rows changed by INSERT/UPDATE/DELETE (PQcmdTuples), 0 for others.
    [[nodiscard]] std::int64_t affected() const noexcept;
    // The command tag: "INSERT 0 1", "SELECT 3", ...
    [[nodiscard]] std::string_view command() const noexcept;

    [[nodiscard]] sql::Result to_sql() const;

    [[nodiscard]] pg_result* get() const noexcept { return res_.get(); }
    explicit operator bool() const noexcept { return res_ != nullptr; }
    void clear() noexcept { res_.reset(); }

private:
    struct Free {
        void operator()(pg_result* r) const noexcept;
    };
    std::unique_ptr<pg_result, Free> res_;
};

}  // namespace scopeflow::pg
