#include <scopeflow/core/error.h>
#include <scopeflow/engine/stage_registry.h>

namespace scopeflow {
namespace detail {

void throw_unknown_type(std::string_view noun,
                        std::string_view type,
                        const std::vector<std::string_view>& known,
                        const std::string& where) {
    std::string hint = did_you_mean(type, known);
    if (hint.empty()) {
        std::string list;
        for (const auto k : known) {
            list += (list.empty() ? "" : ", ") + std::string(k);
        }
        hint = " (known: " + list + ")";
    }
    throw ConfigError(where + ".type", "unknown " + std::string(noun) + " '" + std::string(type) +
                                           "'" + hint + "; `scopeflow stages` lists them");
}

void throw_registered_twice(std::string_view noun,
                            const std::string& type,
                            const std::string& first,
                            const std::string& second) {
    throw ConfigError(std::string(noun) + " '" + type + "'",
                      "registered twice (" + first + " and " + second + ")");
}

}  // namespace detail

std::vector<StageTypeInfo> StageRegistry::list() const {
    std::vector<StageTypeInfo> out;
    for (const Entry* e : entries()) {
        out.push_back({.type = e->schema.type(),
                       .description = e->schema.description(),
                       .options = e->schema.help(),
                       .origin = e->origin});
    }
    return out;
}

}  // namespace scopeflow
