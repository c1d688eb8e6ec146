// CurrentGeneration: which pipeline (and resources) the service runs right now, shared with the
// threads that report on it (admin endpoint, monitor view). A reload swaps it; readers hold the
// lock while they read, so the pipeline they see cannot be destroyed under them.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>

#include <scopeflow/engine/pipeline.h>

#include "service/probe.h"

namespace scopeflow::service {

class CurrentGeneration {
public:
    void set(const Pipeline* pipeline, std::shared_ptr<const Probes> probes) {
        std::lock_guard lock(mu_);
        pipeline_ = pipeline;
        probes_ = std::move(probes);
    }
    void count_reload(bool ok) {
        std::lock_guard lock(mu_);
        ++(ok ? reloads_ : reload_failures_);
    }
    // fn(const Pipeline* or null, const Probes* or null, reloads, reload_failures), locked.
    template <typename F>
    decltype(auto) read(F&& fn) const {
        std::lock_guard lock(mu_);
        return std::forward<F>(fn)(pipeline_, probes_.get(), reloads_, reload_failures_);
    }
    [[nodiscard]] std::shared_ptr<const Probes> probes() const {
        std::lock_guard lock(mu_);
        return probes_;
    }
    [[nodiscard]] bool running() const {
        std::lock_guard lock(mu_);
        return pipeline_ != nullptr;
    }

private:
    mutable std::mutex mu_;
    const Pipeline* pipeline_ = nullptr;
    std::shared_ptr<const Probes> probes_;
    std::uint64_t reloads_ = 0;
    std::uint64_t reload_failures_ = 0;
};

}  // namespace scopeflow::service
