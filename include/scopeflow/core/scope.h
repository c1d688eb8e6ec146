// Scope: a named owner of resources, released in reverse order on every path.
//
// Scopes form a tree (service > pipeline > stage > worker > task); a scope's path, such as
// "service/pipeline/enrich/worker-1", names every resource it owns in the ledger and in reports.
//
//   scopeflow::Scope service{"service", {.level = ScopeLevel::service, .close_timeout = 10s}};
//   scopeflow::Scope stage = service.child("enrich", {.level = ScopeLevel::stage});
//   UniqueFd& log = stage.adopt({"events.log", ResourceKind::file}, UniqueFd::open(path, flags));
//   stage.defer({"flush metrics"}, [&] { metrics.flush(); });
//   ...
//   stage.close();    // releases "flush metrics", then "events.log"; throws CloseError on failure
//
// Guarantees (docs/lifecycle.md has the full list and the limits):
// - close() closes open children first (newest first), then releases this scope's resources in
//   reverse order of acquisition. Releasing = the resource's close() if it has one, then its
//   destructor. close() is idempotent.
// - Every cleanup runs even when earlier ones throw. close() throws one CloseError whose primary
//   failure is the first, with the others attached. The destructor closes without throwing and
//   reports failures to the monitor.
// - run(body) closes the scope after body; if body throws, its exception propagates unchanged
//   and cleanup failures are attached to it (scopeflow::Error) or reported (other types).
// - With close_timeout set, a cleanup that runs longer is reported stuck (path, resource,
//   duration), abandoned on its thread, and the close goes on with the rest.
// - Each scope has a stop token, stopped by request_stop() or close() of it or any ancestor.
// - A close() nested in a close in progress (called from one of its cleanups: a deferred cleanup
//   closing its own scope, a child's cleanup closing an ancestor, an adopted resource whose
//   close() closes its owner) does not wait for what the outer close holds, with or without a
//   deadline: for a scope the outer close holds it is a no-op (as Python's ExitStack); closing an
//   ancestor closes the ancestor's other children and resources and skips the scope under way.
//   The outer close goes on and finishes.
//
// Thread safety: adopt/defer/open/track/child/close/request_stop/stop_token may be called from
// several threads at once on the same scope. Each adopt either completes before the close takes
// it (and is released by that close, in the order adopts completed) or throws ScopeClosedError
// after releasing the offered resource itself: nothing is leaked either way. A second close()
// from another thread waits until the first has finished (a nested one does not: see above). The
// Scope object itself (move, destroy) has one owner; share it by reference. References returned by
// adopt() are valid until the scope closes.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <source_location>
#include <stop_token>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <scopeflow/core/detail/resource_ops.h>
#include <scopeflow/core/error.h>
#include <scopeflow/core/ledger.h>
#include <scopeflow/core/ticket.h>

namespace scopeflow {

class ResourceMonitor;
class FaultInjector;

enum class ScopeLevel : unsigned char { service, pipeline, stage, worker, task, other };
[[nodiscard]] std::string_view to_string(ScopeLevel level) noexcept;

// No deadline: cleanups run inline on the closing thread, however long they take.
inline constexpr std::chrono::nanoseconds kNoCloseTimeout = std::chrono::nanoseconds::zero();

struct ScopeOptions {
    ScopeLevel level = ScopeLevel::other;  // informational: shown in snapshots
    ResourceMonitor* monitor = nullptr;    // reports go here; null: parent's, or the global one
    FaultInjector* faults = nullptr;       // null: parent's (none at the root)
    std::optional<bool> track;  // record resources in the ledger; unset: parent's (root: on)
    // Per-cleanup deadline for close() of this scope. Zero: none, release inline (cheapest: use
    // for task scopes). Set: close runs cleanups on a helper thread and abandons stuck ones.
    std::chrono::nanoseconds close_timeout = kNoCloseTimeout;
};

namespace detail {
class ScopeNode;
}  // namespace detail

// Names a scope after the fact: keeps the scope's bookkeeping node (not its resources) alive so
// its path can still be told, e.g. in a report about a lease that outlived it. Copying costs one
// reference count. An empty ScopeRef's path is "".
class ScopeRef {
public:
    ScopeRef() noexcept = default;
    [[nodiscard]] std::string path() const;
    [[nodiscard]] bool empty() const noexcept { return node_ == nullptr; }

private:
    friend class Scope;
    explicit ScopeRef(std::shared_ptr<const detail::ScopeNode> node) noexcept
        : node_(std::move(node)) {}
    std::shared_ptr<const detail::ScopeNode> node_;
};

class [[nodiscard]] Scope {
public:
    explicit Scope(std::string name, ScopeOptions options = {});
    Scope(Scope&& other) noexcept;
    Scope& operator=(Scope&& other) noexcept;  // closes the scope it held first
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
    ~Scope();  // closes; never throws (failures go to the monitor)

