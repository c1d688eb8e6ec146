// A sample plugin: the "upper" stage upper-cases one string field.
//
//   build: a CMake MODULE library, linked against nothing from scopeflow (the host exports it)
//   load:  scopeflow::load_plugin("libscopeflow_upper.so", registry, service_scope);
#include <cctype>
#include <string>

#include <scopeflow/core/error.h>
#include <scopeflow/engine/plugin.h>
#include <scopeflow/engine/stage.h>
#include <scopeflow/engine/stage_registry.h>
#include <scopeflow/event/event.h>

namespace {

class UpperStage final : public scopeflow::Stage {
public:
    explicit UpperStage(std::string field)
        : Stage("upper"),
          field_(std::move(field)) {}

protected:
    scopeflow::ActionId on_process(scopeflow::Event& e, scopeflow::TaskContext&) override {
        const auto value = e.get_string(field_);
        if (!value) {
            return scopeflow::kActionDefault;
        }
        std::string upper(*value);
        for (char& c : upper) {
            c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
        e.set(field_, scopeflow::Value(std::move(upper)));
        return scopeflow::kActionDefault;
    }

private:
    std::string field_;
};

void register_stages(scopeflow::StageRegistry& registry) {
    registry.add(scopeflow::OptionsSchema("upper", "upper-cases a string field (sample plugin)")
                     .add({.name = "field", .doc = "the field to upper-case", .required = true}),
                 [](const scopeflow::ParsedOptions& o) -> std::unique_ptr<scopeflow::Stage> {
                     return std::make_unique<UpperStage>(o.string("field"));
                 });
}

constexpr scopeflow::PluginInfo kInfo{scopeflow::kPluginAbiVersion, "sample_upper",
                                      &register_stages};

}  // namespace

extern "C" const scopeflow::PluginInfo* scopeflow_plugin_v1() {
    return &kInfo;
}
