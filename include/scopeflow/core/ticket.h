// Ticket: a ledger record for a resource held outside any scope's release list.
//
// Pools hand out leases, connectors hand out handles that travel between threads: the scope that
// asked for them records them with Scope::track() and gets a Ticket. Releasing the ticket (or
// destroying it) ends the record. If the owning scope ends first, the ledger reports the entry as
// leaked, naming the owner and the acquisition site: "a lease never returned".
//
//   scopeflow::Ticket t = scope.track({"lease orders-db", ResourceKind::connection});
//   ...
//   t.release();
//
// Thread safety: a Ticket is a move-only value; use one from one thread at a time. Releasing it
// from a thread other than the acquiring one is fine.
#pragma once

#include <utility>

#include <scopeflow/core/ledger.h>

namespace scopeflow {

class [[nodiscard]] Ticket {
public:
    Ticket() noexcept = default;
    Ticket(Ledger* ledger, LedgerId id) noexcept
        : ledger_(ledger),
          id_(id) {}

    Ticket(Ticket&& other) noexcept
        : ledger_(std::exchange(other.ledger_, nullptr)),
          id_(std::exchange(other.id_, LedgerId{})) {}

    Ticket& operator=(Ticket&& other) noexcept {
        if (this != &other) {
            release();
            ledger_ = std::exchange(other.ledger_, nullptr);
            id_ = std::exchange(other.id_, LedgerId{});
        }
        return *this;
    }

    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;

    ~Ticket() { release(); }

    // Ends the record. Idempotent.
    void release() noexcept {
        if (ledger_ != nullptr) {
            ledger_->release(id_);
            ledger_ = nullptr;
            id_ = LedgerId{};
        }
    }

    // True while the record is live (false for an untracked scope's tickets).
    [[nodiscard]] bool active() const noexcept { return ledger_ != nullptr; }
    [[nodiscard]] LedgerId id() const noexcept { return id_; }

private:
    Ledger* ledger_ = nullptr;
    LedgerId id_;
};

}  // namespace scopeflow
