// Forwarding header: this path moved to <scopeflow/engine/log_limiter.h>. It forwards for one release
// (0.2) and then goes; include the new path.
#pragma once
#include <scopeflow/engine/log_limiter.h>
