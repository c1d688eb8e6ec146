// WorkScope: a unit of work that rolls back unless committed.
//
// Shaped like a database transaction (libpqxx transaction_base): commit() is explicit; a
// WorkScope destroyed without commit() rolls back. Use it for batches and acks: commit acks the
// batch, anything else (an exception, an early return, a forgotten commit) nacks it.
//
//   scopeflow::WorkScope batch{"batch 42",
//       /*on_commit=*/[&] { source.ack(ids); },
//       /*on_rollback=*/[&] { source.nack(ids); }};
//   for (auto& e : events) sink.write(e);   // a throw here nacks
//   batch.commit();                           // if ack throws, the batch is rolled back, rethrown
//
// The destructor never throws: a rollback that fails there is reported to the monitor given
// (or the global one). commit() and rollback() may throw.
// Thread safety: none; a WorkScope belongs to one thread.
#pragma once

#include <string>

#include <scopeflow/core/unique_function.h>

namespace scopeflow {

class ResourceMonitor;

class [[nodiscard]] WorkScope {
public:
    enum class State : unsigned char { open, committed, rolled_back };

    WorkScope(std::string name,
              UniqueFunction<void()> on_commit,
              UniqueFunction<void()> on_rollback,
              ResourceMonitor* monitor = nullptr);
    WorkScope(const WorkScope&) = delete;
    WorkScope& operator=(const WorkScope&) = delete;
    ~WorkScope();

    // Runs on_commit. If it throws, the work is rolled back (its failure attached to the
    // commit error when that is a scopeflow::Error) and the commit error propagates.
    void commit();

    // Runs on_rollback now. Idempotent; a no-op after commit.
    void rollback();

    [[nodiscard]] State state() const noexcept { return state_; }
    [[nodiscard]] const std::string& name() const noexcept { return name_; }

private:
    std::string name_;
    UniqueFunction<void()> on_commit_;
    UniqueFunction<void()> on_rollback_;
    ResourceMonitor* monitor_;
    State state_ = State::open;
};

}  // namespace scopeflow
