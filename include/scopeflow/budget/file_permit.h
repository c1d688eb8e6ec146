// FilePermit: one slot of a FileBudget (an open file the process may hold), recorded in the owner
// scope's ledger as a file.
//
//   scopeflow::FilePermit slot = files.reserve(stage_scope, "orders.sqlite");  // waits if full
//   open_the_file_yourself();          // e.g. a library that opens its own descriptor
//   ...
//   slot.release();                    // after the file is closed
//
// FileBudget::open() returns an OpenFile that carries its permit; reserve() is for files opened
// by code that does not hand its descriptor over. FilePermit::unbudgeted() records a file in the
// ledger without counting it against any budget.
//
// A permit still held when its owner scope ends is reported as a leak, naming the owner and the
// acquisition site. Thread safety: a move-only value for one thread at a time; it may be released
// on any thread. It keeps its budget's state alive.
#pragma once

#include <memory>
#include <source_location>
#include <string_view>

#include <scopeflow/core/ticket.h>

namespace scopeflow {

class Scope;

namespace detail {
struct BudgetState;
}  // namespace detail

class [[nodiscard]] FilePermit {
public:
    FilePermit() noexcept = default;
    FilePermit(FilePermit&&) noexcept = default;
    FilePermit& operator=(FilePermit&& other) noexcept;
    FilePermit(const FilePermit&) = delete;
    FilePermit& operator=(const FilePermit&) = delete;
    ~FilePermit() { release(); }

    // A ledger record (kind file, named `what`) in `owner`, counted against no budget.
    static FilePermit unbudgeted(Scope& owner,
                                 std::string_view what,
                                 std::source_location site = std::source_location::current());

    // Gives the slot back and ends the ledger record. Idempotent.
    void release() noexcept;
    // True while it holds a budget slot (false for unbudgeted and released permits).
    [[nodiscard]] bool budgeted() const noexcept { return state_ != nullptr; }

private:
    friend class FileBudget;
    std::shared_ptr<detail::BudgetState> state_;
    Ticket ticket_;
};

}  // namespace scopeflow
