// Graph: stages connected by named actions.
//
//   scopeflow::Graph g;
//   g.add_stage("parse", std::make_unique<JsonParse>());
//   g.add_stage("enrich", std::make_unique<Enrich>());
//   g.add_stage("sink", std::make_unique<FileSink>(...));
//   g.add_stage("dlq", std::make_unique<FileSink>(...));
//   g.route("parse", "default", "enrich");
//   g.route("enrich", "default", "sink");
//   g.set_dead_letter("dlq");
//   g.validate();   // throws ConfigError naming the stage and action at fault
//
// Routing rules:
// - An action may route to several stages (fan-out: the event is copied per branch) or to none
//   (the event ends there: the stage is its sink).
// - A route to a stage that does not exist, from an action the stage never declared, or a
//   stage no route reaches, is a configuration error found by validate(), before anything opens.
// - Cycles are allowed; each event carries a hop count and one that exceeds max_hops goes to the
//   dead-letter stage. reject_closed_cycles() (applied by `scopeflow check` and `run`) refuses a
//   cycle that no event can leave: no stage in it drops events (Stage::may_drop) or has an
//   action, other than "error", that ends the event or leads out of the cycle.
// - The "error" action (also taken when process() throws) with no route sends the event to the
//   dead-letter stage; without one, the event is nacked.
//
// Thread safety: build on one thread; after validate() the graph is read-only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <scopeflow/engine/stage.h>

namespace scopeflow {

class Graph {
public:
    struct Node {
        std::string name;
        std::unique_ptr<Stage> stage;
        std::vector<std::vector<std::uint32_t>> routes;  // per ActionId: next node indices
    };

    Graph();
    Graph(Graph&&) noexcept;
    Graph& operator=(Graph&&) noexcept;
    ~Graph();

    // Adds a stage. The first stage added is the entry unless set_entry() says otherwise.
    void add_stage(std::string name, std::unique_ptr<Stage> stage);
    // Routes `action` of stage `from` to stage `to` (names are resolved by validate()).
    void route(std::string from, std::string action, std::string to);
    void set_entry(std::string name);
    void set_dead_letter(std::string name);
    void set_max_hops(std::size_t hops) { max_hops_ = hops; }

    // Resolves names and checks the rules above; throws ConfigError. Idempotent.
    void validate();
    // After validate(): throws ConfigError ("graph.stages.<name>") naming the stages of a cycle
    // from which every event would be routed around until the hop limit fails it.
    void reject_closed_cycles() const;

    // --- read by the engine after validate() ---
    [[nodiscard]] const std::vector<Node>& nodes() const noexcept { return nodes_; }
    [[nodiscard]] std::vector<Node>& nodes() noexcept { return nodes_; }
    [[nodiscard]] std::uint32_t entry() const noexcept { return entry_index_; }
    // Index of the dead-letter stage, or kNoNode.
    [[nodiscard]] std::uint32_t dead_letter() const noexcept { return dead_letter_index_; }
    [[nodiscard]] std::size_t max_hops() const noexcept { return max_hops_; }
    [[nodiscard]] std::uint32_t index_of(std::string_view name) const noexcept;
    // The stages the routes lead to from `starts`, the starts included: [i] is true for each.
    // Routes are resolved by validate(), so call it after.
    [[nodiscard]] std::vector<bool> reachable_from(std::span<const std::uint32_t> starts) const;

    static constexpr std::uint32_t kNoNode = 0xFFFFFFFFU;

private:
    struct PendingRoute {
        std::string from;
        std::string action;
        std::string to;
    };

    std::vector<Node> nodes_;
    std::vector<PendingRoute> pending_;
    std::string entry_;
    std::string dead_letter_;
    std::uint32_t entry_index_ = kNoNode;
    std::uint32_t dead_letter_index_ = kNoNode;
    std::size_t max_hops_ = 64;
    bool validated_ = false;
};

}  // namespace scopeflow
