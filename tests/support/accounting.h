// exact_accounting(): after a run, every event the TestSource gave is accounted for exactly once;
// run_accounted(): a run a fault may fail, checked the same way.
//
//   EXPECT_TRUE(testing::exact_accounting(p.stats(), source));
//   testing::run_accounted(p, svc, source, 20);   // inside FaultInjector::record(...)
#pragma once

#include <cstdint>

#include <gtest/gtest.h>

#include <scopeflow/core/error.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/engine/pipeline.h>

#include "support/test_source.h"

namespace scopeflow::testing {

// Each branch that was read ended one way (completed, dead-lettered, dropped, failed or
// interrupted), each source event was acked or nacked, and none was settled twice.
inline ::testing::AssertionResult exact_accounting(const PipelineStats& s,
                                                   const TestSource& source) {
    const auto ended = s.completed + s.dead_lettered + s.dropped + s.failed + s.interrupted;
    if (ended != s.read) {
        return ::testing::AssertionFailure()
               << "read " << s.read << " but completed " << s.completed << " + dead-lettered "
               << s.dead_lettered << " + dropped " << s.dropped << " + failed " << s.failed
               << " + interrupted " << s.interrupted << " = " << ended;
    }
    if (source.acked() + source.nacked() != s.read) {
        return ::testing::AssertionFailure()
               << "read " << s.read << " but the source saw " << source.acked() << " acks and "
               << source.nacked() << " nacks";
    }
    if (source.settled_twice() != 0) {
        return ::testing::AssertionFailure()
               << source.settled_twice() << " events were settled more than once";
    }
    return ::testing::AssertionSuccess();
}

// Runs `p` in `scope`; an Error from an injected open/finish/close fault fails the run and is
// expected (the caller checks the ledger). Then checks exact_accounting, and that once anything
// was read, all `total` events were: a running pipeline loses nothing.
inline void run_accounted(Pipeline& p,
                          Scope& scope,
                          const TestSource& source,
                          std::uint64_t total) {
    try {
        p.run(scope);
    } catch (const Error&) {  // NOLINT(bugprone-empty-catch): see above
    }
    const PipelineStats s = p.stats();
    EXPECT_TRUE(exact_accounting(s, source));
    if (s.read > 0) {
        EXPECT_EQ(s.read, total);
    }
}

}  // namespace scopeflow::testing
