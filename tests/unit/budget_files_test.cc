// FileBudget, OpenFile, BufferedWriter and TempFile: exhaustion and release, flush on close,
// flush errors surfaced (and reported when only the destructor sees them), temp files removed on
// every path, commit by rename, and every file recorded in (and gone from) the ledger.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <gtest/gtest.h>

#include <scopeflow/budget/budget_error.h>
#include <scopeflow/budget/buffered_writer.h>
#include <scopeflow/budget/file_budget.h>
#include <scopeflow/budget/temp_file.h>
#include <scopeflow/core/error.h>
#include <scopeflow/core/scope.h>

#include "support/leak_check.h"
#include "support/probe.h"
#include "support/temp_dir.h"

namespace scopeflow {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::size_t count_files(const fs::path& dir) {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) {
        ++n;
    }
    return n;
}

// Every file, permit and ticket released (the leak check) and no descriptor leaked.
class BudgetFilesTest : public testing::LeakCheckedTest {
protected:
    BudgetFilesTest()
        : LeakCheckedTest("svc") {}
    void SetUp() override { fds_before_ = testing::count_open_fds(); }
    void TearDown() override {
        LeakCheckedTest::TearDown();
        EXPECT_EQ(testing::count_open_fds(), fds_before_) << "no descriptor leaked";
    }

    std::string path(const std::string& name) const { return (dir_ / name).string(); }

    testing::TempDir dir_;
    int fds_before_ = 0;
};

TEST_F(BudgetFilesTest, ExhaustedBudgetTimesOutNamingItThenServesAfterRelease) {
    FileBudget files({.name = "sink-files", .max_open = 2, .acquire_timeout = 50ms});
    OpenFile a = files.open(root_, path("a"), O_WRONLY | O_CREAT);
    OpenFile b = files.open(root_, path("b"), O_WRONLY | O_CREAT);
    EXPECT_EQ(iso_.ledger.live(ResourceKind::file).entries, 2u);
    const auto start = std::chrono::steady_clock::now();
    try {
        OpenFile c = files.open(root_, path("c"), O_WRONLY | O_CREAT);
        FAIL() << "expected BudgetTimeoutError";
    } catch (const BudgetTimeoutError& e) {
        EXPECT_GE(std::chrono::steady_clock::now() - start, 50ms);
        const std::string what = e.what();
        EXPECT_NE(what.find("file budget 'sink-files'"), std::string::npos) << what;
        EXPECT_NE(what.find(path("c")), std::string::npos) << what;
        EXPECT_NE(what.find("2 of 2 open"), std::string::npos) << what;
    }
    EXPECT_FALSE(fs::exists(path("c"))) << "nothing opened without a slot";
    a.close();
    OpenFile c = files.open(root_, path("c"), O_WRONLY | O_CREAT);
    EXPECT_TRUE(c.is_open());
    const FileBudgetStats s = files.stats();
    EXPECT_EQ(s.capacity, 2u);
    EXPECT_EQ(s.open, 2u);
    EXPECT_EQ(s.peak, 2u);
    EXPECT_EQ(s.timeouts, 1u);
    EXPECT_EQ(s.acquired, 3u);
    b.close();
    c.close();
    EXPECT_EQ(files.stats().open, 0u);
    EXPECT_EQ(iso_.ledger.live(ResourceKind::file).entries, 0u);
}

TEST_F(BudgetFilesTest, WaiterGetsTheSlotGivenBack) {
    FileBudget files({.name = "files", .max_open = 1, .acquire_timeout = 10s});
    OpenFile a = files.open(root_, path("a"), O_WRONLY | O_CREAT);
    std::jthread waiter([&] {
        OpenFile b = files.open(root_, path("b"), O_WRONLY | O_CREAT);
        EXPECT_TRUE(b.is_open());
    });
    while (files.stats().waiting == 0) {
        std::this_thread::sleep_for(1ms);
    }
    EXPECT_FALSE(fs::exists(path("b")));
    a.close();
    waiter.join();
    EXPECT_TRUE(fs::exists(path("b")));
    EXPECT_EQ(files.stats().waits, 1u);
    EXPECT_EQ(files.stats().open, 0u);
}

