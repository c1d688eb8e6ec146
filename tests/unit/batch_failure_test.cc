// Failures at the end of a batch: a stage's end_batch failing single events (BatchContext::fail /
// nack) sends them along the failure path (dead-letter stage, else nack) while the rest of the
// batch is acked; every stage's end_batch runs even when one throws; accounting stays exact.
#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <scopeflow/core/error.h>
#include <scopeflow/core/fault_injector.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/engine/graph.h>
#include <scopeflow/engine/log.h>
#include <scopeflow/engine/node.h>
#include <scopeflow/engine/pipeline.h>
#include <scopeflow/event/event.h>

#include "support/accounting.h"
#include "support/lambda_stage.h"
#include "support/leak_check.h"
#include "support/test_source.h"

namespace scopeflow {
namespace {

using testing::LambdaStage;
using testing::TestSource;

enum class Verdict { ok, fail, nack };

// A batching sink: keeps a copy of each event it accepts, per worker, and "writes" them at the
// end of the batch, where `verdict` decides what became of each one.
class BufferingSink final : public Stage {
public:
    using VerdictFn = std::function<Verdict(const Event&)>;
    // `throw_if` (optional) makes end_batch throw for a batch of these events, after clearing.
    explicit BufferingSink(VerdictFn verdict = {},
                           std::function<bool(const std::vector<Event>&)> throw_if = {})
        : Stage("buffering_sink"),
          verdict_(std::move(verdict)),
          throw_if_(std::move(throw_if)) {}

    // What end_batch "wrote", by sequence (the last copy of each).
    std::map<std::uint64_t, Event> delivered() const {
        std::lock_guard lock(mu_);
        return delivered_;
    }
    bool was_delivered(std::uint64_t sequence) const {
        std::lock_guard lock(mu_);
        return delivered_.contains(sequence);
    }
    std::uint64_t end_batches() const { return end_batches_.load(); }
    std::size_t largest_flush() const { return largest_.load(); }

protected:
    void on_open(Scope& /*stage*/, std::size_t workers) override {
        slots_ = std::vector<Slot>(workers);
    }
    void on_open_worker(Scope& worker, std::size_t index) override {
        slots_[index].scope = &worker;
    }
    ActionId on_process(Event& e, TaskContext& task) override {
        slots_[task.worker_index()].events.push_back(e);
        return kActionDefault;
    }
    void on_flush_batch(BatchContext& batch) override {
        Slot& slot = slots_[batch.worker_index()];
        std::vector<Event> events = std::move(slot.events);
        slot.events.clear();  // never carried into the next batch, whatever happens below
        end_batches_.fetch_add(1);
        std::size_t seen = largest_.load();
        while (events.size() > seen && !largest_.compare_exchange_weak(seen, events.size())) {
        }
        slot.scope->fault_point("flush");
        if (throw_if_ && throw_if_(events)) {
            throw TransientError("write of " + std::to_string(events.size()) + " event(s) failed");
        }
        for (Event& e : events) {
            switch (verdict_ ? verdict_(e) : Verdict::ok) {
                case Verdict::ok: {
                    std::lock_guard lock(mu_);
                    delivered_.insert_or_assign(e.meta().sequence, e);
                    break;
                }
                case Verdict::fail:
                    batch.fail(std::move(e), "write failed");
                    break;
                case Verdict::nack:
                    batch.nack(e.meta().sequence, "write interrupted");
                    break;
            }
        }
    }

private:
    struct Slot {
        Scope* scope = nullptr;
        std::vector<Event> events;
    };
    VerdictFn verdict_;
    std::function<bool(const std::vector<Event>&)> throw_if_;
    std::vector<Slot> slots_;
    mutable std::mutex mu_;
    std::map<std::uint64_t, Event> delivered_;  // guarded by mu_
    std::atomic<std::uint64_t> end_batches_{0};
    std::atomic<std::size_t> largest_{0};
};

std::int64_t n_of(const Event& e) {
    return e.get_int("n").value_or(-1);
}

Verdict fail_threes(const Event& e) {
    return n_of(e) % 10 == 3 ? Verdict::fail : Verdict::ok;
}

class BatchFailureTest : public ::testing::Test {
protected:
    Scope root(FaultInjector* faults = nullptr) {
        return Scope("svc",
                     {.level = ScopeLevel::service, .monitor = &iso_.monitor, .faults = faults});
    }
    static void expect_exact_accounting(const PipelineStats& s) {
        EXPECT_EQ(s.completed + s.dead_lettered + s.dropped + s.failed + s.interrupted, s.read);
        EXPECT_EQ(s.acked + s.nacked, s.read);
    }

