#include <utility>

#include <scopeflow/core/error.h>
#include <scopeflow/stages/fields_stage.h>

namespace scopeflow {

FieldsStage::FieldsStage(FieldsOptions options)
    : Stage("fields"),
      options_(std::move(options)) {
    for (std::size_t i = 0; i < options_.operations.size(); ++i) {
        const FieldOp& op = options_.operations[i];
        const std::string where = "fields.operations[" + std::to_string(i) + "]";
        if (op.field.empty()) {
            throw ConfigError(where, "needs a field name");
        }
        if (op.kind == FieldOp::Kind::rename && op.target.empty()) {
            throw ConfigError(where, "rename needs a target name");
        }
    }
}

ActionId FieldsStage::on_process(Event& event, TaskContext& /*task*/) {
    for (const FieldOp& op : options_.operations) {
        switch (op.kind) {
            case FieldOp::Kind::set:
                event.set(op.field, op.value);
                break;
            case FieldOp::Kind::rename:
                if (const Value* v = event.find(op.field)) {
                    Value moved = *v;
                    event.erase(op.field);
                    event.set(op.target, std::move(moved));
                }
                break;
            case FieldOp::Kind::drop:
                event.erase(op.field);
                break;
        }
    }
    return kActionDefault;
}

}  // namespace scopeflow
