// sleep_for(duration, stop): a wait that a stop request ends at once.
//
// The one way scopeflow code waits out a backoff: a shutdown never sits out a retry delay.
//
//   if (!scopeflow::sleep_for(backoff, task.stop_token())) {
//       throw scopeflow::CancelledError("stopped while backing off");
//   }
//
// Thread safety: a free function; any number of threads may wait on the same stop token.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>

namespace scopeflow {

// Waits `d`; returns false (early) once `stop` is requested, true if the whole wait passed.
inline bool sleep_for(std::chrono::nanoseconds d, const std::stop_token& stop) {
    std::mutex mu;
    std::condition_variable_any cv;
    std::unique_lock lock(mu);
    return !cv.wait_for(lock, stop, d, [] { return false; }) && !stop.stop_requested();
}

}  // namespace scopeflow
