// Holder: who holds a tracked lock or semaphore permit right now, for live views and for the
// messages of acquire timeouts ("held by service/enrich/worker-1 for 2.1s at enrich.cc:88").
//
//   for (const scopeflow::Holder& h : semaphore.holders()) show(h.owner_path, h.held);
//
// A plain value; copies are snapshots.
#pragma once

#include <chrono>
#include <string>

namespace scopeflow {

struct Holder {
    std::string owner_path;           // the scope passed to acquire()/lock()
    std::string site;                 // "file.cc:42" where it was acquired
    std::chrono::nanoseconds held{};  // how long it has been held so far
};

}  // namespace scopeflow
