// Forwarding header: this path moved to <scopeflow/stages/rotating_file_writer.h>. It forwards for one release
// (0.2) and then goes; include the new path.
#pragma once
#include <scopeflow/stages/rotating_file_writer.h>
