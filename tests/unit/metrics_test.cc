// The /metrics text (service::prometheus_text): well-formed exposition format (a HELP and a TYPE
// line before each family's samples, each family once, valid names, counters named *_total),
// label values escaped, counters that never go down between scrapes, and, when promtool is
// installed, promtool's own check.
#include "service/metrics.h"

#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <scopeflow/core/histogram.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/engine/graph.h>
#include <scopeflow/engine/pipeline.h>
#include <scopeflow/engine/stage.h>

#include "service/probe.h"
#include "support/lambda_stage.h"
#include "support/leak_check.h"
#include "support/temp_dir.h"
#include "support/test_source.h"

namespace scopeflow::service {
namespace {

using namespace std::chrono_literals;

// A pass-through stage that errors on every tenth event.
class Tenths final : public Stage {
public:
    Tenths()
        : Stage("tenths") {}

protected:
    ActionId on_process(Event& e, TaskContext& /*t*/) override {
        return e.get_int("n").value_or(0) % 10 == 9 ? kActionError : kActionDefault;
    }
};

struct Sample {
    std::string name;
    std::string labels;  // as written between the braces
    double value = 0;
};

struct Exposition {
    std::map<std::string, std::string> type;  // family -> counter, gauge, summary
    std::set<std::string> help;
    std::vector<Sample> samples;
    std::vector<std::string> errors;  // what is malformed, by line
};

// The family a sample belongs to: a summary's _sum and _count samples belong to it.
std::string family_of(const std::string& sample, const std::map<std::string, std::string>& type) {
    for (const char* suffix : {"_sum", "_count"}) {
        const std::string s(suffix);
        if (sample.size() > s.size() && sample.ends_with(s)) {
            const std::string base = sample.substr(0, sample.size() - s.size());
            if (auto it = type.find(base); it != type.end() && it->second == "summary") {
                return base;
            }
        }
    }
    return sample;
}

Exposition parse(const std::string& text) {
    static const std::regex kHelp(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) \S.*)");
    static const std::regex kType(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|summary))");
    // name, optional {labels}, value. A label value is "..." with \\, \" and \n escapes only.
    static const std::regex kSample(
        R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*)\})? (\S+))");
    Exposition x;
    std::istringstream in(text);
    std::string line;
    std::string last_family;
    int n = 0;
    while (std::getline(in, line)) {
        ++n;
        std::smatch m;
        const std::string where = "line " + std::to_string(n) + ": '" + line + "'";
        if (std::regex_match(line, m, kHelp)) {
            if (!x.help.insert(m[1]).second) {
                x.errors.push_back(where + ": second HELP for the family");
            }
            last_family = m[1];
        } else if (std::regex_match(line, m, kType)) {
            if (m[1] != last_family) {
                x.errors.push_back(where + ": TYPE not right after its HELP");
            }
            if (!x.type.emplace(m[1], m[2]).second) {
                x.errors.push_back(where + ": second TYPE for the family");
            }
        } else if (std::regex_match(line, m, kSample)) {
            const std::string family = family_of(m[1], x.type);
            if (family != last_family) {
                x.errors.push_back(where + ": sample outside its family's block");
            }
            char* end = nullptr;
            const std::string value = m[4];
            const double v = std::strtod(value.c_str(), &end);
            if (end != value.c_str() + value.size()) {
                x.errors.push_back(where + ": value is not a number");
            }
            x.samples.push_back({m[1], m[3], v});
        } else {
            x.errors.push_back(where + ": neither HELP, TYPE nor a sample");
        }
    }
    if (!text.empty() && text.back() != '\n') {
        x.errors.push_back("the text does not end with a newline");
    }
    return x;
}

class MetricsTest : public testing::LeakCheckedTest {
protected:
    MetricsTest()
        : LeakCheckedTest("svc", {.level = ScopeLevel::service}) {}

