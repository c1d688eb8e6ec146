// BudgetTimeoutError: a budget (memory, open files, semaphore permits, a tracked mutex) could not
// grant a request before its deadline.
//
//   try {
//       auto bytes = memory.acquire(task, 4 << 20);
//   } catch (const scopeflow::BudgetTimeoutError& e) {
//       // "memory budget 'batches': 4194304 bytes not available within 2000ms (used 62914560
//       //  of 67108864, peak 67108864, 3 waiting)"
//   }
//
// It is a TransientError: the request may succeed once other holders give back what they hold,
// so the engine's retry logic treats it as retriable. The message names the budget and its usage.
#pragma once

#include <scopeflow/core/error.h>

namespace scopeflow {

class BudgetTimeoutError : public TransientError {
public:
    using TransientError::TransientError;
};

}  // namespace scopeflow
