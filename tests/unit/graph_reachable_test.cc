// Graph::reachable_from: the one walk over the routes that validate() (every stage reachable)
// and the pipeline (where a failed event's branches ended) both use.
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <scopeflow/core/error.h>
#include <scopeflow/engine/graph.h>

#include "support/lambda_stage.h"

namespace scopeflow {
namespace {

using testing::LambdaStage;

std::unique_ptr<Stage> pass() {
    return std::make_unique<LambdaStage>([](Event&, TaskContext&) { return kActionDefault; });
}

// a -> b -> c, b -error-> d (dead letter) -> e, c -> a (a cycle).
Graph sample() {
    Graph g;
    for (const char* name : {"a", "b", "c", "d", "e"}) {
        g.add_stage(name, pass());
    }
    g.route("a", "default", "b");
    g.route("b", "default", "c");
    g.route("b", "error", "d");
    g.route("c", "default", "a");
    g.route("d", "default", "e");
    g.set_dead_letter("d");
    g.validate();
    return g;
}

std::vector<std::string> names(const Graph& g, const std::vector<bool>& reached) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < reached.size(); ++i) {
        if (reached[i]) {
            out.push_back(g.nodes()[i].name);
        }
    }
    return out;
}

TEST(GraphReachableTest, FollowsEveryActionsRoutesThroughCycles) {
    const Graph g = sample();
    const std::uint32_t a = g.index_of("a");
    EXPECT_EQ(names(g, g.reachable_from({&a, 1})),
              (std::vector<std::string>{"a", "b", "c", "d", "e"}));
    const std::uint32_t d = g.index_of("d");
    EXPECT_EQ(names(g, g.reachable_from({&d, 1})), (std::vector<std::string>{"d", "e"}));
    const std::uint32_t e = g.index_of("e");
    EXPECT_EQ(names(g, g.reachable_from({&e, 1})), std::vector<std::string>{"e"});
}

TEST(GraphReachableTest, SeveralStartsReachTheUnionOfWhatEachReaches) {
    const Graph g = sample();
    const std::vector<std::uint32_t> starts{g.index_of("c"), g.index_of("e")};
    EXPECT_EQ(names(g, g.reachable_from(starts)),
              (std::vector<std::string>{"a", "b", "c", "d", "e"}));
}

TEST(GraphReachableTest, ValidateRejectsAStageNeitherTheEntryNorTheDeadLetterStageReaches) {
    Graph g;
    g.add_stage("in", pass());
    g.add_stage("dlq", pass());
    g.add_stage("orphan", pass());
    g.set_dead_letter("dlq");
    try {
        g.validate();
        FAIL() << "expected a ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.where(), "graph.stages.orphan");
    }
}

}  // namespace
}  // namespace scopeflow