    // A pipeline named `name` with one stage `stage`, run over 100 events.
    std::unique_ptr<Pipeline> ran_pipeline(const std::string& name, const std::string& stage) {
        Graph g;
        g.add_stage(stage, std::make_unique<Tenths>());
        g.add_stage("dlq", std::make_unique<testing::LambdaStage>(  // takes the errors, quietly
                               [](Event&, TaskContext&) { return kActionDefault; }));
        g.set_dead_letter("dlq");
        auto p = std::make_unique<Pipeline>(name, std::move(g), source_,
                                            PipelineOptions{.workers = 1, .batch_size = 8});
        p->run(root_);
        return p;
    }

    // A pool probe whose counts grow by `step` at every call (as a busy pool's do).
    ResourceProbe growing_pool(std::string name) {
        return {.name = std::move(name),
                .type = "sqlite",
                .pool =
                    [this] {
                        ++calls_;
                        acquire_.record(std::chrono::microseconds(50 * calls_));
                        PoolStats s;
                        s.active = 1;
                        s.idle = 2;
                        s.created = 3 * calls_;
                        s.destroyed = calls_;
                        s.timeouts = calls_;
                        s.acquire_time = acquire_.snapshot();
                        return s;
                    },
                .ping = {},
                .gauges =
                    [] {
                        return std::vector<std::pair<std::string, double>>{{"used_bytes", 1024},
                                                                           {"limit_bytes", 4096.5}};
                    }};
    }

    testing::TestSource source_{100};
    Histogram acquire_;
    std::uint64_t calls_ = 0;
};

TEST_F(MetricsTest, EveryFamilyHasHelpAndTypeBeforeItsSamplesAndCountersEndInTotal) {
    const auto p = ran_pipeline("orders", "check");
    const Probes probes{growing_pool("db")};
    const std::string text = prometheus_text(
        {.pipeline = p.get(), .probes = &probes, .monitor = &iso_.monitor, .uptime_seconds = 1.5});
    const Exposition x = parse(text);
    EXPECT_TRUE(x.errors.empty()) << ::testing::PrintToString(x.errors) << "\n" << text;
    for (const auto& [family, type] : x.type) {
        EXPECT_TRUE(x.help.contains(family)) << family;
        if (type == "counter") {
            EXPECT_TRUE(family.ends_with("_total")) << family;
        }
    }
    for (const char* family :
         {"scopeflow_events_read_total", "scopeflow_stage_processed_total",
          "scopeflow_stage_errors_total", "scopeflow_pool_active", "scopeflow_pool_acquire_seconds",
          "scopeflow_budget", "scopeflow_ledger_live", "scopeflow_monitor_reports_total",
          "process_open_fds", "scopeflow_uptime_seconds", "scopeflow_reloads_total",
          "scopeflow_build_info"}) {
        EXPECT_TRUE(x.type.contains(family)) << family << " missing";
    }
    std::map<std::string, double> by_key;
    for (const auto& s : x.samples) {
        by_key[s.name + "{" + s.labels + "}"] = s.value;
    }
    EXPECT_EQ(by_key[R"(scopeflow_events_read_total{pipeline="orders"})"], 100);
    EXPECT_EQ(by_key[R"(scopeflow_stage_errors_total{pipeline="orders",stage="check"})"], 10);
    EXPECT_EQ(by_key[R"(scopeflow_pool_idle{pool="db",type="sqlite"})"], 2);
    EXPECT_EQ(by_key[R"(scopeflow_pool_acquire_seconds_count{pool="db",type="sqlite"})"], 1);
    EXPECT_EQ(by_key[R"(scopeflow_budget{budget="db",type="sqlite",figure="limit_bytes"})"],
              4096.5);
    EXPECT_EQ(by_key[R"(scopeflow_uptime_seconds{})"], 1.5);
}

