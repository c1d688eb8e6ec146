// FieldsStage: set, rename and drop fields, in the order given.
//
//   FieldsStage({.operations = {FieldOp::set("source", Value("web")),
//                               FieldOp::rename("uid", "user"),
//                               FieldOp::drop("debug")}})
//
// rename of a missing field does nothing; rename onto an existing field replaces it.
#pragma once

#include <string>
#include <vector>

#include <scopeflow/event/event.h>
#include <scopeflow/engine/stage.h>

namespace scopeflow {

struct FieldOp {
    enum class Kind : unsigned char { set, rename, drop };
    Kind kind = Kind::set;
    std::string field;   // the field set, renamed from, or dropped
    std::string target;  // rename: the new name
    Value value;         // set: the value

    static FieldOp set(std::string field, Value value) {
        return {Kind::set, std::move(field), {}, std::move(value)};
    }
    static FieldOp rename(std::string from, std::string to) {
        return {Kind::rename, std::move(from), std::move(to), {}};
    }
    static FieldOp drop(std::string field) { return {Kind::drop, std::move(field), {}, {}}; }
};

struct FieldsOptions {
    std::vector<FieldOp> operations;  // applied in order
};

class FieldsStage final : public Stage {
public:
    explicit FieldsStage(FieldsOptions options);

protected:
    ActionId on_process(Event& event, TaskContext& task) override;

private:
    const FieldsOptions options_;
};

}  // namespace scopeflow
