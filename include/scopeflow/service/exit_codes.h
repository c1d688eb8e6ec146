// The exit codes of `scopeflow run` and of Service::run() (documented in docs/operations.md).
#pragma once

namespace scopeflow::service {

enum ExitCode : int {
    kExitOk = 0,         // finished (finite input) or stopped cleanly by a signal
    kExitFailure = 1,    // the pipeline failed (a stage or source error it could not route)
    kExitUsage = 2,      // bad command line
    kExitBadConfig = 3,  // the pipeline file is invalid (check, run, reload at startup)
    kExitLeaked = 4,     // ran, but resources were still live at exit (ledger, fds, children)
    kExitForced = 5,     // shutdown deadline passed: stuck work was reported, then abandoned
};

}  // namespace scopeflow::service
