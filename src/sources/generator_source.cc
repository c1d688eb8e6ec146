#include <string>

#include <scopeflow/event/event.h>
#include <scopeflow/sources/generator_source.h>

namespace scopeflow {

std::size_t GeneratorSource::read(std::span<Event> out, const std::stop_token& stop) {
    if (stop.stop_requested()) {
        return 0;
    }
    std::uint64_t first = 0;
    std::size_t n = out.size();
    {
        std::lock_guard lock(mu_);
        first = next_;
        if (options_.count != 0) {
            const std::uint64_t left = options_.count - next_;
            n = left < n ? static_cast<std::size_t>(left) : n;
        }
        next_ += n;
    }
    static constexpr const char* kTypes[] = {"click", "view", "buy"};
    std::string user;
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t seq = first + i;
        Event& e = out[i];
        e.clear();
        e.meta().sequence = seq;
        e.set("n", Value(static_cast<std::int64_t>(seq)));
        if (options_.with_payload) {
            user = "u-" + std::to_string(seq % 1000);
            e.set("user", Value(std::string_view(user)));
            e.set("type", Value(kTypes[seq % 3]));
            e.set("price", Value(static_cast<double>(seq % 100) + 0.5));
            e.set("ts", Value(static_cast<std::int64_t>(1'700'000'000'000 + seq)));
        }
    }
    return n;
}

std::uint64_t GeneratorSource::produced() const {
    std::lock_guard lock(mu_);
    return next_;
}

}  // namespace scopeflow
