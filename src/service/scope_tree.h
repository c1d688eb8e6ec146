// ScopeTree: scope paths ("service/gen-1/main") folded back into the tree they name, for the
// service's reports. /resources shows the live ledger entries under the scope that owns them;
// the exit report shows what the service scope released, in the order it released it:
//
//   ScopeTree t;
//   t.add("service/gen-1", "pipeline");
//   t.add("service/gen-1", "source");
//   t.add("service", "admin endpoint");
//   t.text();  // "service { gen-1 { pipeline, source }, admin endpoint }"
//
// Scopes and leaves keep the order in which they were first added. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace scopeflow::service {

class ScopeTree {
public:
    ScopeTree();
    ~ScopeTree();
    ScopeTree(ScopeTree&&) noexcept;
    ScopeTree& operator=(ScopeTree&&) noexcept;

    // Adds `leaf` (a resource or piece name) under the scope at `path`, creating the scopes on
    // the way. An empty path stands for entries recorded without an owner ("(no scope)").
    void add(std::string_view path, std::string_view leaf);
    // Counts `live` entries of `kind` at the scope `path` (for /resources).
    void count(std::string_view path, std::string_view kind, std::uint64_t live);

    [[nodiscard]] bool empty() const noexcept;
    // "service { gen-1 { pipeline, source }, admin endpoint }"; roots separated by "; ".
    [[nodiscard]] std::string text() const;
    // [{"scope":"service","path":"service","live":{"other":3},"children":[...]}]
    [[nodiscard]] std::string json() const;

private:
    struct Node;
    Node& at(std::string_view path);

    std::unique_ptr<Node> roots_;  // a nameless node holding the roots
};

}  // namespace scopeflow::service
