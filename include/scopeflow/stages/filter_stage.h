// FilterStage: keeps events whose field satisfies a condition; drops the rest.
//
//   FilterStage({.field = "price", .op = CompareOp::ge, .value = Value(10.0)})
//
// Numbers compare numerically (integers and doubles mix), strings lexicographically; a field of
// another type than the value never matches. `exists` and `missing` ignore the value.
// Events that do not match are dropped (counted as dropped, and acked).
#pragma once

#include <string>

#include <scopeflow/event/event.h>
#include <scopeflow/engine/stage.h>

namespace scopeflow {

enum class CompareOp : unsigned char { eq, ne, lt, le, gt, ge, exists, missing };

struct FilterOptions {
    std::string field;             // the field to test
    CompareOp op = CompareOp::eq;  // the comparison
    Value value;                   // what to compare with (unused for exists/missing)
};

class FilterStage final : public Stage {
public:
    explicit FilterStage(FilterOptions options);
    [[nodiscard]] bool matches(const Event& event) const noexcept;

protected:
    ActionId on_process(Event& event, TaskContext& task) override;

private:
    const FilterOptions options_;
};

}  // namespace scopeflow