    // A new open child, closed before this scope's own resources. Throws ScopeClosedError if
    // this scope is closing.
    Scope child(std::string name, ScopeOptions options = {});

    // Takes ownership of `resource` and returns a reference to it, valid until close. The
    // resource is released by close(): its close() (if any), then its destructor.
    template <typename T>
    std::remove_cvref_t<T>& adopt(const ResourceInfo& info,
                                  T&& resource,
                                  std::source_location site = std::source_location::current()) {
        static_assert(!std::is_lvalue_reference_v<T>, "adopt() takes ownership: pass an rvalue");
        using R = std::remove_cvref_t<T>;
        static_assert(std::is_move_constructible_v<R>, "adopted resources must be movable");
        return *static_cast<R*>(adopt_raw(info, site, detail::kResourceOps<R>, &resource, true));
    }

    // Registers a cleanup to run at close, in reverse order with the resources. If the scope is
    // already closing, the cleanup runs at once and ScopeClosedError is thrown.
    template <typename F>
    void defer(const ResourceInfo& info,
               F&& cleanup,
               std::source_location site = std::source_location::current()) {
        using D = detail::Deferred<std::decay_t<F>>;
        D deferred{std::forward<F>(cleanup)};
        adopt_raw(info, site, detail::kResourceOps<D>, &deferred, true);
    }

    // Acquires through `make()` and adopts the result: the fault injector's acquire point is hit
    // before make() runs, so an injected failure never half-creates the resource.
    template <typename Factory>
    auto& open(const ResourceInfo& info,
               Factory&& make,
               std::source_location site = std::source_location::current()) {
        acquire_point(info.name);
        auto resource = std::forward<Factory>(make)();
        using R = decltype(resource);
        return *static_cast<R*>(adopt_raw(info, site, detail::kResourceOps<R>, &resource, false));
    }

    // Records a resource held outside the scope (a pooled connection, a lease). The ticket ends
    // the record when released or destroyed; if this scope ends first, it is reported as a leak.
    Ticket track(const ResourceInfo& info,
                 std::source_location site = std::source_location::current());

    // A "use" fault-injection point (no-op without an injector).
    void fault_point(std::string_view point);

    // Runs body(*this), then closes. If body throws, the scope is closed and body's exception
    // propagates unchanged, with cleanup failures attached (see the header comment).
    template <typename F>
    decltype(auto) run(F&& body);

    // Closes the subtree (see above). Throws CloseError if any cleanup failed or got stuck.
    void close();
    // As close(), with this per-cleanup deadline instead of options.close_timeout.
    void close(std::chrono::nanoseconds cleanup_timeout);

    // For a catch block: closes the scope while the caught exception is being handled, and
    // attaches cleanup failures to it (scopeflow::Error) or reports them (other types). run()
    // uses it; call it where a failure must unwind a scope explicitly, then `throw;`.
    void close_after_failure() noexcept;

    // Requests stop on this scope and its descendants without closing anything.
    void request_stop();
    // Stopped when this scope or any ancestor is stopped or closed. Created lazily.
    [[nodiscard]] std::stop_token stop_token();

    [[nodiscard]] bool closed() const;
    [[nodiscard]] std::string path() const;
    [[nodiscard]] ScopeRef ref() const noexcept;  // a cheap handle that can tell path() later
    [[nodiscard]] std::string_view name() const;
    [[nodiscard]] ScopeLevel level() const;
    [[nodiscard]] std::size_t resource_count() const;  // own resources not yet released
    [[nodiscard]] ResourceMonitor& monitor() const;
    [[nodiscard]] FaultInjector* faults() const;

private:
    explicit Scope(std::shared_ptr<detail::ScopeNode> node) noexcept;

    void* adopt_raw(const ResourceInfo& info,
                    const std::source_location& site,
                    const detail::ResourceOps& ops,
                    void* source,
                    bool hit_fault_point);
    void acquire_point(std::string_view name);

    std::shared_ptr<detail::ScopeNode> node_;
};

template <typename F>
decltype(auto) Scope::run(F&& body) {
    using Result = std::invoke_result_t<F&, Scope&>;
    if constexpr (std::is_void_v<Result>) {
        try {
            std::forward<F>(body)(*this);
        } catch (...) {
            close_after_failure();
            throw;
        }
        close();
    } else {
        auto result = [&]() -> Result {
            try {
                return std::forward<F>(body)(*this);
            } catch (...) {
                close_after_failure();
                throw;
            }
        }();
        close();
        return result;
    }
}

}  // namespace scopeflow
