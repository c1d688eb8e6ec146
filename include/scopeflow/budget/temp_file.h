// TempFile: a file that is temporary until committed, and removed on every other path.
//
//   scopeflow::TempFile tmp = scopeflow::TempFile::create(task_scope, {.directory = out_dir});
//   tmp.append(payload);            // buffered (a BufferedWriter over the mkstemp descriptor)
//   tmp.commit(out_dir + "/batch-17.json");   // flush, fsync, close, rename, fsync the directory
//
// Behaviour:
// - create() makes "<directory>/<prefix>XXXXXX" with mkostemp (O_CLOEXEC), optionally counted
//   against a FileBudget, and records it in the owner scope's ledger as a file.
// - Until commit() succeeds the file is removed by close(), by the destructor, and so by the
//   owner scope's close when the TempFile is adopted there or unwinds with a failing body.
// - commit(final_path) makes it permanent atomically: a reader of final_path sees either nothing
//   (or the previous file) or the whole content. After commit the TempFile no longer removes it.
//   A failed commit throws Error naming both paths and leaves the file temporary (removed later).
//
// Thread safety: none; a move-only value for one thread at a time.
#pragma once

#include <source_location>
#include <string>
#include <string_view>

#include <scopeflow/budget/buffered_writer.h>

namespace scopeflow {

class Scope;
class FileBudget;

// Used with designated initializers: {.directory = "/var/spool/out", .prefix = "batch-"}.
struct TempFileOptions {
    std::string directory{};            // where the file is created; empty: $TMPDIR or /tmp
    std::string prefix = "scopeflow-";  // file name: <prefix>XXXXXX
    FileBudget* budget = nullptr;       // count the open file against this budget
    BufferedWriterOptions writer{};     // buffering of append()
    // commit() fsyncs the file and its directory, so a committed file survives power loss.
    // false: rename only (still atomic for readers, not durable): for scratch output.
    bool durable = true;
};

class TempFile {
public:
    // Throws Error naming the directory when the file cannot be created.
    static TempFile create(Scope& owner,
                           TempFileOptions options = {},
                           std::source_location site = std::source_location::current());

    TempFile(TempFile&& other) noexcept;
    TempFile& operator=(TempFile&&) = delete;
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    ~TempFile();  // close() without throwing; failures go to the owner's monitor

    void append(std::string_view data) { writer_.append(data); }
    [[nodiscard]] BufferedWriter& writer() noexcept { return writer_; }

    // Flushes, fsyncs, closes and renames the file to `final_path`, then fsyncs its directory.
    void commit(const std::string& final_path);
    // Uncommitted: drops buffered bytes, closes and removes the file. Committed: nothing.
    // Throws Error if the file cannot be removed. Idempotent.
    void close();

    // The temporary path, or the final one once committed.
    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    [[nodiscard]] bool committed() const noexcept { return committed_; }

private:
    TempFile(BufferedWriter writer, std::string path) noexcept;

    BufferedWriter writer_;
    std::string path_;
    bool committed_ = false;
    bool removed_ = false;
    bool durable_ = true;
};

}  // namespace scopeflow
