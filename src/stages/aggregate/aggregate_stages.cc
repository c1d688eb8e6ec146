#include <utility>

#include <scopeflow/core/error.h>
#include <scopeflow/event/event.h>
#include <scopeflow/event/event_json.h>
#include <scopeflow/stages/aggregate_stages.h>

namespace scopeflow {
namespace {

// The group key of an event: the field's string, or its JSON text for other kinds.
std::string key_of(const Event& e, const std::string& field) {
    if (field.empty()) {
        return {};
    }
    const Value* v = e.find(field);
    if (v == nullptr) {
        return {};
    }
    if (v->kind() == ValueKind::string) {
        return std::string(v->as_string());
    }
    std::string s;
    append_json(*v, s);
    return s;
}

}  // namespace

CounterStage::CounterStage(CounterOptions options)
    : Stage("counter"),
      options_(std::move(options)) {
    if (options_.count_field.empty()) {
        throw ConfigError("counter.count_field", "must not be empty");
    }
}

ActionId CounterStage::on_process(Event& event, TaskContext& /*task*/) {
    std::uint64_t n = 0;
    {
        std::lock_guard lock(mu_);
        n = ++counts_[key_of(event, options_.key_field)];
    }
    event.set(options_.count_field, Value(n));
    return kActionDefault;
}

std::uint64_t CounterStage::count(const std::string& key) const {
    std::lock_guard lock(mu_);
    const auto it = counts_.find(key);
    return it == counts_.end() ? 0 : it->second;
}

TumblingWindowStage::TumblingWindowStage(TumblingWindowOptions options)
    : Stage("tumbling_window"),
      options_(std::move(options)),
      window_action_(declare_action("window")),
      late_action_(declare_action("late")) {
    declare_drops();  // inputs end here; their aggregates go out through "window"
    if (options_.time_field.empty()) {
        throw ConfigError("tumbling_window.time_field", "is required");
    }
    if (options_.size.count() <= 0) {
        throw ConfigError("tumbling_window.size", "must be positive");
    }
}

std::vector<AckHold> TumblingWindowStage::close_window(TaskContext& task) {
    const std::int64_t size = options_.size.count();
    for (const auto& [key, group] : groups_) {
        Event out;
        out.set("window_start", Value(start_));
        out.set("window_end", Value(start_ + size));
        if (!options_.key_field.empty()) {
            out.set("key", Value(key));
        }
        out.set("count", Value(group.count));
        if (!options_.sum_field.empty()) {
            out.set("sum", Value(group.sum));
        }
        task.emit(std::move(out), window_action_);
        ++emitted_;
    }
    groups_.clear();
    open_ = false;
    return std::exchange(holds_, {});
}

ActionId TumblingWindowStage::on_process(Event& event, TaskContext& task) {
    const std::optional<std::int64_t> ts = event.get_int(options_.time_field);
    if (!ts) {
        throw Error("field '" + options_.time_field +
                    "' is missing or not an integer (epoch milliseconds)");
    }
    const std::int64_t size = options_.size.count();
    std::int64_t start = *ts - (*ts % size);
    if (*ts < 0 && *ts % size != 0) {
        start -= size;  // floor for negative timestamps
    }
    std::vector<AckHold> closed;
    {
        std::lock_guard lock(mu_);
        if (open_ && start < start_) {
            ++late_;
            return late_action_;
        }
        if (open_ && start > start_) {
            closed = close_window(task);  // emitted downstream once process() returns
        }
        if (!open_) {
            open_ = true;
            start_ = start;
        }
        Group& g = groups_[key_of(event, options_.key_field)];
        ++g.count;
        if (!options_.sum_field.empty()) {
            g.sum += event.get_double(options_.sum_field).value_or(0.0);
        }
        holds_.push_back(task.hold_ack());
    }
    // The closed window's inputs are acked with this batch: after its aggregates went through
    // the rest of the graph and every stage flushed them.
    task.ack_with_batch(std::move(closed));
    return kActionDrop;
}

void TumblingWindowStage::on_flush(TaskContext& task) {
    std::vector<AckHold> closed;
    {
        std::lock_guard lock(mu_);
        if (open_) {
            closed = close_window(task);
        }
    }
    task.ack_with_batch(std::move(closed));
}

void TumblingWindowStage::on_finish(Scope& /*stage_scope*/) {
    std::vector<AckHold> open;
    {
        std::lock_guard lock(mu_);
        open = std::exchange(holds_, {});
        groups_.clear();
        open_ = false;
    }
    for (AckHold& h : open) {
        h.nack("window still open at shutdown: read again after restart");
    }
}

std::uint64_t TumblingWindowStage::windows_emitted() const {
    std::lock_guard lock(mu_);
    return emitted_;
}

std::uint64_t TumblingWindowStage::late_events() const {
    std::lock_guard lock(mu_);
    return late_;
}

}  // namespace scopeflow
