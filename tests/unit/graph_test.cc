// Graph on its own: validation of names and routes, reachability from the entry and the
// dead-letter stage, declared drops, fan-out routes, and cycles no event can leave.
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include <scopeflow/core/error.h>
#include <scopeflow/engine/graph.h>
#include <scopeflow/engine/stage.h>

namespace scopeflow {
namespace {

// A stage that is never run: it only declares actions (and drops), which is what Graph reads.
class Declared final : public Stage {
public:
    explicit Declared(std::initializer_list<std::string_view> actions = {}, bool drops = false)
        : Stage("declared") {
        for (const auto a : actions) {
            declare_action(a);
        }
        if (drops) {
            declare_drops();
        }
    }

protected:
    ActionId on_process(Event& /*e*/, TaskContext& /*t*/) override { return kActionDefault; }
};

std::unique_ptr<Stage> stage(std::initializer_list<std::string_view> actions = {}) {
    return std::make_unique<Declared>(actions);
}
std::unique_ptr<Stage> dropping_stage() {
    return std::make_unique<Declared>(std::initializer_list<std::string_view>{}, true);
}

// Adds stages declaring no action of their own.
void add_stages(Graph& g, std::initializer_list<const char*> names) {
    for (const char* name : names) {
        g.add_stage(name, stage());
    }
}

struct Route {
    const char* from;
    const char* action;
    const char* to;
};
void add_routes(Graph& g, std::initializer_list<Route> routes) {
    for (const auto& r : routes) {
        g.route(r.from, r.action, r.to);
    }
}

// The ConfigError `fn` throws: where() and text(); fails the test when nothing is thrown.
template <typename Fn>
ConfigError config_error(Fn&& fn) {
    try {
        fn();
    } catch (const ConfigError& e) {
        return e;
    }
    ADD_FAILURE() << "no ConfigError thrown";
    return ConfigError("none", "none");
}

TEST(Graph, ALinearGraphValidatesAndResolvesRoutes) {
    Graph g;
    add_stages(g, {"parse", "enrich", "sink"});
    add_routes(g, {{"parse", "default", "enrich"}, {"enrich", "default", "sink"}});
    g.validate();

    ASSERT_EQ(g.nodes().size(), 3U);
    EXPECT_EQ(g.entry(), 0U);
    EXPECT_EQ(g.dead_letter(), Graph::kNoNode);
    EXPECT_EQ(g.index_of("enrich"), 1U);
    EXPECT_EQ(g.index_of("nope"), Graph::kNoNode);
    const auto& parse = g.nodes()[0];
    ASSERT_GT(parse.routes.size(), static_cast<std::size_t>(kActionDefault));
    EXPECT_EQ(parse.routes[kActionDefault], std::vector<std::uint32_t>{1});
    // The sink has no route: its events end there.
    for (const auto& targets : g.nodes()[2].routes) {
        EXPECT_TRUE(targets.empty());
    }
    g.reject_closed_cycles();  // no cycle at all
}

TEST(Graph, ValidateIsIdempotent) {
    Graph g;
    add_stages(g, {"a", "b"});
    g.route("a", "default", "b");
    g.validate();
    g.validate();
    EXPECT_EQ(g.nodes()[0].routes[kActionDefault], std::vector<std::uint32_t>{1});
}

TEST(Graph, AnActionMayFanOutToSeveralStagesAndNamedActionsRouteApart) {
    Graph g;
    g.add_stage("split", stage({"high_value"}));
    add_stages(g, {"left", "right", "vip"});
    add_routes(g, {{"split", "default", "left"},
                   {"split", "default", "right"},
                   {"split", "high_value", "vip"}});
    g.validate();
    const auto& split = g.nodes()[0];
    EXPECT_EQ(split.routes[kActionDefault], (std::vector<std::uint32_t>{1, 2}));
    const ActionId vip = split.stage->action_id("high_value");
    ASSERT_NE(vip, kActionDrop);
    EXPECT_EQ(split.routes[vip], std::vector<std::uint32_t>{3});
    EXPECT_TRUE(split.routes[kActionError].empty());
}

TEST(Graph, StageNamesMustBeGivenAndUnique) {
    Graph g;
    EXPECT_EQ(config_error([&] { g.add_stage("", stage()); }).where(), "graph");
    EXPECT_EQ(config_error([&] { g.add_stage("a", nullptr); }).where(), "graph.stages.a");
    g.add_stage("a", stage());
    const ConfigError dup = config_error([&] { g.add_stage("a", stage()); });
    EXPECT_EQ(dup.where(), "graph.stages.a");
    EXPECT_NE(dup.text().find("already exists"), std::string::npos) << dup.text();
}

TEST(Graph, AnEmptyGraphIsRejected) {
    Graph g;
    EXPECT_EQ(config_error([&] { g.validate(); }).where(), "graph");
}

TEST(Graph, EntryAndDeadLetterMustExist) {
    {
        Graph g;
        g.add_stage("a", stage());
        g.set_entry("missing");
        const ConfigError e = config_error([&] { g.validate(); });
        EXPECT_EQ(e.where(), "graph.entry");
        EXPECT_NE(e.text().find("'missing'"), std::string::npos) << e.text();
    }
    {
        Graph g;
        g.add_stage("a", stage());
        g.set_dead_letter("dlq");
        const ConfigError e = config_error([&] { g.validate(); });
        EXPECT_EQ(e.where(), "graph.dead_letter");
        EXPECT_NE(e.text().find("'dlq'"), std::string::npos) << e.text();
    }
}

TEST(Graph, SetEntryPicksAStageOtherThanTheFirst) {
    Graph g;
    add_stages(g, {"sink", "start"});
    g.route("start", "default", "sink");
    g.set_entry("start");
    g.validate();
    EXPECT_EQ(g.entry(), 1U);
}

TEST(Graph, RoutesNameTheirPlaceWhenAStageOrActionIsUnknown) {
    {
        Graph g;
        g.add_stage("a", stage());
        g.route("ghost", "default", "a");
        const ConfigError e = config_error([&] { g.validate(); });
        EXPECT_EQ(e.where(), "graph.routes.ghost.default");
        EXPECT_NE(e.text().find("'ghost'"), std::string::npos) << e.text();
    }
    {
        Graph g;
        g.add_stage("a", stage());
        g.route("a", "default", "ghost");
        const ConfigError e = config_error([&] { g.validate(); });
        EXPECT_EQ(e.where(), "graph.routes.a.default");
        EXPECT_NE(e.text().find("'ghost', which does not exist"), std::string::npos) << e.text();
    }
    {
        Graph g;
        g.add_stage("a", stage({"high_value"}));
        g.add_stage("b", stage());
        g.route("a", "typo", "b");
        const ConfigError e = config_error([&] { g.validate(); });
        EXPECT_EQ(e.where(), "graph.routes.a.typo");
        // The message lists the actions the stage has, so the typo can be fixed.
        EXPECT_NE(e.text().find("no action 'typo'"), std::string::npos) << e.text();
        EXPECT_NE(e.text().find("default, error, high_value"), std::string::npos) << e.text();
    }
}

TEST(Graph, AStageNoRouteReachesIsRejected) {
    Graph g;
    add_stages(g, {"a", "b", "island"});
    g.route("a", "default", "b");
    const ConfigError e = config_error([&] { g.validate(); });
    EXPECT_EQ(e.where(), "graph.stages.island");
    EXPECT_NE(e.text().find("not reachable from the entry stage 'a'"), std::string::npos)
        << e.text();
}

TEST(Graph, TheDeadLetterStageAndWhatItRoutesToCountAsReached) {
    Graph g;
    add_stages(g, {"main", "dlq", "dlq_archive"});
    g.route("dlq", "default", "dlq_archive");
    g.set_dead_letter("dlq");
    g.validate();
    EXPECT_EQ(g.dead_letter(), 1U);
}

TEST(Graph, RoutesAddedAfterValidateAreResolvedByTheNextValidate) {
    Graph g;
    g.add_stage("a", stage());
    g.validate();
    g.add_stage("b", stage());
    EXPECT_THROW(g.validate(), ConfigError);  // b is not reached yet
    g.route("a", "default", "b");
    g.validate();
    EXPECT_EQ(g.nodes()[0].routes[kActionDefault], std::vector<std::uint32_t>{1});
}

TEST(Graph, ACycleWithADefaultLoopAndNoExitIsRejectedNamingItsStages) {
    Graph g;
    add_stages(g, {"a", "b", "c"});
    add_routes(g, {{"a", "default", "b"}, {"b", "default", "c"}, {"c", "default", "b"}});
    g.set_max_hops(16);
    g.validate();  // cycles as such are allowed
    const ConfigError e = config_error([&] { g.reject_closed_cycles(); });
    EXPECT_EQ(e.where().rfind("graph.stages.", 0), 0U) << e.where();
    EXPECT_NE(e.text().find("'b' -> 'c' -> 'b'"), std::string::npos) << e.text();
    EXPECT_NE(e.text().find("max_hops 16"), std::string::npos) << e.text();
}

TEST(Graph, ASelfLoopIsAClosedCycle) {
    Graph g;
    g.add_stage("retry", stage());
    g.route("retry", "default", "retry");
    g.validate();
    const ConfigError e = config_error([&] { g.reject_closed_cycles(); });
    EXPECT_EQ(e.where(), "graph.stages.retry");
    EXPECT_NE(e.text().find("'retry' -> 'retry'"), std::string::npos) << e.text();
}

TEST(Graph, ACycleWithADroppingStageCanBeLeft) {
    Graph g;
    g.add_stage("a", stage());
    g.add_stage("filter", dropping_stage());
    add_routes(g, {{"a", "default", "filter"}, {"filter", "default", "a"}});
    g.validate();
    g.reject_closed_cycles();
}

TEST(Graph, ACycleWithAnActionLeadingOutCanBeLeft) {
    Graph g;
    g.add_stage("check", stage({"done"}));
    add_stages(g, {"work", "sink"});
    add_routes(
        g, {{"check", "default", "work"}, {"work", "default", "check"}, {"check", "done", "sink"}});
    g.validate();
    g.reject_closed_cycles();
}

TEST(Graph, ACycleWithAnUnroutedActionCanBeLeft) {
    // "done" has no route: an event taking it ends at "check", which is therefore a sink.
    Graph g;
    g.add_stage("check", stage({"done"}));
    g.add_stage("work", stage());
    add_routes(g, {{"check", "default", "work"}, {"work", "default", "check"}});
    g.validate();
    g.reject_closed_cycles();
}

TEST(Graph, TheErrorActionIsNoWayOutOfACycle) {
    Graph g;
    add_stages(g, {"a", "b", "errors"});
    add_routes(g, {{"a", "default", "b"}, {"b", "default", "a"}, {"b", "error", "errors"}});
    g.validate();
    const ConfigError e = config_error([&] { g.reject_closed_cycles(); });
    EXPECT_NE(e.text().find("form a cycle no event can leave"), std::string::npos) << e.text();
}

TEST(Graph, AFanOutIntoACycleIsClosedEvenWhenTheOtherBranchLeaves) {
    // The copy sent back to "a" never leaves: every action of "a" leads into the cycle.
    Graph g;
    add_stages(g, {"a", "b", "sink"});
    add_routes(g, {{"a", "default", "b"}, {"b", "default", "a"}, {"b", "default", "sink"}});
    g.validate();
    EXPECT_THROW(g.reject_closed_cycles(), ConfigError);
}

}  // namespace
}  // namespace scopeflow
