#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <unistd.h>

#include <scopeflow/core/error.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/engine/graph.h>
#include <scopeflow/engine/pipeline.h>
#include <scopeflow/engine/stage_registry.h>
#include <scopeflow/event/event.h>
#include <scopeflow/event/event_json.h>
#include <scopeflow/sources/generator_source.h>
#include <scopeflow/stages/builtin_stages.h>
#include <scopeflow/stages/fields_stage.h>
#include <scopeflow/stages/file_processor_stage.h>
#include <scopeflow/stages/file_sink_stage.h>
#include <scopeflow/stages/filter_stage.h>
#include <scopeflow/stages/json_stages.h>
#include <scopeflow/stages/rotating_file_writer.h>

#include "support/lambda_stage.h"
#include "support/leak_check.h"
#include "support/temp_dir.h"

namespace scopeflow {
namespace {

namespace fs = std::filesystem;

class BuiltinStagesTest : public ::testing::Test {
protected:
    ActionId run_one(Stage& stage, Event& e) {
        stage.open(scope_, 1);
        return stage.process(e, task_);
    }
    std::vector<std::string> files(std::string_view suffix) {
        std::vector<std::string> out;
        for (const auto& entry : fs::directory_iterator(dir_.path())) {
            const std::string name = entry.path().filename().string();
            if (name.size() >= suffix.size() && name.ends_with(suffix)) {
                out.push_back(name);
            }
        }
        std::sort(out.begin(), out.end());
        return out;
    }
    std::size_t count_lines() {
        std::size_t n = 0;
        for (const auto& name : files(".jsonl")) {
            std::ifstream f(dir_ / name);
            std::string line;
            while (std::getline(f, line)) {
                ++n;
            }
        }
        return n;
    }

