#include <charconv>
#include <fstream>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <unistd.h>

#include <scopeflow/core/error.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/core/unique_fd.h>
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

void write_atomically(const std::string& path, const std::string& content) {
    const std::string tmp = path + ".tmp";
    {
        UniqueFd fd = UniqueFd::open(tmp, O_WRONLY | O_CREAT | O_TRUNC);
        fd.write_all(content, "write " + tmp);
        if (::fsync(fd.get()) != 0) {
            throw Error("fsync " + tmp + " failed");
        }
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        ::unlink(tmp.c_str());
        throw Error("rename " + tmp + " to " + path + " failed");
    }
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
            std::this_thread::sleep_for(options_.retry_backoff);
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
            // Poll: wait (without the lock held by others for long) for new rows.
            const auto until = std::chrono::steady_clock::now() + options_.poll_interval;
            while (std::chrono::steady_clock::now() < until && !stop.stop_requested()) {
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
        }
    }
    std::size_t n = 0;
    while (n < out.size() && !buffered_.empty()) {
        Event& e = out[n++];
        Row& row = buffered_.front();
        e = std::move(row.event);
        e.meta().sequence = next_sequence_++;
        pending_.push_back({std::move(row.key), false, false});
        buffered_.pop_front();
        ++rows_;
    }
    return n;
}

void SqlSource::ack_locked(std::uint64_t sequence) {
    if (sequence < pending_base_ || sequence - pending_base_ >= pending_.size()) {
        return;
    }
    pending_[sequence - pending_base_].acked = true;
    while (!pending_.empty() && pending_.front().acked) {
        done_key_ = pending_.front().key;
        pending_.pop_front();
        ++pending_base_;
    }
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
    if (sequence >= pending_base_ && sequence - pending_base_ < pending_.size()) {
        pending_[sequence - pending_base_].nacked = true;  // holds progress back for good
    }
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
    write_atomically(options_.offset_path, key + "\n");
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