    testing::Isolated iso_;
};

TEST_F(BatchFailureTest, FailedEventsGoToTheDeadLetterStageAndAreAckedAfterItFlushed) {
    std::atomic<int> acked_before_dead_letter_flush{0};
    BufferingSink* dlq = nullptr;
    TestSource source(200);
    source.on_ack([&](std::uint64_t sequence) {
        if (sequence % 10 == 3 && !dlq->was_delivered(sequence)) {
            ++acked_before_dead_letter_flush;
        }
    });
    Scope svc = root();
    auto sink = std::make_unique<BufferingSink>(fail_threes);
    BufferingSink* sink_raw = sink.get();
    auto dead = std::make_unique<BufferingSink>();
    dlq = dead.get();
    Graph g;
    g.add_stage("sink", std::move(sink));
    g.add_stage("dlq", std::move(dead));
    g.set_dead_letter("dlq");
    Pipeline p("p", std::move(g), source, {.workers = 2, .batch_size = 16});
    p.run(svc);

    const PipelineStats s = p.stats();
    EXPECT_EQ(s.read, 200U);
    EXPECT_EQ(s.completed, 180U);  // the failed ones are counted out of the sink
    EXPECT_EQ(s.dead_lettered, 20U);
    EXPECT_EQ(s.failed, 0U);
    EXPECT_EQ(s.flush_failed, 20U);
    EXPECT_EQ(s.stages[0].errors, 20U);
    EXPECT_EQ(s.acked, 200U);
    EXPECT_EQ(s.nacked, 0U);
    expect_exact_accounting(s);
    EXPECT_EQ(source.acked(), 200U);
    EXPECT_EQ(source.settled_twice(), 0U);
    EXPECT_EQ(acked_before_dead_letter_flush.load(), 0);

    const auto delivered = sink_raw->delivered();
    const auto dead_lettered = dlq->delivered();
    EXPECT_EQ(delivered.size(), 180U);
    ASSERT_EQ(dead_lettered.size(), 20U);
    for (const auto& [sequence, e] : dead_lettered) {
        EXPECT_EQ(sequence % 10, 3U);
        EXPECT_FALSE(delivered.contains(sequence));
        EXPECT_EQ(n_of(e), static_cast<std::int64_t>(sequence));  // the event's own content
        EXPECT_EQ(e.get_string("_failed_stage").value_or(""), "sink");
        EXPECT_EQ(e.get_string("_error").value_or(""), "stage 'sink': write failed");
    }
    // Each batch: one end_batch for every stage, then one more for the dead-letter stage.
    EXPECT_GT(dlq->end_batches(), sink_raw->end_batches());
}

TEST_F(BatchFailureTest, AnEventTheStageHadPassedOnIsCountedOutOfWhereItEnded) {
    TestSource source(100);
    Scope svc = root();
    auto dead = std::make_unique<BufferingSink>();
    BufferingSink* dlq = dead.get();
    Graph g;
    g.add_stage("upload", std::make_unique<BufferingSink>(fail_threes));  // not a sink here
    g.add_stage("even", std::make_unique<LambdaStage>([](Event& e, TaskContext&) {
                    return n_of(e) % 2 == 0 ? kActionDefault : kActionDrop;
                }));
    g.add_stage("dlq", std::move(dead));
    g.route("upload", "default", "even");
    g.set_dead_letter("dlq");
    Pipeline p("p", std::move(g), source, {.workers = 2, .batch_size = 8});
    p.run(svc);

    const PipelineStats s = p.stats();
    EXPECT_EQ(s.completed, 50U);      // the even ones, at "even"
    EXPECT_EQ(s.dropped, 40U);        // the odd ones but 3, 13, ...: those failed instead
    EXPECT_EQ(s.dead_lettered, 10U);  // ... and went to the dead-letter stage
    EXPECT_EQ(s.flush_failed, 10U);
    expect_exact_accounting(s);
    EXPECT_EQ(source.acked(), 100U);
    EXPECT_EQ(dlq->delivered().size(), 10U);
}

TEST_F(BatchFailureTest, WithoutADeadLetterStageFailedEventsAloneAreNacked) {
    TestSource source(100);
    Scope svc = root();
    Graph g;
    g.add_stage("sink", std::make_unique<BufferingSink>(fail_threes));
    Pipeline p("p", std::move(g), source, {.workers = 2, .batch_size = 8});
    p.run(svc);

    const PipelineStats s = p.stats();
    EXPECT_EQ(s.completed, 90U);
    EXPECT_EQ(s.failed, 10U);
    EXPECT_EQ(s.flush_failed, 10U);
    expect_exact_accounting(s);
    EXPECT_EQ(source.acked(), 90U);
    EXPECT_EQ(source.nacked(), 10U);
    EXPECT_EQ(source.settled_twice(), 0U);
    EXPECT_EQ(source.last_nack_reason(), "stage 'sink': write failed");
}

TEST_F(BatchFailureTest, NackSendsTheEventBackWithoutDeadLettering) {
    TestSource source(50);
    Scope svc = root();
    auto dead = std::make_unique<BufferingSink>();
    BufferingSink* dlq = dead.get();
    Graph g;
    g.add_stage("sink", std::make_unique<BufferingSink>([](const Event& e) {
                    return n_of(e) % 5 == 0 ? Verdict::nack : Verdict::ok;
                }));
    g.add_stage("dlq", std::move(dead));
    g.set_dead_letter("dlq");
    Pipeline p("p", std::move(g), source, {.workers = 1, .batch_size = 10});
    p.run(svc);

    EXPECT_TRUE(dlq->delivered().empty());
    EXPECT_EQ(source.acked(), 40U);
    EXPECT_EQ(source.nacked(), 10U);
    EXPECT_EQ(source.last_nack_reason(), "stage 'sink': write interrupted");
    const PipelineStats s = p.stats();
    EXPECT_EQ(s.interrupted, 10U);  // a nack is an interrupted write, not a failed event
    EXPECT_EQ(s.failed, 0U);
    EXPECT_EQ(s.dead_lettered, 0U);
    expect_exact_accounting(s);
}

TEST_F(BatchFailureTest, AFailureOnTheDeadLetterPathIsNackedNotDeadLetteredAgain) {
    TestSource source(60);
    Scope svc = root();
    auto dead = std::make_unique<BufferingSink>([](const Event&) { return Verdict::fail; });
    BufferingSink* dlq = dead.get();
    Graph g;
    g.add_stage("sink", std::make_unique<BufferingSink>(fail_threes));
    g.add_stage("dlq", std::move(dead));
    g.set_dead_letter("dlq");
    Pipeline p("p", std::move(g), source, {.workers = 2, .batch_size = 10});
    p.run(svc);

    const PipelineStats s = p.stats();
    EXPECT_EQ(s.completed, 54U);
    EXPECT_EQ(s.dead_lettered, 0U);  // the dead-letter stage failed them: counted out again
    EXPECT_EQ(s.failed, 6U);
    EXPECT_EQ(s.flush_failed, 12U);  // once by the sink, once by the dead-letter stage
    expect_exact_accounting(s);
    EXPECT_EQ(source.acked(), 54U);
    EXPECT_EQ(source.nacked(), 6U);
    EXPECT_EQ(source.settled_twice(), 0U);
    EXPECT_EQ(source.last_nack_reason(), "stage 'dlq': write failed");
    EXPECT_TRUE(dlq->delivered().empty());
}

TEST_F(BatchFailureTest, EveryStageEndsTheBatchEvenWhenAnEarlierOneThrows) {
    TestSource source(40);
    Scope svc = root();
    // "first" throws at the end of every other batch; "second" after it must still be flushed,
    // or its buffer would be carried into (and written with) the next batch.
    auto first = std::make_unique<BufferingSink>(nullptr, [](const std::vector<Event>& events) {
        return !events.empty() && (n_of(events.front()) / 4) % 2 == 1;
    });
    auto second = std::make_unique<BufferingSink>();
    BufferingSink* first_raw = first.get();
    BufferingSink* second_raw = second.get();
    Graph g;
    g.add_stage("first", std::move(first));
    g.add_stage("second", std::move(second));
    g.route("first", "default", "second");
    Pipeline p("p", std::move(g), source, {.workers = 1, .batch_size = 4});
    p.run(svc);

    EXPECT_EQ(first_raw->end_batches(), second_raw->end_batches());
    EXPECT_GE(second_raw->end_batches(), 10U);
    EXPECT_EQ(second_raw->largest_flush(), 4U);  // never a stale buffer plus the next batch
    EXPECT_EQ(source.acked(), 20U);
    EXPECT_EQ(source.nacked(), 20U);  // the batches that threw, whole
    EXPECT_EQ(source.settled_twice(), 0U);
    EXPECT_EQ(source.last_nack_reason(), "flush failed: stage 'first': write of 4 event(s) failed");
    EXPECT_EQ(p.stats().flush_failed, 0U);
}

TEST_F(BatchFailureTest, EveryThrowIsNamedAndTheBatchIsNackedWholeWithItsFailedEvents) {
    TestSource source(8);
    Scope svc = root();
    auto always = [](const std::vector<Event>& events) { return !events.empty(); };
    auto dead = std::make_unique<BufferingSink>();
    BufferingSink* dlq = dead.get();
    Graph g;
    g.add_stage("a", std::make_unique<BufferingSink>(nullptr, always));
    g.add_stage("b", std::make_unique<BufferingSink>(fail_threes));
    g.add_stage("c", std::make_unique<BufferingSink>(nullptr, always));
    g.add_stage("dlq", std::move(dead));
    g.route("a", "default", "b");
    g.route("b", "default", "c");
    g.set_dead_letter("dlq");
    Pipeline p("p", std::move(g), source, {.workers = 1, .batch_size = 8});
    p.run(svc);

    EXPECT_EQ(source.nacked(), 8U);
    EXPECT_EQ(source.last_nack_reason(),
              "flush failed: stage 'a': write of 8 event(s) failed; stage 'c': write of 8 "
              "event(s) failed");
    EXPECT_TRUE(dlq->delivered().empty());  // the batch is read again: nothing dead-lettered
    EXPECT_EQ(p.stats().flush_failed, 0U);
}

TEST_F(BatchFailureTest, AThrowFromTheDeadLetterStagesSecondFlushNacksTheBatch) {
    TestSource source(20);
    Scope svc = root();
    // The dead-letter stage's own end_batch throws once it has something to write.
    auto dead = std::make_unique<BufferingSink>(
        nullptr, [](const std::vector<Event>& events) { return !events.empty(); });
    Graph g;
    g.add_stage("sink", std::make_unique<BufferingSink>(fail_threes));
    g.add_stage("dlq", std::move(dead));
    g.set_dead_letter("dlq");
    Pipeline p("p", std::move(g), source, {.workers = 1, .batch_size = 10});
    p.run(svc);

    EXPECT_EQ(source.nacked(), 20U);  // both batches had a failed event
    EXPECT_EQ(source.acked(), 0U);
    EXPECT_EQ(source.settled_twice(), 0U);
    EXPECT_NE(source.last_nack_reason().find("flush failed: stage 'dlq'"), std::string::npos)
        << source.last_nack_reason();
}

TEST_F(BatchFailureTest, FailingAnEventOfAnotherBatchFailsTheBatch) {
    TestSource source(10);
    Scope svc = root();
    class Wrong final : public Stage {
    public:
        Wrong()
            : Stage("wrong") {}

    protected:
        ActionId on_process(Event&, TaskContext&) override { return kActionDefault; }
        void on_flush_batch(BatchContext& batch) override {
            Event stranger;
            stranger.meta().sequence = 1'000'000;
            batch.fail(std::move(stranger), "not mine");
        }
    };
    Graph g;
    g.add_stage("wrong", std::make_unique<Wrong>());
    Pipeline p("p", std::move(g), source, {.workers = 1, .batch_size = 5});
    p.run(svc);
    EXPECT_EQ(source.nacked(), 10U);
    EXPECT_NE(source.last_nack_reason().find("not an event of this batch"), std::string::npos)
        << source.last_nack_reason();
}

// Holds each input's ack and emits one bundle per `k` inputs, settling the inputs with the batch.
class Bundler final : public Stage {
public:
    explicit Bundler(std::size_t k)
        : Stage("bundler"),
          k_(k) {}

protected:
    void on_open(Scope&, std::size_t workers) override { holds_.resize(workers); }
    ActionId on_process(Event& e, TaskContext& task) override {
        auto& holds = holds_[task.worker_index()];
        holds.push_back(task.hold_ack());
        if (holds.size() == k_) {
            task.emit(Event{{"bundle_last", Value(n_of(e))}});
            task.ack_with_batch(std::move(holds));
        }
        return kActionDrop;
    }

private:
    std::size_t k_;
    std::vector<std::vector<AckHold>> holds_;
};

TEST_F(BatchFailureTest, AFailedAggregateNacksTheInputsItsStageSettlesWithTheBatch) {
    for (const bool with_dead_letter : {false, true}) {
        SCOPED_TRACE(with_dead_letter ? "dead-letter stage" : "no dead-letter stage");
        TestSource source(20);
        Scope svc = root();
        Graph g;
        g.add_stage("bundle", std::make_unique<Bundler>(5));
        g.add_stage("sink", std::make_unique<BufferingSink>([](const Event& e) {
                        return e.get_int("bundle_last") == 9 ? Verdict::fail : Verdict::ok;
                    }));
        g.route("bundle", "default", "sink");
        if (with_dead_letter) {
            g.add_stage("dlq", std::make_unique<BufferingSink>());
            g.set_dead_letter("dlq");
        }
        Pipeline p("p", std::move(g), source, {.workers = 1, .batch_size = 5});
        p.run(svc);
        EXPECT_EQ(source.acked() + source.nacked(), 20U);
        EXPECT_EQ(source.settled_twice(), 0U);
        // Without a dead-letter stage the bundle of 5..9 is lost unless its inputs come again.
        EXPECT_EQ(source.nacked(), with_dead_letter ? 0U : 5U);
        const PipelineStats s = p.stats();
        EXPECT_EQ(s.flush_failed, 1U);
        EXPECT_EQ(s.dead_lettered, with_dead_letter ? 1U : 0U);
        EXPECT_EQ(s.completed, 3U);
    }
}

TEST_F(BatchFailureTest, EndBatchOutsideAPipelineThrowsWhenEventsFailed) {
    Scope svc = root();
    BufferingSink sink(fail_threes);
    Scope stage_scope = svc.child("sink");
    Scope worker_scope = stage_scope.child("worker-0");
    Scope worker_root = svc.child("worker-0");
    sink.open(stage_scope, 1);
    sink.open_worker(worker_scope, 0);
    TaskContext task(worker_root, 0, {});
    for (std::int64_t n = 0; n < 5; ++n) {
        Event e{{"n", Value(n)}};
        e.meta().sequence = static_cast<std::uint64_t>(n);
        task.begin_task(e.meta().sequence);
        (void)sink.process(e, task);
    }
    try {
        sink.end_batch(0);
        FAIL() << "a failed event must surface";
    } catch (const BatchError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "stage 'buffering_sink': 1 event(s) of the batch failed; first: write failed");
    }
    EXPECT_NO_THROW(sink.end_batch(0));  // nothing carried over
    EXPECT_EQ(sink.delivered().size(), 4U);
}

TEST_F(BatchFailureTest, FaultAtEveryPointKeepsTheAccountingExact) {
    auto scenario = [&](FaultInjector& faults) {
        TestSource source(24);
        Scope svc = root(&faults);
        Graph g;
        g.add_stage("work", std::make_unique<LambdaStage>([](Event&, TaskContext& task) {
                        task.scope().fault_point("work");
                        return kActionDefault;
                    }));
        g.add_stage("sink", std::make_unique<BufferingSink>([](const Event& e) {
                        const auto n = n_of(e) % 6;
                        return n == 1 ? Verdict::fail : n == 4 ? Verdict::nack : Verdict::ok;
                    }));
        g.add_stage("dlq", std::make_unique<BufferingSink>());
        g.route("work", "default", "sink");
        g.set_dead_letter("dlq");
        Pipeline p("p", std::move(g), source, {.workers = 2, .batch_size = 4});
        testing::run_accounted(p, svc, source, 24);
    };
    const auto hits = FaultInjector::record(scenario);
    std::set<std::pair<FaultPhase, std::string>> points;
    for (const auto& h : hits) {
        points.insert({h.phase, h.point});
    }
    ASSERT_TRUE(points.contains({FaultPhase::use, "flush"}));
    for (const auto& [phase, point] : points) {
        for (std::uint64_t nth : {1ULL, 3ULL, 7ULL}) {
            SCOPED_TRACE(std::string(to_string(phase)) + " " + point + " #" + std::to_string(nth));
            FaultInjector faults;
            faults.arm({.phase = phase, .point = point, .nth = nth});
            scenario(faults);
            EXPECT_TRUE(testing::nothing_live(iso_.ledger));
        }
    }
}

// A NodeStage whose every attempt meets a server that is down.
class DownServer final : public NodeStage<int, int> {
public:
    DownServer()
        : NodeStage("down",
                    {.max_attempts = 1000, .initial_backoff = std::chrono::milliseconds(5)}) {}
    std::atomic<int> attempts{0};

protected:
    int prep(Event&, TaskContext&) override { return 0; }
    int exec(int&) override {
        ++attempts;
        throw TransientError("db: cannot connect: connection refused");
    }
    ActionId post(Event&, int&, int&) override { return kActionDefault; }
};

TEST_F(BatchFailureTest, AStopDuringRetriesNacksTheEventsAndNeverDeadLettersThem) {
    TestSource source(8);
    Scope svc = root();
    auto down = std::make_unique<DownServer>();
    DownServer* server = down.get();
    auto dead = std::make_unique<BufferingSink>();
    BufferingSink* dlq = dead.get();
    Graph g;
    g.add_stage("db", std::move(down));
    g.add_stage("dlq", std::move(dead));
    g.set_dead_letter("dlq");
    Pipeline p("p", std::move(g), source, {.workers = 1, .batch_size = 8});
    p.start(svc);
    while (server->attempts.load() < 5) {  // retrying the first event against the outage
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    p.request_stop();  // SIGTERM
    p.wait();
    EXPECT_TRUE(dlq->delivered().empty()) << "a stop is not a failure of the event";
    EXPECT_EQ(source.acked(), 0U);
    EXPECT_EQ(source.nacked(), 8U);  // read again after a restart
    EXPECT_NE(source.last_nack_reason().find("stopped while"), std::string::npos)
        << source.last_nack_reason();
    const PipelineStats s = p.stats();
    EXPECT_EQ(s.interrupted, 8U);
    EXPECT_EQ(s.failed, 0U);
    EXPECT_EQ(s.dead_lettered, 0U);
    expect_exact_accounting(s);
}

TEST_F(BatchFailureTest, FailuresAreLoggedWithStageAndReasonOnceThenAsACount) {
    std::mutex mu;
    std::vector<std::pair<LogLevel, std::string>> lines;
    set_log_sink([&](LogLevel level, std::string_view line) {
        std::lock_guard lock(mu);
        lines.emplace_back(level, line);
    });
    TestSource source(1000);
    Scope svc = root();
    Graph g;
    g.add_stage("parse", std::make_unique<LambdaStage>([](Event&, TaskContext&) -> ActionId {
                    throw Error("field 'payload' is not a JSON object");
                }));
    Pipeline p("main", std::move(g), source, {.workers = 2, .batch_size = 16});
    p.run(svc);
    set_log_sink({});
    EXPECT_EQ(p.stats().failed, 1000U);
    ASSERT_EQ(lines.size(), 2U) << "a storm is not a flood";
    EXPECT_EQ(lines[0].first, LogLevel::error);
    EXPECT_EQ(lines[0].second,
              "pipeline 'main': stage 'parse': event failed (error), nacked: no dead-letter stage "
              "took it: stage 'parse': field 'payload' is not a JSON object");
    EXPECT_EQ(lines[1].first, LogLevel::error);
    EXPECT_NE(lines[1].second.find("stage 'parse'"), std::string::npos) << lines[1].second;
    EXPECT_NE(lines[1].second.find(": 999 times since the last such line; last: stage 'parse': "
                                   "field 'payload' is not a JSON object"),
              std::string::npos)
        << lines[1].second;
}

TEST_F(BatchFailureTest, DeadLetteredFailuresAreLoggedAsWarnings) {
    std::mutex mu;
    std::vector<std::pair<LogLevel, std::string>> lines;
    set_log_sink([&](LogLevel level, std::string_view line) {
        std::lock_guard lock(mu);
        lines.emplace_back(level, line);
    });
    TestSource source(50);
    Scope svc = root();
    Graph g;
    g.add_stage("sink",
                std::make_unique<BufferingSink>([](const Event&) { return Verdict::fail; }));
    g.add_stage("dlq", std::make_unique<BufferingSink>());
    g.set_dead_letter("dlq");
    Pipeline p("main", std::move(g), source, {.workers = 1, .batch_size = 10});
    p.run(svc);
    set_log_sink({});
    EXPECT_EQ(p.stats().dead_lettered, 50U);
    ASSERT_EQ(lines.size(), 2U);
    EXPECT_EQ(lines[0].first, LogLevel::warn);
    EXPECT_EQ(lines[0].second,
              "pipeline 'main': stage 'sink': event failed (end of batch), dead-lettered: stage "
              "'sink': write failed");
    EXPECT_NE(lines[1].second.find("49 times"), std::string::npos) << lines[1].second;
}

TEST_F(BatchFailureTest, ACycleHittingTheHopLimitIsLoggedAsSuch) {
    std::mutex mu;
    std::vector<std::pair<LogLevel, std::string>> lines;
    set_log_sink([&](LogLevel level, std::string_view line) {
        std::lock_guard lock(mu);
        lines.emplace_back(level, line);
    });
    TestSource source(10);
    Scope svc = root();
    Graph g;
    g.add_stage("a",
                std::make_unique<LambdaStage>([](Event&, TaskContext&) { return kActionDefault; }));
    g.add_stage("b",
                std::make_unique<LambdaStage>([](Event&, TaskContext&) { return kActionDefault; }));
    g.route("a", "default", "b");
    g.route("b", "default", "a");
    Pipeline p("main", std::move(g), source, {.workers = 1, .batch_size = 10});
    p.run(svc);
    set_log_sink({});
    EXPECT_EQ(p.stats().failed, 10U);
    ASSERT_EQ(lines.size(), 2U);
    EXPECT_EQ(lines[0].first, LogLevel::error);
    EXPECT_NE(lines[0].second.find("event failed (hop limit), nacked: no dead-letter stage took "
                                   "it: hop limit of "),
              std::string::npos)
        << lines[0].second;
    EXPECT_NE(lines[1].second.find(": 9 times since the last such line"), std::string::npos)
        << lines[1].second;
}

}  // namespace
}  // namespace scopeflow