TEST_F(BudgetFilesTest, OpenFailureNamesThePathAndGivesTheSlotBack) {
    FileBudget files({.name = "files", .max_open = 1});
    try {
        OpenFile f = files.open(root_, path("missing/x"), O_RDONLY);
        FAIL() << "expected Error";
    } catch (const TransientError&) {
        FAIL() << "ENOENT is not transient";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(path("missing/x")), std::string::npos) << e.what();
    }
    EXPECT_EQ(files.stats().open, 0u);
    EXPECT_THROW(FileBudget({.name = "none", .max_open = 0}), ConfigError);
}

TEST_F(BudgetFilesTest, FileStillOpenWhenItsScopeEndsIsReportedAsLeak) {
    FileBudget files({.name = "files", .max_open = 4});
    OpenFile escaped;
    {
        Scope task = root_.child("task");
        escaped = files.open(task, path("leaky"), O_WRONLY | O_CREAT);
        task.close();
    }
    ASSERT_EQ(iso_.monitor.count(ReportKind::leak), 1u);
    const Report r = iso_.monitor.recent().back();
    EXPECT_EQ(r.scope_path, "svc/task");
    EXPECT_EQ(r.resource, path("leaky"));
    EXPECT_EQ(r.resource_kind, ResourceKind::file);
    EXPECT_NE(r.site.find("budget_files_test.cc"), std::string::npos) << r.site;
    escaped.close();
    EXPECT_EQ(files.stats().open, 0u);
}

TEST_F(BudgetFilesTest, BufferedWriterWritesOnlyWhenFullOrClosed) {
    FileBudget files({.name = "files", .max_open = 1});
    BufferedWriter w(files.open(root_, path("out"), O_WRONLY | O_CREAT | O_TRUNC),
                     {.buffer_bytes = 8});
    w.append("hello");
    EXPECT_EQ(testing::read_file(path("out")), "") << "still buffered";
    EXPECT_EQ(w.buffered(), 5u);
    w.append("world");  // 10 > 8: the first five go out
    EXPECT_EQ(testing::read_file(path("out")), "hello");
    w.append(std::string(20, 'x'));  // larger than the buffer: straight through
    EXPECT_EQ(testing::read_file(path("out")).size(), 30u);
    w.append("!");
    w.close();
    EXPECT_EQ(testing::read_file(path("out")), "helloworld" + std::string(20, 'x') + "!");
    EXPECT_EQ(w.bytes_written(), 31u);
    EXPECT_EQ(files.stats().open, 0u) << "close gives the slot back";
    w.close();  // idempotent
    EXPECT_THROW(w.append("late"), Error);
}

TEST_F(BudgetFilesTest, FlushErrorIsThrownByCloseAndTheFileStillReleased) {
    FileBudget files({.name = "files", .max_open = 1});
    BufferedWriter w(files.open(root_, "/dev/full", O_WRONLY));
    w.append("data that cannot be written");
    try {
        w.close();
        FAIL() << "expected Error";
    } catch (const Error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("/dev/full"), std::string::npos) << what;
        EXPECT_NE(what.find("No space left on device"), std::string::npos) << what;
        EXPECT_NE(what.find("27 buffered bytes"), std::string::npos) << what;
    }
    EXPECT_TRUE(w.closed());
    EXPECT_EQ(files.stats().open, 0u);
    EXPECT_EQ(iso_.monitor.count(ReportKind::close_error), 0u) << "thrown, so not reported";
}

TEST_F(BudgetFilesTest, FlushErrorSeenOnlyByTheDestructorIsReported) {
    {
        Scope task = root_.child("task");
        BufferedWriter w(OpenFile::open(task, "/dev/full", O_WRONLY));
        w.append("lost bytes");
    }
    ASSERT_EQ(iso_.monitor.count(ReportKind::close_error), 1u);
    const Report r = iso_.monitor.recent().back();
    EXPECT_EQ(r.resource, "/dev/full");
    EXPECT_EQ(r.scope_path, "svc/task");
    EXPECT_NE(r.message.find("No space left on device"), std::string::npos) << r.message;
    EXPECT_NE(r.message.find("10 buffered bytes"), std::string::npos) << r.message;
    EXPECT_EQ(iso_.monitor.count(ReportKind::leak), 0u) << "released before its scope ended";
}

