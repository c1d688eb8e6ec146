#include <charconv>
#include <fstream>
#include <sstream>

#include <scopeflow/core/error.h>
#include <scopeflow/core/files.h>
#include <scopeflow/core/interruptible_sleep.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/sources/sql_source.h>

namespace scopeflow {
namespace {

// A column's text as the most specific event value: integer, number, or string.
scopeflow::Value typed(const std::string& text) {
    std::int64_t i = 0;
    const char* end = text.data() + text.size();
    if (auto [p, ec] = std::from_chars(text.data(), end, i); ec == std::errc() && p == end) {
        return Value(i);
    }
    double d = 0;
    if (auto [p, ec] = std::from_chars(text.data(), end, d);
        ec == std::errc() && p == end && !text.empty()) {
        return Value(d);
    }
    return Value(text);
}

}  // namespace

SqlSource::SqlSource(std::shared_ptr<sql::Database> db, SqlSourceOptions options)
    : db_(std::move(db)),
      options_(std::move(options)) {
    if (!db_) {
        throw ConfigError("source.resource", "no database given");
    }
    if (options_.query.empty()) {
        throw ConfigError("source.query",
                          "a query with $1 (last key) and $2 (page size) is required");
    }
    if (options_.key.empty()) {
        throw ConfigError("source.key", "the key column is required");
    }
    if (options_.page_size == 0) {
        throw ConfigError("source.page_size", "must be at least 1");
    }
    last_key_ = options_.start_after;
    done_key_ = options_.start_after;
}

void SqlSource::open(Scope& scope) {
    scope_ = &scope;
    if (options_.offset_path.empty()) {
        return;
    }
    std::ifstream in(options_.offset_path);
    if (in) {
        std::ostringstream s;
        s << in.rdbuf();
        std::string key = s.str();
        if (!key.empty() && key.back() == '\n') {
            key.pop_back();
        }
        std::lock_guard lock(mu_);
        last_key_ = key;
        done_key_ = key;
    }
}

bool SqlSource::fetch_page_locked(const std::stop_token& stop) {
    int attempt = 0;
    while (true) {
        try {
            const std::vector<sql::Value> params{last_key_, std::to_string(options_.page_size)};
            const sql::Result r = db_->query(*scope_, options_.query, params);
            std::size_t key_col = r.columns.size();
            for (std::size_t c = 0; c < r.columns.size(); ++c) {
                if (r.columns[c] == options_.key) {
                    key_col = c;
                }
            }
            if (!r.rows.empty() && key_col == r.columns.size()) {
                throw ConfigError("source.key",
                                  "the query returns no column '" + options_.key + "'");
            }
            for (const auto& row : r.rows) {
                Event e;
                for (std::size_t c = 0; c < r.columns.size(); ++c) {
                    e.set(r.columns[c], row[c] ? typed(*row[c]) : scopeflow::Value());
                }
                last_key_ = row[key_col].value_or("");
                buffered_.push_back({std::move(e), last_key_});
            }
            return !r.rows.empty();
        } catch (const TransientError&) {
            if (++attempt >= options_.max_read_attempts || stop.stop_requested()) {
                throw;
            }
            ++retries_;
            if (!sleep_for(options_.retry_backoff, stop)) {
                throw;  // stopped during the backoff
            }
        }
    }
}

std::size_t SqlSource::read(std::span<Event> out, const std::stop_token& stop) {
    std::lock_guard lock(mu_);
    while (buffered_.empty()) {
        if (stop.stop_requested() || exhausted_) {
            return 0;
        }
        if (!fetch_page_locked(stop)) {
            if (options_.poll_interval.count() == 0) {
                exhausted_ = true;
                return 0;
            }
            // Poll: wait for new rows; a stop ends the wait at once.
            (void)sleep_for(options_.poll_interval, stop);
        }
    }
    std::size_t n = 0;
    while (n < out.size() && !buffered_.empty()) {
        Event& e = out[n++];
        Row& row = buffered_.front();
        e = std::move(row.event);
        e.meta().sequence = pending_.push(std::move(row.key));
        buffered_.pop_front();
        ++rows_;
    }
    return n;
}

void SqlSource::ack_locked(std::uint64_t sequence) {
    pending_.ack(sequence, [this](std::string& key) { done_key_ = std::move(key); });
}

void SqlSource::ack(std::uint64_t sequence) {
    std::lock_guard lock(mu_);
    ack_locked(sequence);
}

void SqlSource::ack_many(std::span<const std::uint64_t> sequences) {
    std::lock_guard lock(mu_);
    for (const auto s : sequences) {
        ack_locked(s);
    }
}

void SqlSource::nack(std::uint64_t sequence, std::string_view /*reason*/) {
    std::lock_guard lock(mu_);
    pending_.nack(sequence);  // stays unacked: holds progress back for good
}

void SqlSource::commit() {
    if (options_.offset_path.empty()) {
        return;
    }
    std::string key;
    {
        std::lock_guard lock(mu_);
        key = done_key_;
    }
    write_file_atomically(options_.offset_path, key + "\n");
}

std::uint64_t SqlSource::rows_read() const {
    std::lock_guard lock(mu_);
    return rows_;
}

std::uint64_t SqlSource::read_retries() const {
    std::lock_guard lock(mu_);
    return retries_;
}

std::string SqlSource::committed_key() const {
    std::lock_guard lock(mu_);
    return done_key_;
}

}  // namespace scopeflow
