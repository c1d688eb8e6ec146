#include <algorithm>
#include <utility>

#include <scopeflow/core/error.h>
#include <scopeflow/engine/graph.h>

namespace scopeflow {

Graph::Graph() = default;
Graph::Graph(Graph&&) noexcept = default;
Graph& Graph::operator=(Graph&&) noexcept = default;
Graph::~Graph() = default;

void Graph::add_stage(std::string name, std::unique_ptr<Stage> stage) {
    if (name.empty()) {
        throw ConfigError("graph", "a stage needs a name");
    }
    if (!stage) {
        throw ConfigError("graph.stages." + name, "no stage given");
    }
    if (index_of(name) != kNoNode) {
        throw ConfigError("graph.stages." + name, "a stage with this name already exists");
    }
    nodes_.push_back({std::move(name), std::move(stage), {}});
    validated_ = false;
}

void Graph::route(std::string from, std::string action, std::string to) {
    pending_.push_back({std::move(from), std::move(action), std::move(to)});
    validated_ = false;
}

void Graph::set_entry(std::string name) {
    entry_ = std::move(name);
    validated_ = false;
}

void Graph::set_dead_letter(std::string name) {
    dead_letter_ = std::move(name);
    validated_ = false;
}

std::uint32_t Graph::index_of(std::string_view name) const noexcept {
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        if (nodes_[i].name == name) {
            return static_cast<std::uint32_t>(i);
        }
    }
    return kNoNode;
}

void Graph::validate() {
    if (validated_) {
        return;
    }
    if (nodes_.empty()) {
        throw ConfigError("graph", "the graph has no stages");
    }
    entry_index_ = entry_.empty() ? 0 : index_of(entry_);
    if (entry_index_ == kNoNode) {
        throw ConfigError("graph.entry", "entry stage '" + entry_ + "' does not exist");
    }
    dead_letter_index_ = kNoNode;
    if (!dead_letter_.empty()) {
        dead_letter_index_ = index_of(dead_letter_);
        if (dead_letter_index_ == kNoNode) {
            throw ConfigError("graph.dead_letter",
                              "dead-letter stage '" + dead_letter_ + "' does not exist");
        }
    }
    for (auto& node : nodes_) {
        node.routes.assign(node.stage->actions().size(), {});
    }
    for (const auto& r : pending_) {
        const std::string where = "graph.routes." + r.from + "." + r.action;
        const std::uint32_t from = index_of(r.from);
        if (from == kNoNode) {
            throw ConfigError(where, "route from stage '" + r.from + "', which does not exist");
        }
        const std::uint32_t to = index_of(r.to);
        if (to == kNoNode) {
            throw ConfigError(where, "stage '" + r.from + "' routes action '" + r.action +
                                         "' to stage '" + r.to + "', which does not exist");
        }
        Node& node = nodes_[from];
        const ActionId action = node.stage->action_id(r.action);
        if (action == kActionDrop) {
            std::string known;
            for (const auto& a : node.stage->actions()) {
                known += (known.empty() ? "" : ", ") + a;
            }
            throw ConfigError(where, "stage '" + r.from + "' (type " + node.stage->type() +
                                         ") has no action '" + r.action + "' (it has: " + known +
                                         ")");
        }
        node.routes[action].push_back(to);
    }
    // Every stage must be reachable from the entry (or be the dead-letter stage's subgraph).
    std::vector<std::uint32_t> starts{entry_index_};
    if (dead_letter_index_ != kNoNode) {
        starts.push_back(dead_letter_index_);
    }
    const std::vector<bool> reached = reachable_from(starts);
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        if (!reached[i]) {
            throw ConfigError("graph.stages." + nodes_[i].name,
                              "stage '" + nodes_[i].name +
                                  "' is not reachable from the entry stage '" +
                                  nodes_[entry_index_].name + "'");
        }
    }
    validated_ = true;
}

std::vector<bool> Graph::reachable_from(std::span<const std::uint32_t> starts) const {
    std::vector<bool> reached(nodes_.size(), false);
    std::vector<std::uint32_t> todo(starts.begin(), starts.end());
    while (!todo.empty()) {
        const std::uint32_t i = todo.back();
        todo.pop_back();
        if (reached[i]) {
            continue;
        }
        reached[i] = true;
        for (const auto& targets : nodes_[i].routes) {
            todo.insert(todo.end(), targets.begin(), targets.end());
        }
    }
    return reached;
}

void Graph::reject_closed_cycles() const {
    // A node is "open" when an event copy there can end: the stage may drop it, or one of its
    // actions (other than error) has no route or leads only to open nodes. What stays closed
    // sends every copy around a cycle until the hop limit fails it.
    const std::size_t n = nodes_.size();
    std::vector<bool> open(n, false);
    const auto leads_out = [&](const std::vector<std::uint32_t>& targets) {
        return std::all_of(targets.begin(), targets.end(),
                           [&](std::uint32_t t) { return open[t]; });
    };
    for (bool changed = true; changed;) {
        changed = false;
        for (std::size_t i = 0; i < n; ++i) {
            if (open[i]) {
                continue;
            }
            const Node& node = nodes_[i];
            bool out = node.stage->may_drop();
            for (std::size_t a = 0; a < node.routes.size() && !out; ++a) {
                out = a != kActionError && leads_out(node.routes[a]);
            }
            if (out) {
                open[i] = true;
                changed = true;
            }
        }
    }
    for (std::size_t start = 0; start < n; ++start) {
        if (open[start]) {
            continue;
        }
        // Every non-error action of a closed node leads to a closed node: follow them to a cycle.
        std::vector<std::uint32_t> walk;
        std::vector<std::size_t> at(n, n);
        auto i = static_cast<std::uint32_t>(start);
        while (at[i] == n) {
            at[i] = walk.size();
            walk.push_back(i);
            const Node& node = nodes_[i];
            std::uint32_t next = kNoNode;
            for (std::size_t a = 0; a < node.routes.size() && next == kNoNode; ++a) {
                if (a == kActionError) {
                    continue;
                }
                for (const std::uint32_t t : node.routes[a]) {
                    if (!open[t]) {
                        next = t;
                        break;
                    }
                }
            }
            i = next;
        }
        std::string cycle;
        for (std::size_t k = at[i]; k < walk.size(); ++k) {
            cycle += "'" + nodes_[walk[k]].name + "' -> ";
        }
        cycle += "'" + nodes_[i].name + "'";
        throw ConfigError("graph.stages." + nodes_[i].name,
                          "stages " + cycle +
                              " form a cycle no event can leave: each would go round until the "
                              "hop limit (max_hops " +
                              std::to_string(max_hops_) +
                              ") fails it; route an action out of the cycle, or end it at a "
                              "stage without a default route");
    }
}

}  // namespace scopeflow