TEST_F(BudgetFilesTest, TempFileRemovedOnCloseAndOnDestruction) {
    {
        TempFile t =
            TempFile::create(root_, {.directory = dir_.path().string(), .prefix = "part-"});
        t.append("partial");
        EXPECT_EQ(count_files(dir_.path()), 1u);
        EXPECT_EQ(fs::path(t.path()).filename().string().rfind("part-", 0), 0u) << t.path();
        t.close();
        EXPECT_EQ(count_files(dir_.path()), 0u);
        t.close();  // idempotent
    }
    {
        TempFile t = TempFile::create(root_, {.directory = dir_.path().string()});
        t.append("partial");
        EXPECT_EQ(count_files(dir_.path()), 1u);
    }
    EXPECT_EQ(count_files(dir_.path()), 0u);
    EXPECT_EQ(iso_.ledger.live(ResourceKind::file).entries, 0u);
}

TEST_F(BudgetFilesTest, TempFileRemovedWhenItsScopeFails) {
    // Adopted by the scope: released by the scope's close after the failure.
    EXPECT_THROW(root_.child("task").run([&](Scope& task) {
        TempFile& t = task.adopt({"tmp", ResourceKind::file},
                                 TempFile::create(task, {.directory = dir_.path().string()}));
        t.append("half a batch");
        EXPECT_EQ(count_files(dir_.path()), 1u);
        throw std::runtime_error("stage failed");
    }),
                 std::runtime_error);
    EXPECT_EQ(count_files(dir_.path()), 0u);
    // A local of the failing body: removed while unwinding.
    EXPECT_THROW(root_.child("task").run([&](Scope& task) {
        TempFile t = TempFile::create(task, {.directory = dir_.path().string()});
        t.append("half a batch");
        throw std::runtime_error("stage failed");
    }),
                 std::runtime_error);
    EXPECT_EQ(count_files(dir_.path()), 0u);
    EXPECT_EQ(iso_.monitor.count(ReportKind::leak), 0u);
}

TEST_F(BudgetFilesTest, CommitRenamesAndTheFileIsNoLongerTemporary) {
    FileBudget files({.name = "files", .max_open = 1, .acquire_timeout = 0ms});
    const std::string final_path = path("batch-1.json");
    {
        TempFile t = TempFile::create(root_, {.directory = dir_.path().string(), .budget = &files});
        EXPECT_EQ(files.stats().open, 1u);
        EXPECT_THROW(TempFile::create(root_, {.directory = dir_.path().string(), .budget = &files}),
                     BudgetTimeoutError);
        t.append("{\"n\": 1}");
        t.commit(final_path);
        EXPECT_TRUE(t.committed());
        EXPECT_EQ(t.path(), final_path);
        EXPECT_EQ(files.stats().open, 0u) << "committing closes the file";
        EXPECT_THROW(t.commit(path("again")), Error);
    }
    EXPECT_EQ(count_files(dir_.path()), 1u);
    EXPECT_EQ(testing::read_file(final_path), "{\"n\": 1}");
}

TEST_F(BudgetFilesTest, FailedCommitLeavesItTemporaryAndRemovesItLater) {
    std::string temp_path;
    {
        TempFile t = TempFile::create(root_, {.directory = dir_.path().string()});
        temp_path = t.path();
        t.append("x");
        EXPECT_THROW(t.commit(path("no/such/dir/final")), Error);
        EXPECT_FALSE(t.committed());
        EXPECT_TRUE(fs::exists(temp_path));
    }
    EXPECT_FALSE(fs::exists(temp_path));
    EXPECT_EQ(count_files(dir_.path()), 0u);
}

TEST_F(BudgetFilesTest, CreateInAMissingDirectoryNamesIt) {
    try {
        TempFile t = TempFile::create(root_, {.directory = path("nope")});
        FAIL() << "expected Error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(path("nope")), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace scopeflow
