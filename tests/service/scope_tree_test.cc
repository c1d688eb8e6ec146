// ScopeTree: scope paths folded back into the tree the service's reports show.
#include "service/scope_tree.h"

#include <gtest/gtest.h>

namespace scopeflow::service {
namespace {

TEST(ScopeTreeTest, LeavesAndScopesKeepTheOrderTheyWereFirstAddedIn) {
    ScopeTree t;
    t.add("service/gen-1", "pipeline");
    t.add("service/gen-1", "source");
    t.add("service", "monitor");
    t.add("service/gen-2", "pipeline");
    t.add("service", "logging");
    EXPECT_EQ(t.text(),
              "service { gen-1 { pipeline, source }, monitor, gen-2 { pipeline }, logging }");
}

TEST(ScopeTreeTest, SeveralRootsAndEntriesWithoutAnOwnerAreShownToo) {
    ScopeTree t;
    EXPECT_TRUE(t.empty());
    t.add("service", "admin endpoint");
    t.add("", "lease db");
    t.add("readyz", "probe");
    EXPECT_FALSE(t.empty());
    EXPECT_EQ(t.text(), "service { admin endpoint }; (no scope) { lease db }; readyz { probe }");
}

TEST(ScopeTreeTest, JsonNestsScopesWithTheirLiveCountsPerKind) {
    ScopeTree t;
    t.count("service/gen-1/main/worker-0", "connection", 2);
    t.count("service", "other", 3);
    t.count("service/gen-1/main/worker-0", "connection", 1);
    t.count("service/gen-1", "file", 1);
    EXPECT_EQ(t.json(),
              "[{\"scope\":\"service\",\"path\":\"service\",\"live\":{\"other\":3},\"children\":["
              "{\"scope\":\"gen-1\",\"path\":\"service/gen-1\",\"live\":{\"file\":1},"
              "\"children\":["
              "{\"scope\":\"main\",\"path\":\"service/gen-1/main\",\"live\":{},\"children\":["
              "{\"scope\":\"worker-0\",\"path\":\"service/gen-1/main/worker-0\","
              "\"live\":{\"connection\":3},\"children\":[]}]}]}]}]");
}

TEST(ScopeTreeTest, NamesAreEscapedInJson) {
    ScopeTree t;
    t.count("a\"b", "other", 1);
    EXPECT_EQ(
        t.json(),
        "[{\"scope\":\"a\\\"b\",\"path\":\"a\\\"b\",\"live\":{\"other\":1},\"children\":[]}]");
}

}  // namespace
}  // namespace scopeflow::service
