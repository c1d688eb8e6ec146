// Forwarding header: this path moved to <scopeflow/engine/stage_registry.h>. It forwards for one release
// (0.2) and then goes; include the new path. register_builtin_stages() moved to
// <scopeflow/stages/builtin_stages.h>, included here so code written for 0.1 still compiles.
#pragma once
#include <scopeflow/engine/stage_registry.h>
#include <scopeflow/stages/builtin_stages.h>
