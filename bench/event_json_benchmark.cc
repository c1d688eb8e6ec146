// Event JSON throughput: parse + serialize of ~200-byte analytics events (one JSONL line each),
// against nlohmann::json parse + dump of the same lines, measured in the same run. Also the two
// halves on their own, and parse_padded (no input copy) as a JSONL source would call it.
//
//   build/bench/event_json_benchmark [events] [rounds]     (defaults: 100000 events, 7 rounds)
//
// Each round runs every case once over all events; the median round is reported.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <scopeflow/event/event.h>
#include <scopeflow/event/event_json.h>

#include "bench_harness.h"

namespace {

// Keeps the optimizer from deleting the work.
template <typename T>
void keep(T const& value) {
    asm volatile("" : : "r,m"(value) : "memory");
}

// One JSONL buffer holding every line, with kJsonPadding spare bytes at its end so that
// parse_padded() may be used on any line.
struct Corpus {
    std::string buffer;
    std::vector<std::string_view> lines;
    std::size_t bytes = 0;  // total of the lines, without newlines
};

Corpus make_corpus(std::size_t count) {
    static constexpr std::string_view kTypes[] = {"click",  "view",   "purchase",
                                                  "scroll", "signup", "add_to_cart"};
    static constexpr std::string_view kTags[] = {"a", "b", "mobile", "web", "promo", "eu", "us"};
    static constexpr std::string_view kPages[] = {"/",     "/home",           "/product/123",
                                                  "/cart", "/search?q=shoes", "/checkout/step-2"};
    std::mt19937_64 rng(42);
    auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };

    Corpus c;
    std::vector<std::size_t> ends;
    std::string line;
    for (std::size_t i = 0; i < count; ++i) {
        line.clear();
        line += "{\"id\":" + std::to_string(i);
        line += ",\"user\":\"u-" + std::to_string(pick(100000)) + "\"";
        line += ",\"type\":\"" + std::string(kTypes[pick(std::size(kTypes))]) + "\"";
        line += ",\"ts\":" + std::to_string(1732200000000 + i * 37 + pick(1000));
        line += ",\"price\":";
        // Doubles in the shortest form the serializer writes, so the round trip is exact.
        scopeflow::append_json(scopeflow::Value(static_cast<double>(pick(100000)) / 100.0), line);
        line += ",\"tags\":[";
        const std::size_t tags = pick(4);
        for (std::size_t t = 0; t < tags; ++t) {
            line += (t > 0 ? ",\"" : "\"") + std::string(kTags[pick(std::size(kTags))]) + "\"";
        }
        line += "],\"ok\":" + std::string(pick(2) == 0 ? "true" : "false");
        line += ",\"session\":\"" + std::to_string(rng()) + "-" + std::to_string(pick(1000)) + "\"";
        line += ",\"page\":\"" + std::string(kPages[pick(std::size(kPages))]) + "\"";
        if (pick(10) == 0) {
            line += R"(,"note":"café \"quoted\"\tand tabbed")";
        }
        if (pick(4) == 0) {
            line += R"(,"geo":{"lat":48.8566,"lon":2.3522,"city":"Paris"})";
        }
        line += ",\"qty\":" + std::to_string(1 + pick(5)) + "}";
        c.buffer += line;
        ends.push_back(c.buffer.size());
        c.buffer += '\n';
        c.bytes += line.size();
    }
    c.buffer.append(scopeflow::kJsonPadding, ' ');
    std::size_t start = 0;
    for (const std::size_t end : ends) {
        c.lines.emplace_back(c.buffer.data() + start, end - start);
        start = end + 1;
    }
    return c;
}

}  // namespace

