// Moved to tests/support/ (test_source.h, lambda_stage.h); kept so tests written against this
// path on other branches still compile. New tests include the support/ headers.
#pragma once

#include "support/lambda_stage.h"
#include "support/test_source.h"
#include "unit/test_support.h"

namespace scopeflow::testing {
using CountingSource = TestSource;
}  // namespace scopeflow::testing
