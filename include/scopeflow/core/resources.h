// Resources: the named, shared resources of a pipeline (database pools, Redis pools, HTTP
// clients, budgets), looked up by stages by name.
//
//   scopeflow::Resources resources;
//   resources.add("orders_db", make_postgres_database(...));   // std::shared_ptr<T>
//   registry.add(..., [&resources](const StageOptions& o, const std::string& where) {
//       auto db = resources.get<sql::Database>(require_string(o, "resource", where),
//                                              where + ".resource");
//       ...
//   });
//
// A stage keeps the shared_ptr it got, so a resource lives as long as its last user: the
// pipeline's stages and the Resources object itself. Whoever owns the Resources closes them
// (in reverse order of adding) after the pipeline has stopped.
//
// Thread safety: add, get and names may be called concurrently.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <typeindex>
#include <utility>
#include <vector>

#include <scopeflow/core/error.h>

namespace scopeflow {

class Resources {
public:
    // Throws ConfigError(where) if the name is taken.
    template <typename T>
    void add(std::string name, std::shared_ptr<T> resource, const std::string& where = {}) {
        std::lock_guard lock(mu_);
        for (const auto& e : entries_) {
            if (e.name == name) {
                throw ConfigError(where.empty() ? "resources." + name : where,
                                  "a resource named '" + name + "' already exists");
            }
        }
        entries_.push_back({std::move(name), std::type_index(typeid(T)),
                            std::static_pointer_cast<void>(std::move(resource))});
    }

    // The resource `name` as a T. Throws ConfigError(where) naming the known resources if there
    // is none by that name, or if it is of another type.
    template <typename T>
    [[nodiscard]] std::shared_ptr<T> get(std::string_view name, const std::string& where) const {
        std::lock_guard lock(mu_);
        for (const auto& e : entries_) {
            if (e.name == name) {
                if (e.type != std::type_index(typeid(T))) {
                    throw ConfigError(where, "resource '" + e.name +
                                                 "' is not of the kind this "
                                                 "stage needs");
                }
                return std::static_pointer_cast<T>(e.ptr);
            }
        }
        throw ConfigError(where, "no resource named '" + std::string(name) + "'" + known_locked());
    }

    [[nodiscard]] std::vector<std::string> names() const {
        std::lock_guard lock(mu_);
        std::vector<std::string> out;
        out.reserve(entries_.size());
        for (const auto& e : entries_) {
            out.push_back(e.name);
        }
        return out;
    }

    // Drops the references in reverse order of adding (the resources close when their last user
    // lets go).
    void clear() noexcept {
        std::vector<Entry> dropping;
        {
            std::lock_guard lock(mu_);
            dropping.swap(entries_);
        }
        while (!dropping.empty()) {
            dropping.pop_back();
        }
    }

private:
    struct Entry {
        std::string name;
        std::type_index type;
        std::shared_ptr<void> ptr;
    };

    [[nodiscard]] std::string known_locked() const {
        if (entries_.empty()) {
            return " (none are defined)";
        }
        std::string s = " (defined: ";
        for (std::size_t i = 0; i < entries_.size(); ++i) {
            s += (i == 0 ? "" : ", ") + entries_[i].name;
        }
        return s + ")";
    }

    mutable std::mutex mu_;
    std::vector<Entry> entries_;
};

}  // namespace scopeflow
