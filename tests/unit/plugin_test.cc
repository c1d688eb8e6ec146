#include <dlfcn.h>
#include <gtest/gtest.h>

#include <scopeflow/core/error.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/engine/graph.h>
#include <scopeflow/engine/pipeline.h>
#include <scopeflow/engine/plugin.h>
#include <scopeflow/engine/stage_registry.h>
#include <scopeflow/event/event.h>
#include <scopeflow/stages/builtin_stages.h>

#include "support/lambda_stage.h"
#include "support/leak_check.h"
#include "support/test_source.h"

namespace scopeflow {
namespace {

using testing::LambdaStage;
using testing::TestSource;

bool library_loaded() {
    void* h = ::dlopen(SCOPEFLOW_SAMPLE_PLUGIN, RTLD_NOW | RTLD_NOLOAD);
    if (h != nullptr) {
        ::dlclose(h);
        return true;
    }
    return false;
}

class PluginTest : public ::testing::Test {
protected:
    testing::Isolated iso_;
};

TEST_F(PluginTest, LoadsRunsAndUnloadsWithTheLedgerClean) {
    StageRegistry registry;
    register_builtin_stages(registry);
    std::atomic<int> shouted{0};
    {
        Scope svc("svc", {.level = ScopeLevel::service, .monitor = &iso_.monitor});
        load_plugin(SCOPEFLOW_SAMPLE_PLUGIN, registry, svc);
        EXPECT_TRUE(registry.contains("upper"));
        EXPECT_TRUE(library_loaded());
        EXPECT_EQ(iso_.ledger.live(ResourceKind::library).entries, 1U);
        {
            StageOptions options{{"field", Value("user")}};
            TestSource source(10);
            Graph g;
            g.add_stage("shout", registry.create("upper", options, "graph.stages.shout"));
            g.add_stage("check", std::make_unique<LambdaStage>([&](Event& e, TaskContext&) {
                            if (e.get_string("user") == "U-1") {
                                ++shouted;
                            }
                            return kActionDefault;
                        }));
            g.route("shout", "default", "check");
            // The source's events carry no "user": add one first.
            g.add_stage("name", std::make_unique<LambdaStage>([](Event& e, TaskContext&) {
                            e.set("user", Value("u-" + std::to_string(e.get_int("n").value_or(0))));
                            return kActionDefault;
                        }));
            g.route("name", "default", "shout");
            g.set_entry("name");
            Pipeline p("p", std::move(g), source, {.workers = 1});
            p.run(svc);
            EXPECT_TRUE(library_loaded());  // the pipeline's stages still hold it
        }
        svc.close();
    }
    EXPECT_EQ(shouted.load(), 1);
    EXPECT_FALSE(library_loaded());
    EXPECT_TRUE(testing::nothing_live(iso_.ledger));
    EXPECT_EQ(iso_.monitor.count(ReportKind::leak), 0U);
    // The type stays listed but can no longer create stages.
    EXPECT_THROW((void)registry.create("upper", StageOptions{{"field", Value("x")}}, "s"),
                 ConfigError);
}

TEST_F(PluginTest, StageOutlivingTheScopeKeepsTheCodeLoaded) {
    StageRegistry registry;
    std::unique_ptr<Stage> stage;
    {
        Scope svc("svc", {.monitor = &iso_.monitor});
        load_plugin(SCOPEFLOW_SAMPLE_PLUGIN, registry, svc);
        stage = registry.create("upper", StageOptions{{"field", Value("x")}}, "s");
    }
    EXPECT_TRUE(library_loaded());
    EXPECT_EQ(iso_.monitor.count(ReportKind::leak), 1U);  // the scope ended before its library
    stage.reset();
    EXPECT_FALSE(library_loaded());
    EXPECT_TRUE(testing::nothing_live(iso_.ledger));
}

TEST_F(PluginTest, BadPluginsAreConfigErrorsNamingThePath) {
    StageRegistry registry;
    Scope svc("svc", {.monitor = &iso_.monitor});
    try {
        load_plugin("/nonexistent/libnope.so", registry, svc);
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/libnope.so"), std::string::npos);
    }
    // A real library without the entry point.
    EXPECT_THROW(load_plugin("libm.so.6", registry, svc), ConfigError);
    svc.close();
    EXPECT_TRUE(testing::nothing_live(iso_.ledger));
}

TEST(StageRegistryTest, UnknownTypesAndOptionsSuggestTheClosestName) {
    StageRegistry registry;
    register_builtin_stages(registry);
    try {
        (void)registry.create("fitler", StageOptions{}, "graph.stages.big");
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("did you mean 'filter'"), std::string::npos);
        EXPECT_EQ(e.where(), "graph.stages.big.type");
    }
    try {
        (void)registry.create("filter", StageOptions{{"feild", Value("x")}}, "graph.stages.big");
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.where(), "graph.stages.big.feild");
        EXPECT_NE(std::string(e.what()).find("did you mean 'field'"), std::string::npos);
    }
    EXPECT_THROW((void)registry.create("filter", StageOptions{{"field", Value("price")}}, "s"),
                 ConfigError);  // op eq needs a value
    EXPECT_NO_THROW((void)registry.create(
        "filter", StageOptions{{"field", Value("price")}, {"op", Value("exists")}}, "s"));
}

}  // namespace
}  // namespace scopeflow
