// The core's file helpers (atomic replace, publish by rename, directory listing) and the error
// root: every failure of a file operation surfaces as a scopeflow::SystemError.
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <scopeflow/core/error.h>
#include <scopeflow/core/files.h>
#include <scopeflow/core/unique_fd.h>

#include "support/temp_dir.h"

namespace scopeflow {
namespace {

namespace fs = std::filesystem;

class FilesTest : public ::testing::Test {
protected:
    [[nodiscard]] std::string path(const std::string& name) const { return (dir_ / name).string(); }
    static std::string read(const std::string& p) {
        std::ifstream in(p);
        std::ostringstream text;
        text << in.rdbuf();
        return text.str();
    }

    testing::TempDir dir_;
};

TEST_F(FilesTest, WriteFileAtomicallyReplacesTheContentAndLeavesNoTemporary) {
    write_file_atomically(path("offset"), "1\n");
    write_file_atomically(path("offset"), "4096\n");
    EXPECT_EQ(read(path("offset")), "4096\n");
    EXPECT_EQ(list_files(dir_.path().string()), std::vector<std::string>{"offset"});
}

TEST_F(FilesTest, AFailedWriteLeavesTheOldContentAndNoTemporary) {
    write_file_atomically(path("offset"), "1\n");
    // The temporary name is taken by a directory: the open fails before anything changes.
    fs::create_directory(path("offset.tmp"));
    try {
        write_file_atomically(path("offset"), "2\n");
        FAIL() << "expected a SystemError";
    } catch (const SystemError& e) {
        EXPECT_EQ(e.code().value(), EISDIR);
        EXPECT_NE(std::string(e.what()).find("offset.tmp"), std::string::npos) << e.what();
    }
    EXPECT_EQ(read(path("offset")), "1\n");
}

TEST_F(FilesTest, PublishFileRenamesAndClosesTheFile) {
    UniqueFd part = UniqueFd::open(path("p-0.jsonl.tmp"), O_WRONLY | O_CREAT | O_EXCL);
    part.write_all("{\"id\":1}\n", "write p-0");
    publish_file(part, path("p-0.jsonl.tmp"), path("p-0.jsonl"), true);
    EXPECT_FALSE(part.valid());
    EXPECT_EQ(read(path("p-0.jsonl")), "{\"id\":1}\n");
    EXPECT_EQ(list_files(dir_.path().string()), std::vector<std::string>{"p-0.jsonl"});
}

TEST_F(FilesTest, PublishIntoAMissingDirectoryFailsBeforeAnythingChanges) {
    UniqueFd part = UniqueFd::open(path("p-0.jsonl.tmp"), O_WRONLY | O_CREAT | O_EXCL);
    EXPECT_THROW(publish_file(part, path("p-0.jsonl.tmp"), path("missing/p-0.jsonl"), true),
                 SystemError);
    EXPECT_TRUE(part.valid());  // the caller may try again
    EXPECT_TRUE(fs::exists(path("p-0.jsonl.tmp")));
    // Not durable: no directory to open first, so the rename itself fails, after the close.
    EXPECT_THROW(publish_file(part, path("p-0.jsonl.tmp"), path("missing/p-0.jsonl"), false),
                 SystemError);
    EXPECT_TRUE(fs::exists(path("p-0.jsonl.tmp")));
}

TEST_F(FilesTest, ListFilesSortsRegularFilesAndSkipsDirectories) {
    std::ofstream(path("b"));
    std::ofstream(path("a"));
    fs::create_directory(path("c"));
    EXPECT_EQ(list_files(dir_.path().string()), (std::vector<std::string>{"a", "b"}));
}

TEST(FilesErrorRoot, FailingFileOperationsSurfaceAsScopeflowErrors) {
    // Open of a missing file.
    EXPECT_THROW((void)UniqueFd::open("/nonexistent/dir/file", O_RDONLY), Error);
    try {
        (void)UniqueFd::open("/nonexistent/dir/file", O_RDONLY);
    } catch (const SystemError& e) {
        EXPECT_EQ(e.code().value(), ENOENT);
        EXPECT_STREQ(e.what(), "open '/nonexistent/dir/file': No such file or directory");
    }
    // A write the device refuses.
    const UniqueFd full = UniqueFd::open("/dev/full", O_WRONLY);
    try {
        full.write_all("x", "write /dev/full");
        FAIL() << "expected a SystemError";
    } catch (const Error& e) {
        const auto* sys = dynamic_cast<const SystemError*>(&e);
        ASSERT_NE(sys, nullptr);
        EXPECT_EQ(sys->code().value(), ENOSPC);
    }
    // A directory that cannot be listed.
    EXPECT_THROW((void)list_files("/nonexistent/dir"), SystemError);
    EXPECT_THROW(write_file_atomically("/nonexistent/dir/offset", "1\n"), Error);
}

TEST(FilesErrorRoot, ErrnoTextIsTheSystemMessage) {
    EXPECT_EQ(errno_text(ENOSPC), "No space left on device");
    EXPECT_EQ(directory_of("out/a.jsonl"), "out");
    EXPECT_EQ(directory_of("a.jsonl"), ".");
    EXPECT_EQ(directory_of("/a.jsonl"), "/");
}

}  // namespace
}  // namespace scopeflow
