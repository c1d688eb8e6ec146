// The filter stage's options and its registration.
#include <scopeflow/core/error.h>
#include <scopeflow/stages/builtin_stages.h>
#include <scopeflow/stages/filter_stage.h>

namespace scopeflow {
namespace {

constexpr std::pair<std::string_view, CompareOp> kOps[] = {
    {"eq", CompareOp::eq},         {"ne", CompareOp::ne},          {"lt", CompareOp::lt},
    {"le", CompareOp::le},         {"gt", CompareOp::gt},          {"ge", CompareOp::ge},
    {"exists", CompareOp::exists}, {"missing", CompareOp::missing}};

CompareOp op_of(const std::string& name) {
    for (const auto& [n, op] : kOps) {
        if (n == name) {
            return op;
        }
    }
    return CompareOp::eq;  // the schema admits only the names above
}

OptionsSchema filter_schema() {
    std::vector<std::string> ops;
    for (const auto& [n, op] : kOps) {
        ops.emplace_back(n);
    }
    return OptionsSchema("filter",
                         "keeps events whose field satisfies a comparison; drops the rest")
        .add({.name = "field", .doc = "the field to test", .required = true})
        .add({.name = "op", .doc = "the comparison", .default_value = "eq", .choices = ops})
        .add({.name = "value",
              .kind = OptionKind::any,
              .doc = "what to compare with (required unless op is exists or missing)"})
        .check([](const ParsedOptions& o, const std::string& where) {
            const CompareOp op = op_of(o.string("op"));
            if (o.value("value") == nullptr && op != CompareOp::exists &&
                op != CompareOp::missing) {
                throw ConfigError(where + ".value", "is required for op '" + o.string("op") + "'");
            }
        });
}

}  // namespace

void register_filter_stage(StageRegistry& registry) {
    registry.add(filter_schema(), [](const ParsedOptions& o) -> std::unique_ptr<Stage> {
        FilterOptions f;
        f.field = o.string("field");
        f.op = op_of(o.string("op"));
        if (const Value* v = o.value("value")) {
            f.value = *v;
        }
        return std::make_unique<FilterStage>(std::move(f));
    });
}

}  // namespace scopeflow
