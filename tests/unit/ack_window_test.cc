// AckWindow: sequences handed out in order, acks in any order, progress over the contiguous
// acked prefix only.
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <scopeflow/sources/ack_window.h>

namespace scopeflow {
namespace {

TEST(AckWindowTest, HandsOutConsecutiveSequencesFromTheFirst) {
    AckWindow<int> w(1);
    EXPECT_EQ(w.next_sequence(), 1U);
    EXPECT_EQ(w.push(10), 1U);
    EXPECT_EQ(w.push(20), 2U);
    EXPECT_EQ(w.size(), 2U);
    EXPECT_EQ(w.next_sequence(), 3U);
}

TEST(AckWindowTest, ProgressMovesOnlyOverTheContiguousAckedPrefix) {
    AckWindow<std::uint64_t> w;
    for (std::uint64_t end : {10U, 20U, 30U, 40U}) {
        (void)w.push(end);
    }
    std::vector<std::uint64_t> done;
    const auto record = [&](std::uint64_t end) { done.push_back(end); };
    EXPECT_TRUE(w.ack(2, record));  // out of order: held until 0 and 1 are acked
    EXPECT_TRUE(done.empty());
    EXPECT_TRUE(w.ack(0, record));
    EXPECT_EQ(done, std::vector<std::uint64_t>{10});
    EXPECT_TRUE(w.ack(1, record));  // releases 1 and the 2 acked before
    EXPECT_EQ(done, (std::vector<std::uint64_t>{10, 20, 30}));
    EXPECT_EQ(w.size(), 1U);
    EXPECT_EQ(w.next_sequence(), 4U);  // sequences keep counting after the window moved
}

TEST(AckWindowTest, ANackHoldsProgressBackForGood) {
    AckWindow<std::string> w(1);
    (void)w.push("a");
    (void)w.push("b");
    (void)w.push("c");
    std::string progress;
    const auto keep = [&](std::string& key) { progress = std::move(key); };
    EXPECT_TRUE(w.nack(2));
    EXPECT_TRUE(w.ack(1, keep));
    EXPECT_TRUE(w.ack(3, keep));
    EXPECT_EQ(progress, "a");  // "b" was nacked: "c" is acked but progress stops before "b"
    EXPECT_EQ(w.size(), 2U);
}

TEST(AckWindowTest, UnknownAndSettledSequencesChangeNothing) {
    AckWindow<int> w(5);
    (void)w.push(1);
    int calls = 0;
    const auto count = [&](int) { ++calls; };
    EXPECT_FALSE(w.ack(4, count));  // before the window
    EXPECT_FALSE(w.ack(6, count));  // never handed out
    EXPECT_FALSE(w.nack(6));
    EXPECT_TRUE(w.ack(5, count));
    EXPECT_FALSE(w.ack(5, count));  // gone already
    EXPECT_FALSE(w.nack(5));
    EXPECT_EQ(calls, 1);
    EXPECT_TRUE(w.empty());
}

TEST(AckWindowTest, BackMovesTheNewestEndOverWhatFollowsIt) {
    AckWindow<std::uint64_t> w;
    (void)w.push(10);
    w.back() = 11;  // a blank line after it: passed once the line is acked
    std::uint64_t progress = 0;
    EXPECT_TRUE(w.ack(0, [&](std::uint64_t end) { progress = end; }));
    EXPECT_EQ(progress, 11U);
}

}  // namespace
}  // namespace scopeflow
