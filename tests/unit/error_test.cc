#include <stdexcept>

#include <gtest/gtest.h>

#include <scopeflow/core/error.h>

namespace scopeflow {
namespace {

TEST(ErrorTest, LeavesAreCaughtByWhatTheCallerDoesNext) {
    EXPECT_THROW(throw InjectedFault("x"), TransientError);
    EXPECT_THROW(throw BatchError("x"), Error);
    EXPECT_THROW(throw ScopeClosedError("x"), Error);
    EXPECT_THROW(throw StuckError("x"), Error);
}

TEST(ErrorTest, ConfigErrorNamesThePlace) {
    const ConfigError e("pipeline.yaml:12: graph.stages[2].type", "unknown stage type 'fitler'");
    EXPECT_EQ(e.where(), "pipeline.yaml:12: graph.stages[2].type");
    EXPECT_STREQ(e.what(), "pipeline.yaml:12: graph.stages[2].type: unknown stage type 'fitler'");
}

TEST(ErrorTest, SuppressedErrorsSurviveRethrowAndAreDescribedInOrder) {
    try {
        try {
            throw Error("primary");
        } catch (Error& e) {
            e.add_suppressed(std::make_exception_ptr(std::runtime_error("second")));
            e.add_suppressed(std::make_exception_ptr(std::runtime_error("third")));
            throw;
        }
    } catch (const Error& e) {
        ASSERT_EQ(e.suppressed().size(), 2U);
        EXPECT_EQ(describe(std::current_exception()),
                  "primary\n  suppressed: second\n  suppressed: third");
    }
}

TEST(ErrorTest, CloseErrorLeadsWithThePrimaryAndAttachesTheRest) {
    CloseError e({{.scope_path = "svc/a",
                   .resource = "db",
                   .site = "x.cc:1",
                   .error = std::make_exception_ptr(std::runtime_error("boom"))},
                  {.scope_path = "svc/a",
                   .resource = "file",
                   .error = std::make_exception_ptr(std::runtime_error("eio"))}});
    EXPECT_STREQ(e.what(), "svc/a: release of 'db' (acquired at x.cc:1) failed: boom (+1 more)");
    ASSERT_EQ(e.suppressed().size(), 1U);
    EXPECT_EQ(message_of(e.suppressed()[0]), "svc/a: release of 'file' failed: eio");
}

TEST(ErrorTest, MessageOfHandlesForeignAndEmptyExceptions) {
    EXPECT_EQ(message_of(nullptr), "<no error>");
    EXPECT_EQ(message_of(std::make_exception_ptr(42)), "<non-standard exception>");
}

}  // namespace
}  // namespace scopeflow
