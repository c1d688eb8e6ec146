// OpenFile: an open file descriptor with its path, its owner scope and (optionally) its slot in a
// FileBudget. The file half of BufferedWriter and TempFile.
//
//   scopeflow::OpenFile f = files.open(stage_scope, "/data/out.jsonl", O_WRONLY | O_CREAT);
//   write(f.fd(), ...);
//   f.close();                    // throws Error naming the path if close(2) fails
//
// Behaviour: close() closes the descriptor (O_CLOEXEC always), gives its budget slot back and
// ends its ledger record, even when close(2) fails; it is idempotent. The destructor closes
// quietly. The owner scope's monitor is remembered for reports made when the file is released
// outside any call (BufferedWriter's destructor); it must outlive the file.
//
// Thread safety: a move-only value for one thread at a time.
#pragma once

#include <source_location>
#include <string>

#include <scopeflow/budget/file_permit.h>
#include <scopeflow/core/unique_fd.h>

namespace scopeflow {

class Scope;
class ResourceMonitor;

class OpenFile {
public:
    OpenFile() noexcept = default;
    // A descriptor opened under `permit` (from FileBudget::reserve or FilePermit::unbudgeted).
    OpenFile(UniqueFd fd, std::string path, FilePermit permit, Scope& owner);
    // A descriptor tracked nowhere: no ledger record, no budget; reports go to the global monitor.
    OpenFile(UniqueFd fd, std::string path) noexcept;

    OpenFile(OpenFile&&) noexcept = default;
    OpenFile& operator=(OpenFile&& other) noexcept;  // closes the file it held first, quietly
    OpenFile(const OpenFile&) = delete;
    OpenFile& operator=(const OpenFile&) = delete;
    ~OpenFile();

    // open(2) with O_CLOEXEC, recorded in `owner`'s ledger as a file, counted against no budget.
    // Throws Error naming the path (TransientError for EMFILE/ENFILE).
    static OpenFile open(Scope& owner,
                         const std::string& path,
                         int flags,
                         unsigned mode = 0644,
                         std::source_location site = std::source_location::current());

    // Closes, gives the slot back, ends the record; throws Error if close(2) failed. Idempotent.
    void close();

    [[nodiscard]] int fd() const noexcept { return fd_.get(); }
    [[nodiscard]] bool is_open() const noexcept { return fd_.valid(); }
    explicit operator bool() const noexcept { return is_open(); }
    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    [[nodiscard]] const std::string& owner_path() const noexcept { return owner_path_; }
    // The owner scope's monitor (the global one for untracked files).
    [[nodiscard]] ResourceMonitor& monitor() const noexcept;

private:
    UniqueFd fd_;
    std::string path_;
    FilePermit permit_;
    std::string owner_path_;
    ResourceMonitor* monitor_ = nullptr;
};

}  // namespace scopeflow