TEST_F(MetricsTest, WithoutAPipelineOrProbesTheCoreFamiliesRemain) {
    const std::string text = prometheus_text({.monitor = &iso_.monitor});
    const Exposition x = parse(text);
    EXPECT_TRUE(x.errors.empty()) << ::testing::PrintToString(x.errors) << "\n" << text;
    EXPECT_FALSE(x.type.contains("scopeflow_events_read_total"));
    EXPECT_FALSE(x.type.contains("scopeflow_pool_active"));
    EXPECT_TRUE(x.type.contains("scopeflow_ledger_live"));
    EXPECT_TRUE(x.type.contains("process_cpu_seconds_total"));
}

TEST_F(MetricsTest, LabelValuesAreEscaped) {
    EXPECT_EQ(escape_label("plain"), "plain");
    EXPECT_EQ(escape_label(R"(a"b\c)"), R"(a\"b\\c)");
    EXPECT_EQ(escape_label("two\nlines"), R"(two\nlines)");
    EXPECT_EQ(escape_label(""), "");

    const auto p = ran_pipeline("in \"quotes\"\nand \\", "st\"age");
    const Probes probes{growing_pool("back\\slash")};
    const std::string text =
        prometheus_text({.pipeline = p.get(), .probes = &probes, .monitor = &iso_.monitor});
    const Exposition x = parse(text);
    EXPECT_TRUE(x.errors.empty()) << ::testing::PrintToString(x.errors) << "\n" << text;
    EXPECT_NE(text.find(R"(scopeflow_events_read_total{pipeline="in \"quotes\"\nand \\"} 100)"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find(R"(stage="st\"age")"), std::string::npos) << text;
    EXPECT_NE(text.find(R"(pool="back\\slash")"), std::string::npos) << text;
}

TEST_F(MetricsTest, CountersNeverGoDownBetweenScrapes) {
    const auto p = ran_pipeline("p", "s");
    const Probes probes{growing_pool("db")};
    MetricsInput in{.pipeline = p.get(), .probes = &probes, .monitor = &iso_.monitor};
    const Exposition first = parse(prometheus_text(in));
    in.reloads = 1;
    in.reload_failures = 1;
    const Exposition second = parse(prometheus_text(in));

    std::map<std::string, double> before;
    for (const auto& s : first.samples) {
        before[s.name + "{" + s.labels + "}"] = s.value;
    }
    int counters = 0;
    for (const auto& s : second.samples) {
        const std::string family = family_of(s.name, second.type);
        const std::string& type = second.type.at(family);
        const bool counter = type == "counter" || (type == "summary" && s.name != family);
        if (!counter) {
            continue;
        }
        ++counters;
        const std::string key = s.name + "{" + s.labels + "}";
        ASSERT_TRUE(before.contains(key)) << key << " appeared only in the second scrape";
        EXPECT_GE(s.value, before[key]) << key;
    }
    EXPECT_GT(counters, 20);
    EXPECT_EQ(second.samples.size(), first.samples.size()) << "the same series in both scrapes";
}

TEST_F(MetricsTest, PromtoolAcceptsTheText) {
    if (std::system("command -v promtool > /dev/null 2>&1") != 0) {  // NOLINT(cert-env33-c)
        GTEST_SKIP() << "promtool not installed (Debian package prometheus)";
    }
    const auto p = ran_pipeline("in \"quotes\"\nand \\", "stage");
    const Probes probes{growing_pool("db")};
    testing::TempDir dir;
    testing::write_file(dir / "metrics.txt", prometheus_text({.pipeline = p.get(),
                                                              .probes = &probes,
                                                              .monitor = &iso_.monitor,
                                                              .uptime_seconds = 2}));
    const std::string cmd = "promtool check metrics < '" + (dir / "metrics.txt").string() +
                            "' > '" + (dir / "promtool.txt").string() + "' 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0)  // NOLINT(cert-env33-c,concurrency-mt-unsafe)
        << testing::read_file(dir / "promtool.txt");
}

}  // namespace
}  // namespace scopeflow::service
