#include <atomic>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <unistd.h>

#include <scopeflow/core/error.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/engine/graph.h>
#include <scopeflow/engine/pipeline.h>
#include <scopeflow/event/event.h>
#include <scopeflow/sources/jsonl_file_source.h>

#include "support/lambda_stage.h"
#include "support/leak_check.h"
#include "support/temp_dir.h"

namespace scopeflow {
namespace {

namespace fs = std::filesystem;
using testing::LambdaStage;

class JsonlSourceTest : public ::testing::Test {
protected:
    void SetUp() override { path_ = (dir_ / "events.jsonl").string(); }

    void append(const std::string& text) {
        std::ofstream f(path_, std::ios::app | std::ios::binary);
        f << text;
    }
    std::string committed() {
        std::ifstream f(path_ + ".offset");
        std::string s;
        std::getline(f, s);
        return s;
    }

    // Runs source -> sink (-> dlq); `sink` decides per event.
    PipelineStats run(JsonlFileSource& source,
                      std::function<ActionId(Event&)> sink,
                      bool with_dlq = true,
                      std::size_t workers = 2) {
        Scope svc("svc", {.monitor = &iso_.monitor});
        Graph g;
        g.add_stage("sink", std::make_unique<LambdaStage>(
                                [sink](Event& e, TaskContext&) { return sink(e); }));
        if (with_dlq) {
            g.add_stage("dlq", std::make_unique<LambdaStage>([this](Event& e, TaskContext&) {
                            std::lock_guard lock(mu_);
                            dead_.push_back(std::string(e.get_string("_error").value_or("")));
                            return kActionDefault;
                        }));
            g.set_dead_letter("dlq");
        }
        Pipeline p("p", std::move(g), source, {.workers = workers, .batch_size = 8});
        p.run(svc);
        return p.stats();
    }

