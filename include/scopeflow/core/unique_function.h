// UniqueFunction<R(Args...)>: a move-only, type-erased callable with an inline buffer.
//
// g++ 12 has no std::move_only_function, and std::function both requires copyable targets and
// allocates for captures over 16 bytes. Cleanups capture move-only things (fds, unique_ptrs) and
// are created on hot paths, so this keeps callables up to kInlineSize bytes inline.
//
//   scopeflow::UniqueFunction<void()> f = [fd = std::move(fd)]() mutable { fd.close(); };
//   f();
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace scopeflow {

template <typename Signature>
class UniqueFunction;

template <typename R, typename... Args>
class UniqueFunction<R(Args...)> {
public:
    static constexpr std::size_t kInlineSize = 48;

    UniqueFunction() noexcept = default;
    UniqueFunction(std::nullptr_t) noexcept {}  // NOLINT(google-explicit-constructor)

    template <typename F>
    requires(!std::is_same_v<std::remove_cvref_t<F>, UniqueFunction> &&
             std::is_invocable_r_v<R, std::remove_cvref_t<F>&, Args...>)
        UniqueFunction(F&& f) {  // NOLINT(google-explicit-constructor)
        using Fn = std::remove_cvref_t<F>;
        if constexpr (sizeof(Fn) <= kInlineSize && alignof(Fn) <= alignof(std::max_align_t) &&
                      std::is_nothrow_move_constructible_v<Fn>) {
            ::new (static_cast<void*>(storage_)) Fn(std::forward<F>(f));
            ops_ = &inline_ops<Fn>;
        } else {
            *reinterpret_cast<Fn**>(storage_) = new Fn(std::forward<F>(f));
            ops_ = &heap_ops<Fn>;
        }
    }

    UniqueFunction(UniqueFunction&& other) noexcept
        : ops_(other.ops_) {
        if (ops_ != nullptr) {
            ops_->move(storage_, other.storage_);
            other.ops_ = nullptr;
        }
    }

    UniqueFunction& operator=(UniqueFunction&& other) noexcept {
        if (this != &other) {
            reset();
            ops_ = other.ops_;
            if (ops_ != nullptr) {
                ops_->move(storage_, other.storage_);
                other.ops_ = nullptr;
            }
        }
        return *this;
    }

    UniqueFunction(const UniqueFunction&) = delete;
    UniqueFunction& operator=(const UniqueFunction&) = delete;

    ~UniqueFunction() { reset(); }

    void reset() noexcept {
        if (ops_ != nullptr) {
            ops_->destroy(storage_);
            ops_ = nullptr;
        }
    }

    explicit operator bool() const noexcept { return ops_ != nullptr; }

    R operator()(Args... args) { return ops_->invoke(storage_, std::forward<Args>(args)...); }

private:
    struct Ops {
        R (*invoke)(void*, Args&&...);
        void (*move)(void* dst, void* src) noexcept;  // move-constructs dst from src, destroys src
        void (*destroy)(void*) noexcept;
    };

    template <typename Fn>
    static constexpr Ops inline_ops{
        [](void* s, Args&&... args) -> R {
            return (*std::launder(static_cast<Fn*>(s)))(std::forward<Args>(args)...);
        },
        [](void* dst, void* src) noexcept {
            Fn* from = std::launder(static_cast<Fn*>(src));
            ::new (dst) Fn(std::move(*from));
            from->~Fn();
        },
        [](void* s) noexcept { std::launder(static_cast<Fn*>(s))->~Fn(); },
    };

    template <typename Fn>
    static constexpr Ops heap_ops{
        [](void* s, Args&&... args) -> R {
            return (**static_cast<Fn**>(s))(std::forward<Args>(args)...);
        },
        [](void* dst, void* src) noexcept { *static_cast<Fn**>(dst) = *static_cast<Fn**>(src); },
        [](void* s) noexcept { delete *static_cast<Fn**>(s); },
    };

    alignas(std::max_align_t) std::byte storage_[kInlineSize];
    const Ops* ops_ = nullptr;
};

}  // namespace scopeflow