int main(int argc, char** argv) {
    const long events = argc > 1 ? std::atol(argv[1]) : 100000;
    const int rounds = argc > 2 ? std::atoi(argv[2]) : 7;
    if (events <= 0 || rounds <= 0) {
        std::fprintf(stderr, "usage: event_json_benchmark [events] [rounds]\n");
        return 2;
    }
    const Corpus corpus = make_corpus(static_cast<std::size_t>(events));
    const std::size_t n = corpus.lines.size();
    const double mean_bytes = static_cast<double>(corpus.bytes) / static_cast<double>(n);

    // Every line must parse, and serialization must reproduce it byte for byte (the corpus is
    // compact and its doubles are in the form the serializer writes): the cases below do the real
    // work, not an error path.
    scopeflow::EventParser parser;
    scopeflow::Event event;
    std::string out;
    for (std::size_t i = 0; i < n; ++i) {
        if (const scopeflow::ParseStatus st = parser.parse(corpus.lines[i], event); !st) {
            std::fprintf(stderr, "corpus line %zu: %s\n", i, st.message.c_str());
            return 1;
        }
        out.clear();
        scopeflow::append_json(event, out);
        if (out != corpus.lines[i]) {
            std::fprintf(stderr, "round trip differs at line %zu:\n  %.*s\n  %s\n", i,
                         static_cast<int>(corpus.lines[i].size()), corpus.lines[i].data(),
                         out.c_str());
            return 1;
        }
    }
    // Serializing alone: a few pre-parsed events, warm in cache as an event is right after its
    // parse in a pipeline (100k pre-parsed events would measure cache misses instead).
    std::vector<scopeflow::Event> parsed(std::min<std::size_t>(n, 1000));
    for (std::size_t i = 0; i < parsed.size(); ++i) {
        (void)parser.parse(corpus.lines[i], parsed[i]);
    }

    out.reserve(4096);

    // Each case processes `iterations` events, cycling through the corpus.
    auto each = [&](long iterations, auto&& body) {
        std::size_t i = 0;
        for (long k = 0; k < iterations; ++k) {
            body(corpus.lines[i]);
            if (++i == n) {
                i = 0;
            }
        }
    };

    std::vector<scopeflow::bench::Case> cases{
        {"nlohmann::json parse + dump (baseline)",
         [&](long it) {
             each(it, [&](std::string_view line) {
                 const nlohmann::json j = nlohmann::json::parse(line);
                 out = j.dump();
                 keep(out.data());
             });
         }},
        {"EventParser::parse + append_json",
         [&](long it) {
             each(it, [&](std::string_view line) {
                 (void)parser.parse(line, event);
                 out.clear();
                 scopeflow::append_json(event, out);
                 keep(out.data());
             });
         }},
        {"EventParser::parse_padded + append_json",
         [&](long it) {
             each(it, [&](std::string_view line) {
                 (void)parser.parse_padded(line, event);
                 out.clear();
                 scopeflow::append_json(event, out);
                 keep(out.data());
             });
         }},
        {"EventParser::parse only",
         [&](long it) {
             each(it, [&](std::string_view line) {
                 (void)parser.parse(line, event);
                 keep(event.size());
             });
         }},
        {"append_json only (1000 pre-parsed events)",
         [&](long it) {
             std::size_t i = 0;
             for (long k = 0; k < it; ++k) {
                 out.clear();
                 scopeflow::append_json(parsed[i], out);
                 keep(out.data());
                 if (++i == parsed.size()) {
                     i = 0;
                 }
             }
         }},
        {"nlohmann::json parse only",
         [&](long it) {
             each(it, [&](std::string_view line) {
                 const nlohmann::json j = nlohmann::json::parse(line);
                 keep(j.size());
             });
         }},
    };

    std::printf("%zu events, %.1f bytes per event on average, %d rounds\n", n, mean_bytes, rounds);
    const auto results = scopeflow::bench::run_interleaved(cases, events, rounds);
    scopeflow::bench::print_table("event JSON (per event)", results);

    std::printf("\n  %-46s %12s %10s %10s\n", "case", "events/s", "MB/s", "speedup");
    for (const auto& r : results) {
        const double per_second = 1e9 / r.median_ns;
        std::printf("  %-46s %12.0f %10.1f %9.2fx\n", r.name.c_str(), per_second,
                    per_second * mean_bytes / 1e6, results.front().median_ns / r.median_ns);
    }
    return 0;
}