    testing::Isolated iso_;
    testing::TempDir dir_;
    std::string path_;
    std::mutex mu_;
    std::vector<std::string> dead_;
};

TEST_F(JsonlSourceTest, ReadsEveryLineAndCommitsTheEndOffset) {
    std::string text;
    for (int i = 0; i < 1000; ++i) {
        text +=
            R"({"id":)" + std::to_string(i) + R"(,"user":"u-)" + std::to_string(i % 7) + "\"}\n";
    }
    append(text);
    std::atomic<std::int64_t> sum{0};
    JsonlFileSource source({.path = path_});
    const PipelineStats s = run(source, [&](Event& e) {
        sum += e.get_int("id").value_or(-1000000);
        return kActionDefault;
    });
    EXPECT_EQ(s.read, 1000U);
    EXPECT_EQ(s.completed, 1000U);
    EXPECT_EQ(sum.load(), 999 * 1000 / 2);
    EXPECT_EQ(committed(), std::to_string(text.size()));
    EXPECT_TRUE(testing::nothing_live(iso_.ledger));
}

TEST_F(JsonlSourceTest, RestartResumesAfterTheCommittedOffsetOnly) {
    append("{\"id\":1}\n{\"id\":2}\n");
    {
        JsonlFileSource source({.path = path_});
        EXPECT_EQ(run(source, [](Event&) { return kActionDefault; }).read, 2U);
    }
    append("{\"id\":3}\n");
    std::vector<std::int64_t> seen;
    JsonlFileSource again({.path = path_});
    const PipelineStats s = run(
        again,
        [&](Event& e) {
            seen.push_back(e.get_int("id").value_or(0));
            return kActionDefault;
        },
        true, 1);
    EXPECT_EQ(s.read, 1U);
    EXPECT_EQ(seen, std::vector<std::int64_t>{3});
    EXPECT_EQ(again.start_offset(), 18U);
}

TEST_F(JsonlSourceTest, BadLinesGoToTheDeadLetterStageNamingFileLineAndByte) {
    append("{\"id\":1}\nnot json\n\n[1,2]\n{\"id\":5}");  // no final newline
    JsonlFileSource source({.path = path_});
    const PipelineStats s = run(
        source, [](Event&) { return kActionDefault; }, true, 1);
    EXPECT_EQ(s.read, 4U);
    EXPECT_EQ(s.completed, 2U);
    EXPECT_EQ(s.dead_lettered, 2U);
    EXPECT_EQ(source.decode_failures(), 2U);
    ASSERT_EQ(dead_.size(), 2U);
    EXPECT_NE(dead_[0].find("events.jsonl:2 (byte 9): "), std::string::npos) << dead_[0];
    EXPECT_NE(dead_[1].find("events.jsonl:4 (byte 19): "), std::string::npos) << dead_[1];
    EXPECT_EQ(committed(), "33");
}

TEST_F(JsonlSourceTest, ALongLineIsDeadLetteredCitingTheSourcesOwnOption) {
    // Over the default 1 MiB too: the message cites max_line_bytes, an option the source has.
    append("{\"id\":1}\n{\"pad\":\"" + std::string(2 << 20, 'x') + "\"}\n{\"id\":3,\"more\":1}\n");
    JsonlFileSource source({.path = path_, .max_line_bytes = 3 << 20});
    EXPECT_EQ(run(
                  source, [](Event&) { return kActionDefault; }, true, 1)
                  .completed,
              3U);
    fs::remove(path_ + ".offset");
    JsonlFileSource small({.path = path_, .max_line_bytes = 16});
    const PipelineStats s = run(
        small, [](Event&) { return kActionDefault; }, true, 1);
    EXPECT_EQ(s.completed, 1U);
    ASSERT_EQ(dead_.size(), 2U);
    EXPECT_NE(dead_[0].find("events.jsonl:2 (byte 9): line of 2097162 bytes exceeds "
                            "max_line_bytes (16)"),
              std::string::npos)
        << dead_[0].substr(0, 200) << " / " << dead_[1].substr(0, 200);
    EXPECT_NE(dead_[1].find("line of 17 bytes exceeds max_line_bytes (16)"), std::string::npos)
        << dead_[1];
}

TEST_F(JsonlSourceTest, NackedEventHoldsTheOffsetBackSoItIsReadAgain) {
    append("{\"id\":1}\n{\"id\":2}\n{\"id\":3}\n");
    JsonlFileSource source({.path = path_});
    const PipelineStats s = run(
        source, [](Event& e) { return e.get_int("id") == 2 ? kActionError : kActionDefault; },
        /*with_dlq=*/false, 1);
    EXPECT_EQ(s.nacked, 1U);
    EXPECT_EQ(committed(), "9");  // just past line 1: line 2 failed, line 3 waits behind it
    std::vector<std::int64_t> seen;
    JsonlFileSource again({.path = path_});
    run(
        again,
        [&](Event& e) {
            seen.push_back(e.get_int("id").value_or(0));
            return kActionDefault;
        },
        false, 1);
    EXPECT_EQ(seen, (std::vector<std::int64_t>{2, 3}));
}

TEST_F(JsonlSourceTest, MissingFileFailsStartNamingThePath) {
    JsonlFileSource source({.path = (dir_ / "nope.jsonl").string()});
    try {
        run(source, [](Event&) { return kActionDefault; });
        FAIL();
    } catch (const SystemError& e) {
        EXPECT_NE(std::string(e.what()).find("nope.jsonl"), std::string::npos);
    }
    EXPECT_TRUE(testing::nothing_live(iso_.ledger));
}

}  // namespace
}  // namespace scopeflow

namespace scopeflow {
namespace {

TEST_F(JsonlSourceTest, ProgressIsCommittedWhileRunning) {
    std::string text;
    for (int i = 0; i < 100; ++i) {
        text += "{\"id\":" + std::to_string(i) + "}\n";
    }
    append(text);
    std::string seen_at_50;
    JsonlFileSource source({.path = path_, .commit_interval = std::chrono::milliseconds(0)});
    run(
        source,
        [&](Event& e) {
            if (e.get_int("id") == 50) {
                seen_at_50 = committed();
            }
            return kActionDefault;
        },
        true, 1);
    ASSERT_FALSE(seen_at_50.empty());
    // Batches of 8 acked before the one holding id 50 (ids 48..55): lines 0..47 committed.
    EXPECT_EQ(std::stoull(seen_at_50), text.find("{\"id\":48}"));
    EXPECT_EQ(committed(), std::to_string(text.size()));
}

}  // namespace
}  // namespace scopeflow
