// Event: one analytics event flowing through a pipeline, a flat JSON object.
//
// An Event is an ordered list of (key, Value) fields: insertion order is kept, keys are unique.
// A Value is one JSON value: null, bool, int64, double, string, or `raw` (a nested object or
// array kept as its compact JSON text, not parsed further). Parsing and serializing live in
// event_json.h.
//
//   scopeflow::Event e{{"id", 17}, {"user", "u-42"}, {"price", 9.5}};
//   e.set("ok", true);                         // appends; setting an existing key replaces it
//   std::optional<std::int64_t> id = e.get_int("id");        // 17
//   std::optional<std::string_view> t = e.get_string("id");  // nullopt: wrong type
//   e.rename("user", "user_id");
//   for (const auto& [key, value] : e) { ... }
//   e.meta().sequence = 42;                    // assigned by the source
//
// Lookups are linear: events hold ~5-20 fields, and a 64-bit summary of the keys present makes a
// miss O(1). clear() keeps the field slots *and* their string buffers, so a source that reuses
// one Event per worker reaches a steady state without heap allocation.
//
// Thread safety: none; an Event is a value with one owner at a time. Pointers and references to
// values (find(), get_or_add()) and string_views from accessors are valid until the next
// mutation of the event.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace scopeflow {

namespace detail {
// Copies n bytes; the ranges may overlap. Up to 16 bytes without a libc call: every load happens
// before any store, and no access leaves [s, s + n) or [d, d + n).
inline void copy_chars(char* d, const char* s, std::size_t n) noexcept {
    if (n > 16) {
        std::memmove(d, s, n);
    } else if (n >= 8) {
        std::uint64_t a;
        std::uint64_t b;
        std::memcpy(&a, s, 8);
        std::memcpy(&b, s + n - 8, 8);
        std::memcpy(d, &a, 8);
        std::memcpy(d + n - 8, &b, 8);
    } else if (n >= 4) {
        std::uint32_t a;
        std::uint32_t b;
        std::memcpy(&a, s, 4);
        std::memcpy(&b, s + n - 4, 4);
        std::memcpy(d, &a, 4);
        std::memcpy(d + n - 4, &b, 4);
    } else if (n > 0) {
        const char a = s[0];
        const char b = s[n / 2];
        const char c = s[n - 1];
        d[0] = a;
        d[n / 2] = b;
        d[n - 1] = c;
    }
}

// s = v, without std::string::assign's general path when v is not longer than s (the common case
// for a reused event: same keys, similar values). v may point into s.
inline void assign_text(std::string& s, std::string_view v) {
    if (v.size() <= s.size()) {
        s.resize(v.size());  // a shrink: only sets the length
        copy_chars(s.data(), v.data(), v.size());
    } else {
        s.assign(v.data(), v.size());
    }
}

template <typename T>
concept NonBoolIntegral = std::integral<T> && !std::same_as<T, bool>;
}  // namespace detail

enum class ValueKind : unsigned char { null, boolean, integer, number, string, raw };
[[nodiscard]] std::string_view to_string(ValueKind kind) noexcept;

