// A tiny interleaved benchmark harness: every case runs in each round, rounds alternate, and
// the median per-op time is reported with its ratio to the round's baseline. Interleaving keeps
// the comparison fair on a shared, noisy machine.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace scopeflow::bench {

struct Case {
    std::string name;
    std::function<void(long iterations)> run;  // does `iterations` operations
};

struct Result {
    std::string name;
    double median_ns;
};

inline std::vector<Result> run_interleaved(const std::vector<Case>& cases,
                                           long iterations,
                                           int rounds) {
    std::vector<std::vector<double>> samples(cases.size());
    for (const auto& c : cases) {
        c.run(iterations / 10);  // warm-up
    }
    for (int r = 0; r < rounds; ++r) {
        for (std::size_t i = 0; i < cases.size(); ++i) {
            const auto start = std::chrono::steady_clock::now();
            cases[i].run(iterations);
            const std::chrono::duration<double, std::nano> took =
                std::chrono::steady_clock::now() - start;
            samples[i].push_back(took.count() / static_cast<double>(iterations));
        }
    }
    std::vector<Result> results;
    for (std::size_t i = 0; i < cases.size(); ++i) {
        auto& s = samples[i];
        std::sort(s.begin(), s.end());
        results.push_back({cases[i].name, s[s.size() / 2]});
    }
    return results;
}

// Prints one table; the first case is the baseline.
inline void print_table(const std::string& title, const std::vector<Result>& results) {
    std::printf("\n%s\n", title.c_str());
    std::printf("  %-46s %12s %10s\n", "case", "ns/op", "ratio");
    for (const auto& r : results) {
        std::printf("  %-46s %12.1f %9.2fx\n", r.name.c_str(), r.median_ns,
                    r.median_ns / results.front().median_ns);
    }
}

}  // namespace scopeflow::bench
