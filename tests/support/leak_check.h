// The leak check every test shares: a private ledger and a quiet monitor per test, and the
// assertion that nothing is live in that ledger once the test's scopes have closed.
//
//   EXPECT_TRUE(testing::nothing_live(iso_.ledger));     // names what is still live
//
//   class MyTest : public testing::LeakCheckedTest {};   // root_ closed and checked in TearDown
//   TEST_F(MyTest, X) { Scope task = root_.child("t"); ... }
#pragma once

#include <string>
#include <utility>

#include <gtest/gtest.h>

#include <scopeflow/core/ledger.h>
#include <scopeflow/core/resource_monitor.h>
#include <scopeflow/core/scope.h>

namespace scopeflow::testing {

// A private ledger and a quiet monitor per test, so tests never see each other's resources.
struct Isolated {
    Ledger ledger;
    ResourceMonitor monitor{ledger, {.log_to_stderr = false}};
};

// Success when `ledger` holds no live entry; otherwise the failure lists each one (kind, name,
// owner, acquisition site), so a leak names its place.
inline ::testing::AssertionResult nothing_live(const Ledger& ledger) {
    if (ledger.live_total() == 0) {
        return ::testing::AssertionSuccess();
    }
    const LedgerSnapshot snap = ledger.snapshot();
    auto failure = ::testing::AssertionFailure();
    failure << snap.live_total() << " resource(s) still live in the ledger:";
    for (const auto& e : snap.entries) {
        failure << "\n  " << to_string(e.kind) << " '" << e.name << "' owned by '" << e.owner_path
                << "' acquired at " << e.site << (e.stuck ? " (stuck)" : "")
                << (e.orphaned ? " (orphaned)" : "");
    }
    return failure;
}

// A fixture whose root scope, on a private ledger, is closed after each test, which then fails
// if anything is still live. Subclasses that hold stages, pools or sources release them in their
// own TearDown before calling this one.
class LeakCheckedTest : public ::testing::Test {
protected:
    explicit LeakCheckedTest(std::string root_name = "test", ScopeOptions options = {})
        : root_(std::move(root_name), with_monitor(options, iso_.monitor)) {}

    void TearDown() override {
        root_.close();
        EXPECT_TRUE(nothing_live(iso_.ledger));
    }

    Isolated iso_;
    Scope root_;

private:
    static ScopeOptions with_monitor(ScopeOptions o, ResourceMonitor& monitor) {
        o.monitor = &monitor;
        return o;
    }
};

}  // namespace scopeflow::testing