// One JSON value. Constructors are implicit on purpose, so `event.set("n", 5)` reads naturally.
// Integers that do not fit int64 (large unsigned values) become numbers (double).
class Value {
public:
    Value() noexcept = default;  // null
    Value(std::nullptr_t) noexcept {}
    Value(bool b) noexcept
        : scalar_{.b = b},
          kind_(ValueKind::boolean) {}
    template <detail::NonBoolIntegral T>
    Value(T i) noexcept {
        if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(std::int64_t)) {
            if (i > static_cast<T>(std::numeric_limits<std::int64_t>::max())) {
                set_double(static_cast<double>(i));
                return;
            }
        }
        set_int(static_cast<std::int64_t>(i));
    }
    Value(double d) noexcept
        : scalar_{.d = d},
          kind_(ValueKind::number) {}
    Value(std::string s) noexcept
        : text_(std::move(s)),
          kind_(ValueKind::string) {}
    Value(std::string_view s)
        : text_(s),
          kind_(ValueKind::string) {}
    Value(const char* s)
        : Value(std::string_view(s)) {}

    Value(const Value&) = default;
    Value& operator=(const Value&) = default;
    // A moved-from value is null (never an empty raw text, which would serialize to nothing).
    Value(Value&& other) noexcept
        : text_(std::move(other.text_)),
          scalar_(other.scalar_),
          kind_(std::exchange(other.kind_, ValueKind::null)) {}
    Value& operator=(Value&& other) noexcept {
        text_ = std::move(other.text_);
        scalar_ = other.scalar_;
        kind_ = std::exchange(other.kind_, ValueKind::null);
        return *this;
    }
    ~Value() = default;

    // A nested object or array given as JSON text. It is not validated: the serializer copies it
    // verbatim, so it must be valid, compact JSON (what the parser produces).
    [[nodiscard]] static Value raw(std::string json) noexcept {
        Value v;
        v.text_ = std::move(json);
        v.kind_ = ValueKind::raw;
        return v;
    }

    [[nodiscard]] ValueKind kind() const noexcept { return kind_; }
    [[nodiscard]] bool is_null() const noexcept { return kind_ == ValueKind::null; }

    // Accessors: each expects its kind and returns false / 0 / "" for any other (never UB).
    [[nodiscard]] bool as_bool() const noexcept { return kind_ == ValueKind::boolean && scalar_.b; }
    [[nodiscard]] std::int64_t as_int() const noexcept {
        return kind_ == ValueKind::integer ? scalar_.i : 0;
    }
    // Numbers, and integers converted to double.
    [[nodiscard]] double as_double() const noexcept {
        if (kind_ == ValueKind::number) {
            return scalar_.d;
        }
        return kind_ == ValueKind::integer ? static_cast<double>(scalar_.i) : 0.0;
    }
    // The decoded string (UTF-8, escapes resolved).
    [[nodiscard]] std::string_view as_string() const noexcept {
        return kind_ == ValueKind::string ? std::string_view(text_) : std::string_view();
    }
    // The compact JSON text of a raw value.
    [[nodiscard]] std::string_view raw_json() const noexcept {
        return kind_ == ValueKind::raw ? std::string_view(text_) : std::string_view();
    }

    // In-place setters: they reuse this value's string buffer (the parser fills reused events
    // through them without allocating).
    void set_null() noexcept { kind_ = ValueKind::null; }
    void set_bool(bool b) noexcept {
        scalar_.b = b;
        kind_ = ValueKind::boolean;
    }
    void set_int(std::int64_t i) noexcept {
        scalar_.i = i;
        kind_ = ValueKind::integer;
    }
    void set_double(double d) noexcept {
        scalar_.d = d;
        kind_ = ValueKind::number;
    }
    void set_string(std::string_view s) {
        detail::assign_text(text_, s);
        kind_ = ValueKind::string;
    }
    void set_raw(std::string_view json) {
        detail::assign_text(text_, json);
        kind_ = ValueKind::raw;
    }

    // Same kind and same value. An integer never equals a number (1 != 1.0); doubles compare
    // with == (NaN != NaN); raw values compare as text.
    friend bool operator==(const Value& a, const Value& b) noexcept;

private:
    union Scalar {
        bool b;
        std::int64_t i;
        double d;
    };

    std::string text_;  // string and raw; otherwise unused (its capacity is kept for reuse)
    Scalar scalar_{.i = 0};
    ValueKind kind_ = ValueKind::null;
};

// Per-event metadata, not part of the JSON content: not serialized, not compared by ==.
struct EventMeta {
    std::uint64_t sequence = 0;  // assigned by the source; increases per source
    // The source could not decode the input: the event holds only `_error` (naming the place)
    // and `_raw`; the pipeline sends it straight to the dead-letter stage.
    bool decode_failed = false;
};

class Event {
public:
    struct Field {
        std::string key;
        Value value;
    };

    Event() = default;
    // Fields in order; a repeated key replaces the earlier value (as set() does).
    Event(std::initializer_list<std::pair<std::string_view, Value>> fields);
    // Copies carry the live fields and the metadata (not the spare capacity).
    Event(const Event& other);
    Event& operator=(const Event& other);
    Event(Event&& other) noexcept;
    Event& operator=(Event&& other) noexcept;
    ~Event() = default;

    // --- reading ----------------------------------------------------------------------------
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
    [[nodiscard]] const Field* begin() const noexcept { return fields_.data(); }
    [[nodiscard]] const Field* end() const noexcept { return fields_.data() + size_; }
    [[nodiscard]] std::span<const Field> fields() const noexcept { return {begin(), size_}; }

    // The value of `key`, or null when missing. The non-const overload allows changing the value
    // in place (never the key, so keys stay unique).
    [[nodiscard]] const Value* find(std::string_view key) const noexcept;
    [[nodiscard]] Value* find(std::string_view key) noexcept {
        return const_cast<Value*>(std::as_const(*this).find(key));
    }
    [[nodiscard]] bool contains(std::string_view key) const noexcept {
        return find(key) != nullptr;
    }

    // Typed access; nullopt when the key is missing OR holds another kind. get_double accepts
    // integers (converted); get_int does not accept numbers (no silent truncation).
    [[nodiscard]] std::optional<std::int64_t> get_int(std::string_view key) const noexcept;
    [[nodiscard]] std::optional<double> get_double(std::string_view key) const noexcept;
    [[nodiscard]] std::optional<bool> get_bool(std::string_view key) const noexcept;
    [[nodiscard]] std::optional<std::string_view> get_string(std::string_view key) const noexcept;

