// CloseJob: one close() of a scope subtree, possibly handed between worker threads.
//
// Unwatched (no deadline): the closing thread is the only worker; steps are not tracked.
// Watched (close_timeout set): a helper thread runs the steps while the caller watches the
// current one. When a step overruns, the caller reports it stuck, bumps the generation (which
// abandons the helper: it stops as soon as its step returns) and starts a new helper that goes
// on from the next cleanup. Entries are popped under each node's lock, so two workers never
// run the same cleanup.
//
// Nesting: a cleanup may itself call close() (of its own scope, of an ancestor). That close is a
// new job started from inside this one; it records the jobs it runs within (`enclosing`) so it
// never waits for a scope one of them holds: the enclosing close is blocked on it and would
// never finish. Job pointers are compared for identity only; an enclosing job outlives every
// close started from inside one of its cleanups (that cleanup waits for it).
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <scopeflow/core/error.h>
#include <scopeflow/core/ledger.h>
#include <scopeflow/core/resource_kind.h>

namespace scopeflow::detail {

struct CloseJob {
    // What the current step is releasing; read by the watcher when it overruns.
    struct Step {
        std::string scope_path;
        std::string resource;
        std::string site;
        ResourceKind kind = ResourceKind::other;
        LedgerId ledger_id;
        std::chrono::steady_clock::time_point started;
    };

    // Shared between the watching caller and its helper threads; only watched jobs have one, so
    // an inline close (the hot path for task scopes) builds no mutex or condition variable.
    struct Watch {
        std::mutex mu;
        std::condition_variable cv;
        std::uint64_t generation = 0;  // guarded by mu
        std::uint64_t step_seq = 0;    // guarded by mu; bumped at every step start
        bool step_active = false;      // guarded by mu
        Step step;                     // guarded by mu
        bool done = false;             // guarded by mu
    };

    explicit CloseJob(bool is_watched)
        : watched(is_watched),
          watch(is_watched ? std::make_unique<Watch>() : nullptr) {}

    const bool watched;
    const std::unique_ptr<Watch> watch;
    std::vector<CleanupFailure> failures;  // guarded by watch->mu when watched
    // The closes this one was started from inside, outermost first; empty (no allocation) for
    // the usual close that is not nested in a cleanup.
    std::vector<const CloseJob*> enclosing;

    // Records that this job runs inside `outer`'s cleanup (null: not nested).
    void nest_in(const CloseJob* outer) {
        if (outer != nullptr) {
            enclosing = outer->enclosing;
            enclosing.push_back(outer);
        }
    }

    // True when `other` is this job or one it was started from inside: a scope `other` is
    // closing must not be waited for.
    [[nodiscard]] bool within(const CloseJob* other) const noexcept {
        return other == this || (other != nullptr && std::find(enclosing.begin(), enclosing.end(),
                                                               other) != enclosing.end());
    }

    void add_failure(CleanupFailure f) {
        if (watched) {
            std::lock_guard lock(watch->mu);
            failures.push_back(std::move(f));
        } else {
            failures.push_back(std::move(f));
        }
    }
};

// A worker's view of the job: abandoned once the job's generation moves past its own.
struct CloseWorker {
    CloseJob* job;
    std::uint64_t generation;

    [[nodiscard]] bool abandoned() const {
        if (!job->watched) {
            return false;
        }
        std::lock_guard lock(job->watch->mu);
        return job->watch->generation != generation;
    }
};

}  // namespace scopeflow::detail
