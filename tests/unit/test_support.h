// Moved to tests/support/ (probe.h, leak_check.h); kept so tests written against this path on
// other branches still compile. New tests include the support/ headers.
#pragma once

#include "support/leak_check.h"
#include "support/probe.h"
