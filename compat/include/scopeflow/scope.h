// Forwarding header: this path moved to <scopeflow/core/scope.h>. It forwards for one release
// (0.2) and then goes; include the new path.
#pragma once
#include <scopeflow/core/scope.h>
