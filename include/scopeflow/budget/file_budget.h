// FileBudget: an open-file budget, the most files a pipeline may hold open at once.
//
//   scopeflow::FileBudget files({.name = "files", .max_open = 64});
//   scopeflow::OpenFile f = files.open(stage_scope, path, O_WRONLY | O_CREAT | O_APPEND);
//   scopeflow::BufferedWriter out(std::move(f));        // counted until closed
//   scopeflow::FileBudgetStats s = files.stats();       // open, peak, waits, timeouts
//
// Behaviour:
// - open() takes a slot, then opens the file; when every slot is taken it waits in arrival order
//   up to the timeout (options.acquire_timeout unless given; 0: fail at once) and throws
//   BudgetTimeoutError naming the budget, the file and the usage. It throws CancelledError when
//   the owner scope is stopped and ScopeClosedError when it is closing. An open(2) failure throws
//   Error naming the path (TransientError for EMFILE/ENFILE) and gives the slot back.
// - Each file is recorded in the owner scope's ledger (kind file, named by its path); a file
//   still open when its owner scope ends is reported as a leak.
// - The budget counts files opened through it (or reserve()d); it does not police descriptors
//   opened elsewhere. Keep max_open well under RLIMIT_NOFILE.
//
// Thread safety: every member may be called concurrently. Permits and files keep the budget's
// state alive, so they may outlive the FileBudget object.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <source_location>
#include <string>
#include <string_view>

#include <scopeflow/budget/file_permit.h>
#include <scopeflow/budget/open_file.h>

namespace scopeflow {

class Scope;

// Used with designated initializers: {.name = "files", .max_open = 64}.
struct FileBudgetOptions {
    std::string name = "files";                        // shown in errors, stats and reports
    std::size_t max_open = 256;                        // files open at once at most (>= 1)
    std::chrono::milliseconds acquire_timeout{5'000};  // open() waits this long; 0: no wait
};

struct FileBudgetStats {
    std::string name;
    std::size_t capacity = 0;    // max_open
    std::size_t open = 0;        // slots held now
    std::size_t peak = 0;        // most slots held at once
    std::size_t waiting = 0;     // open()/reserve() calls queued now
    std::uint64_t acquired = 0;  // slots granted
    std::uint64_t waits = 0;     // requests that had to queue
    std::uint64_t timeouts = 0;
    std::uint64_t cancelled = 0;
};

class FileBudget {
public:
    // Throws ConfigError("file_budget.<name>.max_open") when max_open is 0.
    explicit FileBudget(FileBudgetOptions options);
    FileBudget(const FileBudget&) = delete;
    FileBudget& operator=(const FileBudget&) = delete;
    ~FileBudget();

    // A slot, recorded in `owner`'s ledger as a file named `what`.
    FilePermit reserve(Scope& owner,
                       std::string_view what,
                       std::source_location site = std::source_location::current());
    FilePermit reserve(Scope& owner,
                       std::string_view what,
                       std::chrono::milliseconds timeout,
                       std::source_location site = std::source_location::current());

    // A slot, then open(2) with O_CLOEXEC.
    OpenFile open(Scope& owner,
                  const std::string& path,
                  int flags,
                  unsigned mode = 0644,
                  std::source_location site = std::source_location::current());
    OpenFile open(Scope& owner,
                  const std::string& path,
                  int flags,
                  unsigned mode,
                  std::chrono::milliseconds timeout,
                  std::source_location site = std::source_location::current());

    [[nodiscard]] const std::string& name() const noexcept;
    [[nodiscard]] FileBudgetStats stats() const;

private:
    std::shared_ptr<detail::BudgetState> state_;
};

}  // namespace scopeflow