    testing::Isolated iso_;
    Scope scope_{"svc", {.monitor = &iso_.monitor}};
    TaskContext task_{scope_, 0, {}};
    testing::TempDir dir_;
};

TEST_F(BuiltinStagesTest, FilterComparesNumbersStringsAndPresence) {
    Event e{{"price", Value(12.5)}, {"qty", Value(std::int64_t{3})}, {"user", Value("bob")}};
    auto check = [&](std::string field, CompareOp op, Value v) {
        FilterStage f({.field = std::move(field), .op = op, .value = std::move(v)});
        return f.matches(e);
    };
    EXPECT_TRUE(check("price", CompareOp::ge, Value(std::int64_t{10})));
    EXPECT_FALSE(check("price", CompareOp::lt, Value(12.5)));
    EXPECT_TRUE(check("qty", CompareOp::eq, Value(3.0)));
    EXPECT_TRUE(check("user", CompareOp::gt, Value("alice")));
    EXPECT_FALSE(check("user", CompareOp::eq, Value(std::int64_t{1})));  // other type
    EXPECT_TRUE(check("user", CompareOp::ne, Value(std::int64_t{1})));
    EXPECT_TRUE(check("missing", CompareOp::missing, Value()));
    EXPECT_FALSE(check("missing", CompareOp::ge, Value(std::int64_t{0})));
    FilterStage drop({.field = "price", .op = CompareOp::gt, .value = Value(100.0)});
    EXPECT_EQ(run_one(drop, e), kActionDrop);
}

TEST_F(BuiltinStagesTest, FieldsAppliesOperationsInOrder) {
    FieldsStage f(
        {.operations = {FieldOp::set("source", Value("web")), FieldOp::rename("uid", "user"),
                        FieldOp::drop("debug"), FieldOp::rename("absent", "x")}});
    Event e{{"uid", Value("u-1")}, {"debug", Value(true)}};
    EXPECT_EQ(run_one(f, e), kActionDefault);
    EXPECT_EQ(to_json(e), R"({"source":"web","user":"u-1"})");
}

TEST_F(BuiltinStagesTest, JsonParseAndSerializeRoundTrip) {
    JsonSerializeStage ser({.field = "json"});
    JsonParseStage parse({.field = "json"});
    Event e{{"a", Value(std::int64_t{1})}, {"b", Value("x")}};
    EXPECT_EQ(run_one(ser, e), kActionDefault);
    EXPECT_EQ(e.get_string("json"), R"({"a":1,"b":"x"})");
    Event only{{"json", Value(e.get_string("json").value_or(""))}};
    EXPECT_EQ(run_one(parse, only), kActionDefault);
    EXPECT_EQ(to_json(only), R"({"a":1,"b":"x"})");
    Event bad{{"json", Value("[1,2]")}};
    EXPECT_THROW(parse.process(bad, task_), Error);
}

TEST_F(BuiltinStagesTest, RotatingWriterPublishesCompletePartsOnly) {
    RotatingFileWriter w(
        {.directory = dir_.path().string(), .prefix = "p", .max_bytes = 100, .buffer_bytes = 1});
    for (int i = 0; i < 10; ++i) {
        w.append(std::string(30, static_cast<char>('a' + i)));  // 31 bytes with the newline
    }
    EXPECT_EQ(files(".tmp").size(), 1U);  // the part being written
    const auto published = files(".jsonl");
    EXPECT_EQ(published.size(), 3U);  // 3 lines each
    w.close();
    EXPECT_TRUE(files(".tmp").empty());
    EXPECT_EQ(files(".jsonl").size(), 4U);
    EXPECT_EQ(count_lines(), 10U);
}

TEST_F(BuiltinStagesTest, RotatingWriterNeverOverwritesAnEarlierRunsParts) {
    for (int run = 0; run < 2; ++run) {  // a restart with the same directory and prefix
        RotatingFileWriter w({.directory = dir_.path().string(), .prefix = "p", .max_bytes = 100});
        for (int i = 0; i < 5; ++i) {
            w.append(std::string(30, 'x'));
        }
        w.close();
    }
    { std::ofstream(dir_ / "p-9.jsonl.tmp") << "acked before a crash\n"; }
    RotatingFileWriter w({.directory = dir_.path().string(), .prefix = "p", .max_bytes = 1000});
    w.append("third run");
    w.close();
    EXPECT_EQ(count_lines(), 11U);        // 5 + 5 + 1: nothing replaced
    EXPECT_EQ(files(".tmp").size(), 1U);  // the crashed run's part is left for the operator
    EXPECT_TRUE(std::filesystem::exists(dir_ / "p-10.jsonl"));
}

TEST_F(BuiltinStagesTest, RecoverPublishesLeftoverPartsCutAfterTheirLastCompleteLine) {
    { std::ofstream(dir_ / "p-3.jsonl.tmp") << "{\"id\":1}\n{\"id\":2}\n{\"id\":"; }
    { std::ofstream(dir_ / "p-4.jsonl.tmp") << "{\"half"; }  // not one complete line
    { std::ofstream(dir_ / "p-5.jsonl.tmp"); }               // created, nothing written
    { std::ofstream(dir_ / "q-1.jsonl.tmp") << "another writer's\n"; }
    { std::ofstream(dir_ / "p-x.jsonl.tmp") << "not a part name\n"; }
    const PartRecovery r = RotatingFileWriter::recover(dir_.path().string(), "p");
    EXPECT_EQ(r.parts, 1U);
    EXPECT_EQ(r.empty_removed, 2U);
    EXPECT_EQ(r.lines, 2U);
    EXPECT_EQ(r.bytes_truncated, 6U + 6U);  // '{"id":' and '{"half'
    std::ifstream in(dir_ / "p-3.jsonl");
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_EQ(text.str(), "{\"id\":1}\n{\"id\":2}\n");
    EXPECT_EQ(files(".tmp"), (std::vector<std::string>{"p-x.jsonl.tmp", "q-1.jsonl.tmp"}));
    // Nothing left: a second recovery is a no-op, and a writer continues after the part.
    const PartRecovery again = RotatingFileWriter::recover(dir_.path().string(), "p");
    EXPECT_EQ(again.parts + again.empty_removed, 0U);
    RotatingFileWriter w({.directory = dir_.path().string(), .prefix = "p"});
    w.append("next");
    w.close();
    EXPECT_TRUE(fs::exists(dir_ / "p-4.jsonl"));
}

TEST_F(BuiltinStagesTest, FileSinkOpenRecoversTheLeftoversOfEveryWorkerOfACrashedRun) {
    // A crashed run with 6 workers left parts in progress; this run has 2.
    { std::ofstream(dir_ / "events-w0-2.jsonl.tmp") << "{\"id\":\"a\"}\n{\"id\":\"b\"}\n{\"i"; }
    { std::ofstream(dir_ / "events-w5-0.jsonl.tmp") << "{\"id\":\"c\"}\n"; }
    { std::ofstream(dir_ / "events-w1-7.jsonl.tmp"); }
    { std::ofstream(dir_ / "other-w0-1.jsonl.tmp") << "{\"id\":\"other sink\"}\n"; }
    GeneratorSource source({.count = 100});
    Graph g;
    auto sink = std::make_unique<FileSinkStage>(FileSinkOptions{.directory = dir_.path().string()});
    FileSinkStage* raw = sink.get();
    g.add_stage("sink", std::move(sink));
    Pipeline p("p", std::move(g), source, {.workers = 2});
    p.run(scope_);
    EXPECT_EQ(raw->recovered().parts, 2U);
    EXPECT_EQ(raw->recovered().empty_removed, 1U);
    EXPECT_EQ(raw->recovered().lines, 3U);
    EXPECT_EQ(raw->recovered().bytes_truncated, 3U);
    EXPECT_EQ(count_lines(), 100U + 3U);
    EXPECT_EQ(files(".tmp"), std::vector<std::string>{"other-w0-1.jsonl.tmp"});
    EXPECT_TRUE(fs::exists(dir_ / "events-w0-2.jsonl"));
    EXPECT_TRUE(fs::exists(dir_ / "events-w5-0.jsonl"));
}

TEST_F(BuiltinStagesTest, FileProcessorOpenRemovesTempFilesACrashedRunLeft) {
    // Files are published before their events are acked: a leftover temp file is garbage.
    fs::create_directories(dir_ / "tmp");
    { std::ofstream(dir_ / "tmp" / "processing-Ab12Cd") << "{\"id\":1"; }
    { std::ofstream(dir_ / "tmp" / "processing-notmine.json") << "kept"; }
    FileProcessorStage stage(
        {.directory = dir_.path().string(), .temp_directory = (dir_ / "tmp").string()});
    stage.open(scope_, 1);
    EXPECT_FALSE(fs::exists(dir_ / "tmp" / "processing-Ab12Cd"));
    EXPECT_TRUE(fs::exists(dir_ / "tmp" / "processing-notmine.json"));
}

TEST_F(BuiltinStagesTest, FileSinkWritesEveryEventOncePerWorkerFiles) {
    GeneratorSource source({.count = 5000, .with_payload = true});
    Graph g;
    g.add_stage("sink", std::make_unique<FileSinkStage>(FileSinkOptions{
                            .directory = dir_.path().string(), .max_bytes = 50'000}));
    Pipeline p("p", std::move(g), source, {.workers = 2});
    p.run(scope_);
    EXPECT_EQ(count_lines(), 5000U);
    EXPECT_TRUE(files(".tmp").empty());
    EXPECT_GT(files(".jsonl").size(), 4U);  // rotated
    EXPECT_EQ(source.acked(), 5000U);
    EXPECT_EQ(iso_.ledger.live(ResourceKind::file).entries, 0U);
}

TEST_F(BuiltinStagesTest, FileSinkPublishesWhatWasAckedWhenTheRunFails) {
    GeneratorSource source({.count = 1000});
    Graph g;
    g.add_stage("sink", std::make_unique<FileSinkStage>(
                            FileSinkOptions{.directory = dir_.path().string()}));
    g.add_stage("boom", std::make_unique<testing::LambdaStage>([](Event& e, TaskContext&) {
                    if (e.meta().sequence == 500) {
                        throw std::runtime_error("stage failed");
                    }
                    return kActionDefault;
                }));
    g.route("sink", "default", "boom");
    Pipeline p("p", std::move(g), source, {.workers = 1, .batch_size = 10});
    p.run(scope_);  // the failure is per event: nacked, the run goes on
    EXPECT_EQ(source.nacked(), 1U);
    EXPECT_EQ(count_lines(), 1000U);
    EXPECT_TRUE(files(".tmp").empty());
}

TEST_F(BuiltinStagesTest, RegistryBuildsEveryBuiltinFromOptions) {
    StageRegistry r;
    register_builtin_stages(r);
    EventParser parser;
    auto options = [&](std::string_view json) {
        Event o;
        EXPECT_TRUE(parser.parse(json, o));
        return o;
    };
    EXPECT_NO_THROW((void)r.create(
        "fields", options(R"({"set":{"a":1},"rename":{"b":"c"},"drop":"x, y"})"), "s"));
    EXPECT_NO_THROW((void)r.create("json_parse", options(R"({"field":"payload"})"), "s"));
    EXPECT_NO_THROW((void)r.create("json_serialize", options(R"({"field":"json"})"), "s"));
    EXPECT_NO_THROW((void)r.create("log", options(R"({"every":10})"), "s"));
    EXPECT_NO_THROW(
        (void)r.create("file_sink", options(R"({"directory":"/tmp","fsync":"never"})"), "s"));
    try {
        (void)r.create("file_sink", options(R"({"fsync":"sometimes"})"), "graph.stages.out");
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.where(), "graph.stages.out.fsync");
    }
    EXPECT_THROW((void)r.create("log", options(R"({"every":0})"), "s"), ConfigError);
    EXPECT_NO_THROW((void)r.create("counter", options(R"({"key_field":"user"})"), "s"));
    EXPECT_NO_THROW(
        (void)r.create("tumbling_window", options(R"({"time_field":"ts","size_ms":1000})"), "s"));
    EXPECT_THROW((void)r.create("tumbling_window", options(R"({"size_ms":1000})"), "s"),
                 ConfigError);  // time_field is required
    EXPECT_NO_THROW((void)r.create("process", options(R"({"command":["cat"]})"), "s"));
    // A string is not a command line (no shell splits it): `check` rejects what `run` could not
    // execute, suggesting the list.
    try {
        (void)r.create("process", options(R"({"command":"cat -u"})"), "graph.stages.p");
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.where(), "graph.stages.p.command");
        EXPECT_EQ(e.text(), "expected a list, not 'cat -u': write command: [cat, -u]");
    }
    try {
        (void)r.create("process", options(R"({"command":[]})"), "graph.stages.p");
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.where(), "graph.stages.p.command");
    }
    EXPECT_NO_THROW((void)r.create(
        "file_processor", options(R"({"directory":")" + dir_.path().string() + R"("})"), "s"));
    try {
        (void)r.create("file_processor", options(R"({"directory":"/no/such/dir"})"),
                       "graph.stages.fp");
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.where(), "graph.stages.fp.directory");
    }
    EXPECT_NO_THROW((void)r.create(
        "notify", options(R"({"path":"/tmp/n.log","fields":["customer","amount"]})"), "s"));
    EXPECT_THROW((void)r.create("notify", options(R"({"fields":["a"]})"), "s"), ConfigError);
    EXPECT_EQ(r.list().size(), 11U);
}

}  // namespace
}  // namespace scopeflow
