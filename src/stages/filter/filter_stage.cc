#include <utility>

#include <scopeflow/core/error.h>
#include <scopeflow/stages/filter_stage.h>

namespace scopeflow {
namespace {

template <typename T>
bool compare(const T& a, const T& b, CompareOp op) noexcept {
    switch (op) {
        case CompareOp::eq:
            return a == b;
        case CompareOp::ne:
            return !(a == b);
        case CompareOp::lt:
            return a < b;
        case CompareOp::le:
            return !(b < a);
        case CompareOp::gt:
            return b < a;
        case CompareOp::ge:
            return !(a < b);
        case CompareOp::exists:
        case CompareOp::missing:
            break;
    }
    return false;
}

bool is_numeric(ValueKind k) noexcept {
    return k == ValueKind::integer || k == ValueKind::number;
}

}  // namespace

FilterStage::FilterStage(FilterOptions options)
    : Stage("filter"),
      options_(std::move(options)) {
    declare_drops();
    if (options_.field.empty()) {
        throw ConfigError("filter.field", "a filter needs a field name");
    }
}

bool FilterStage::matches(const Event& event) const noexcept {
    const Value* v = event.find(options_.field);
    if (options_.op == CompareOp::exists) {
        return v != nullptr;
    }
    if (options_.op == CompareOp::missing) {
        return v == nullptr;
    }
    if (v == nullptr) {
        return false;
    }
    const Value& want = options_.value;
    if (is_numeric(v->kind()) && is_numeric(want.kind())) {
        if (v->kind() == ValueKind::integer && want.kind() == ValueKind::integer) {
            return compare(v->as_int(), want.as_int(), options_.op);
        }
        return compare(v->as_double(), want.as_double(), options_.op);
    }
    if (v->kind() == ValueKind::string && want.kind() == ValueKind::string) {
        return compare(v->as_string(), want.as_string(), options_.op);
    }
    if (v->kind() == ValueKind::boolean && want.kind() == ValueKind::boolean) {
        return compare(v->as_bool(), want.as_bool(), options_.op);
    }
    return options_.op == CompareOp::ne;  // different types are never equal
}

ActionId FilterStage::on_process(Event& event, TaskContext& /*task*/) {
    return matches(event) ? kActionDefault : kActionDrop;
}

}  // namespace scopeflow
