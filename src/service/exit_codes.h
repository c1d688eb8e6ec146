// The exit codes are public: scopeflow/service/exit_codes.h.
#pragma once

#include <scopeflow/service/exit_codes.h>
