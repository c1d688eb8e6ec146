// Type-erased operations a Scope needs on an adopted resource. Internal to Scope::adopt().
//
// Releasing a resource means: call its close() if it has one (this may throw, and the error is
// reported), then run its destructor (which must not throw). Types without close() release in
// their destructor alone.
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace scopeflow::detail {

template <typename T>
concept Closable = requires(T& t) {
    t.close();
};

struct ResourceOps {
    std::size_t size;
    std::size_t align;
    // Move-constructs a T at dst from the T at src.
    void (*move_construct)(void* dst, void* src);
    // Calls T::close() if T has one; may throw.
    void (*close)(void* obj);
    // Runs ~T(). Never throws.
    void (*destroy)(void* obj) noexcept;
    // Takes ownership of the T at src and releases it at once (close + destroy): used when an
    // adopt fails, so the resource offered is never leaked. May throw from close().
    void (*dispose)(void* src);
};

template <typename T>
void close_if_closable(T& t) {
    if constexpr (Closable<T>) {
        t.close();
    }
}

template <typename T>
inline constexpr ResourceOps kResourceOps{
    sizeof(T),
    alignof(T),
    [](void* dst, void* src) { ::new (dst) T(std::move(*static_cast<T*>(src))); },
    [](void* obj) { close_if_closable(*static_cast<T*>(obj)); },
    [](void* obj) noexcept { static_cast<T*>(obj)->~T(); },
    [](void* src) {
        T taken(std::move(*static_cast<T*>(src)));
        close_if_closable(taken);
    },
};

// A deferred cleanup stored as a resource: close() runs it once.
template <typename F>
struct Deferred {
    F fn;
    bool done = false;
    void close() {
        if (!done) {
            done = true;
            fn();
        }
    }
};

}  // namespace scopeflow::detail
