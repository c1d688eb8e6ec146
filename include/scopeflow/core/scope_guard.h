// ScopeGuard: run a callable when the enclosing C++ block exits, on every path.
//
// Zero-overhead (no type erasure, no allocation); move-only; cancel() disarms it. For cleanups
// that must be named, ordered with other resources and reported, adopt them into a Scope
// instead (Scope::defer).
//
//   int fd = ::open(path, O_RDONLY);
//   auto close_fd = scopeflow::ScopeGuard([fd] { ::close(fd); });
//   ...
//   close_fd.cancel();   // ownership handed elsewhere
//
// The callable should not throw: a guard runs from a destructor. If it does throw while no other
// exception is in flight the exception propagates (the destructor is noexcept(false)); while
// unwinding, std::terminate is avoided by swallowing it, since nothing can be reported safely
// from here. Use Scope::defer when a failing cleanup must be reported.
#pragma once

#include <exception>
#include <type_traits>
#include <utility>

namespace scopeflow {

template <typename F>
class [[nodiscard]] ScopeGuard {
    static_assert(std::is_invocable_v<F&>, "ScopeGuard needs a callable taking no arguments");

public:
    explicit ScopeGuard(F f) noexcept(std::is_nothrow_move_constructible_v<F>)
        : fn_(std::move(f)) {}

    ScopeGuard(ScopeGuard&& other) noexcept(std::is_nothrow_move_constructible_v<F>)
        : fn_(std::move(other.fn_)),
          armed_(std::exchange(other.armed_, false)) {}

    ScopeGuard(const ScopeGuard&) = delete;
    ScopeGuard& operator=(const ScopeGuard&) = delete;
    ScopeGuard& operator=(ScopeGuard&&) = delete;

    // NOLINTNEXTLINE(bugprone-exception-escape): documented above.
    ~ScopeGuard() noexcept(false) {
        if (!armed_) {
            return;
        }
        if (std::uncaught_exceptions() > uncaught_at_start_) {
            try {
                fn_();
            } catch (...) {  // NOLINT(bugprone-empty-catch): see the header comment
            }
        } else {
            fn_();
        }
    }

    // Disarms the guard: the callable will not run.
    void cancel() noexcept { armed_ = false; }

    // Runs the callable now (once) and disarms the guard.
    void fire() {
        if (std::exchange(armed_, false)) {
            fn_();
        }
    }

    [[nodiscard]] bool armed() const noexcept { return armed_; }

private:
    F fn_;
    bool armed_ = true;
    int uncaught_at_start_ = std::uncaught_exceptions();
};

}  // namespace scopeflow
