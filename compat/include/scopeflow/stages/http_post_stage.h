// Forwarding header: this path moved to <scopeflow/http/stages/http_post_stage.h>. It forwards for one release
// (0.2) and then goes; include the new path.
#pragma once
#include <scopeflow/http/stages/http_post_stage.h>
