#include <charconv>

#include <libpq-fe.h>

#include <scopeflow/postgres/result.h>

namespace scopeflow::pg {

void Result::Free::operator()(pg_result* r) const noexcept {
    PQclear(r);
}

std::size_t Result::rows() const noexcept {
    return res_ ? static_cast<std::size_t>(PQntuples(res_.get())) : 0;
}

std::size_t Result::columns() const noexcept {
    return res_ ? static_cast<std::size_t>(PQnfields(res_.get())) : 0;
}

std::string_view Result::column_name(std::size_t column) const noexcept {
    const char* n = PQfname(res_.get(), static_cast<int>(column));
    return n == nullptr ? std::string_view() : std::string_view(n);
}

bool Result::is_null(std::size_t row, std::size_t column) const noexcept {
    return PQgetisnull(res_.get(), static_cast<int>(row), static_cast<int>(column)) != 0;
}

std::string_view Result::value(std::size_t row, std::size_t column) const noexcept {
    const int r = static_cast<int>(row);
    const int c = static_cast<int>(column);
    const char* v = PQgetvalue(res_.get(), r, c);
    if (v == nullptr) {
        return {};
    }
    return {v, static_cast<std::size_t>(PQgetlength(res_.get(), r, c))};
}

std::optional<std::string_view> Result::get(std::size_t row, std::size_t column) const noexcept {
    if (is_null(row, column)) {
        return std::nullopt;
    }
    return value(row, column);
}

std::int64_t Result::affected() const noexcept {
    if (!res_) {
        return 0;
    }
    const std::string_view t = PQcmdTuples(res_.get());
    std::int64_t n = 0;
    std::from_chars(t.data(), t.data() + t.size(), n);
    return n;
}

std::string_view Result::command() const noexcept {
    const char* s = res_ ? PQcmdStatus(res_.get()) : nullptr;
    return s == nullptr ? std::string_view() : std::string_view(s);
}

sql::Result Result::to_sql() const {
    sql::Result out;
    const std::size_t ncols = columns();
    const std::size_t nrows = rows();
    out.columns.reserve(ncols);
    for (std::size_t c = 0; c < ncols; ++c) {
        out.columns.emplace_back(column_name(c));
    }
    out.rows.resize(nrows);
    for (std::size_t r = 0; r < nrows; ++r) {
        auto& row = out.rows[r];
        row.reserve(ncols);
        for (std::size_t c = 0; c < ncols; ++c) {
            if (is_null(r, c)) {
                row.emplace_back(std::nullopt);
            } else {
                row.emplace_back(std::string(value(r, c)));
            }
        }
    }
    out.affected = affected();
    return out;
}

}  // namespace scopeflow::pg