    // --- writing ----------------------------------------------------------------------------
    // Replaces the value of `key` in place (keeping its position), or appends a new field.
    void set(std::string_view key, Value value);
    // The value of `key`, appending a null field when missing. A new field reuses a spare slot's
    // buffers, so filling it with the Value setters does not allocate in steady state.
    Value& get_or_add(std::string_view key);
    // Removes `key`; false when missing. The other fields keep their order.
    bool erase(std::string_view key);
    // Renames `from` to `to`, keeping the field's position and value. Fails (false, nothing
    // changed) when `from` is missing or `to` already exists; rename(k, k) is true if k exists.
    bool rename(std::string_view from, std::string_view to);

    // Removes every field and resets the metadata; keeps the slots and their string buffers.
    void clear() noexcept;
    // Makes room for `n` fields without reallocating.
    void reserve(std::size_t n) { fields_.reserve(n); }
    // Slots allocated (live fields plus spares kept by clear() and erase()).
    [[nodiscard]] std::size_t capacity() const noexcept { return fields_.size(); }

    [[nodiscard]] EventMeta& meta() noexcept { return meta_; }
    [[nodiscard]] const EventMeta& meta() const noexcept { return meta_; }

    // Same fields with the same values in the same order. Metadata is not compared.
    friend bool operator==(const Event& a, const Event& b) noexcept;

private:
    // One bit of a 64-bit summary per key; key_mask_ holds (at least) the bits of every live key,
    // so a clear bit proves a key absent. erase/rename leave stale bits: they only cost a scan.
    [[nodiscard]] static std::uint64_t key_bit(std::string_view key) noexcept {
        std::uint64_t h = key.size();
        if (!key.empty()) {
            h = (h << 24) ^ (std::uint64_t{static_cast<unsigned char>(key.front())} << 16) ^
                (std::uint64_t{static_cast<unsigned char>(key[key.size() / 2])} << 8) ^
                std::uint64_t{static_cast<unsigned char>(key.back())};
        }
        return std::uint64_t{1} << ((h * 0x9E3779B97F4A7C15ULL) >> 58);
    }
    // The index of `key` among the live fields, or size_ when missing.
    [[nodiscard]] std::size_t index_of(std::string_view key) const noexcept;
    Field& append_slot(std::string_view key, std::uint64_t bit) {
        if (size_ == fields_.size()) [[unlikely]] {
            add_slot();
        }
        Field& f = fields_[size_];
        detail::assign_text(f.key, key);
        ++size_;
        key_mask_ |= bit;
        return f;
    }
    void add_slot();

    std::vector<Field> fields_;  // [0, size_) live; [size_, end) spare slots kept for reuse
    std::size_t size_ = 0;
    std::uint64_t key_mask_ = 0;
    EventMeta meta_;
};

inline std::size_t Event::index_of(std::string_view key) const noexcept {
    if ((key_mask_ & key_bit(key)) == 0) {
        return size_;
    }
    std::size_t i = 0;
    while (i < size_ && fields_[i].key != key) {
        ++i;
    }
    return i;
}

inline const Value* Event::find(std::string_view key) const noexcept {
    const std::size_t i = index_of(key);
    return i < size_ ? &fields_[i].value : nullptr;
}

inline Value& Event::get_or_add(std::string_view key) {
    const std::uint64_t bit = key_bit(key);
    if ((key_mask_ & bit) != 0) {
        if (const std::size_t i = index_of(key); i < size_) {
            return fields_[i].value;
        }
    }
    Value& v = append_slot(key, bit).value;
    v.set_null();
    return v;
}

inline std::optional<std::int64_t> Event::get_int(std::string_view key) const noexcept {
    const Value* v = find(key);
    if (v == nullptr || v->kind() != ValueKind::integer) {
        return std::nullopt;
    }
    return v->as_int();
}

inline std::optional<double> Event::get_double(std::string_view key) const noexcept {
    const Value* v = find(key);
    if (v == nullptr || (v->kind() != ValueKind::number && v->kind() != ValueKind::integer)) {
        return std::nullopt;
    }
    return v->as_double();
}

inline std::optional<bool> Event::get_bool(std::string_view key) const noexcept {
    const Value* v = find(key);
    if (v == nullptr || v->kind() != ValueKind::boolean) {
        return std::nullopt;
    }
    return v->as_bool();
}

inline std::optional<std::string_view> Event::get_string(std::string_view key) const noexcept {
    const Value* v = find(key);
    if (v == nullptr || v->kind() != ValueKind::string) {
        return std::nullopt;
    }
    return v->as_string();
}

}  // namespace scopeflow
