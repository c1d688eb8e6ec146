#include <algorithm>
#include <utility>

#include <scopeflow/event/event.h>

namespace scopeflow {

std::string_view to_string(ValueKind kind) noexcept {
    switch (kind) {
        case ValueKind::null:
            return "null";
        case ValueKind::boolean:
            return "boolean";
        case ValueKind::integer:
            return "integer";
        case ValueKind::number:
            return "number";
        case ValueKind::string:
            return "string";
        case ValueKind::raw:
            return "raw";
    }
    return "unknown";
}

bool operator==(const Value& a, const Value& b) noexcept {
    if (a.kind_ != b.kind_) {
        return false;
    }
    switch (a.kind_) {
        case ValueKind::null:
            return true;
        case ValueKind::boolean:
            return a.scalar_.b == b.scalar_.b;
        case ValueKind::integer:
            return a.scalar_.i == b.scalar_.i;
        case ValueKind::number:
            return a.scalar_.d == b.scalar_.d;
        case ValueKind::string:
        case ValueKind::raw:
            return a.text_ == b.text_;
    }
    return false;
}

Event::Event(std::initializer_list<std::pair<std::string_view, Value>> fields) {
    fields_.reserve(fields.size());
    for (const auto& [key, value] : fields) {
        set(key, value);
    }
}

Event::Event(const Event& other)
    : fields_(other.begin(), other.end()),
      size_(other.size_),
      key_mask_(other.key_mask_),
      meta_(other.meta_) {}

Event& Event::operator=(const Event& other) {
    if (this == &other) {
        return *this;
    }
    clear();  // if a copy below throws, this event is left empty, never inconsistent
    // Element-wise assignment into existing slots reuses their string buffers.
    const std::size_t reused = std::min(other.size_, fields_.size());
    std::copy(other.begin(), other.begin() + reused, fields_.begin());
    fields_.insert(fields_.begin() + static_cast<std::ptrdiff_t>(reused), other.begin() + reused,
                   other.end());
    size_ = other.size_;
    key_mask_ = other.key_mask_;
    meta_ = other.meta_;
    return *this;
}

Event::Event(Event&& other) noexcept
    : fields_(std::move(other.fields_)),
      size_(std::exchange(other.size_, 0)),
      key_mask_(std::exchange(other.key_mask_, 0)),
      meta_(std::exchange(other.meta_, {})) {
    other.fields_.clear();
}

Event& Event::operator=(Event&& other) noexcept {
    if (this != &other) {
        fields_ = std::move(other.fields_);
        other.fields_.clear();
        size_ = std::exchange(other.size_, 0);
        key_mask_ = std::exchange(other.key_mask_, 0);
        meta_ = std::exchange(other.meta_, {});
    }
    return *this;
}

void Event::add_slot() {
    fields_.emplace_back();
}

void Event::set(std::string_view key, Value value) {
    if (Value* existing = find(key)) {
        *existing = std::move(value);
        return;
    }
    append_slot(key, key_bit(key)).value = std::move(value);
}

bool Event::erase(std::string_view key) {
    const std::size_t i = index_of(key);
    if (i == size_) {
        return false;
    }
    // Rotate the erased slot to the end of the live range: order is kept and the slot (with its
    // buffers) becomes the first spare.
    const auto first = fields_.begin() + static_cast<std::ptrdiff_t>(i);
    std::rotate(first, first + 1, fields_.begin() + static_cast<std::ptrdiff_t>(size_));
    --size_;
    return true;
}

bool Event::rename(std::string_view from, std::string_view to) {
    if (from == to) {
        return contains(from);
    }
    const std::size_t i = index_of(from);
    if (i == size_ || contains(to)) {
        return false;
    }
    fields_[i].key.assign(to.data(), to.size());
    key_mask_ |= key_bit(to);
    return true;
}

void Event::clear() noexcept {
    size_ = 0;
    key_mask_ = 0;
    meta_ = {};
}

bool operator==(const Event& a, const Event& b) noexcept {
    if (a.size_ != b.size_) {
        return false;
    }
    for (std::size_t i = 0; i < a.size_; ++i) {
        if (a.fields_[i].key != b.fields_[i].key || !(a.fields_[i].value == b.fields_[i].value)) {
            return false;
        }
    }
    return true;
}

}  // namespace scopeflow
