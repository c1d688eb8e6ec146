// scopeflow's exception hierarchy.
//
// One root, `Error`, and a few leaves chosen by what the caller does next:
//
//   TransientError   retry the call (a connection dropped, a timeout, an injected fault)
//   BatchError       the unit of work is lost; retry the whole batch/transaction
//   ConfigError      nothing will work until the configuration is fixed
//   CancelledError   a stop was requested; unwind quietly
//   ScopeClosedError an adopt/child on a scope that is closing or closed
//   CloseError       one or more cleanups failed while a scope closed
//   StuckError       a cleanup overran its close deadline (attached to a CloseError)
//   SystemError      an operating-system call failed (open, write, fsync, rename); code() says
//                    which errno, so a caller can tell a full disk from a missing file
//   UsageError       a call made out of order: a bug in the calling code, not in its input
//
// Every error the library throws derives from Error, so `catch (const scopeflow::Error&)` sees
// them all (the standard library's own std::bad_alloc aside).
//
// Every Error can carry *suppressed* errors: failures that happened while handling it (a cleanup
// that threw while the body's error was unwinding). They are attached, never lost, in the order
// they occurred. `describe()` renders an error with everything attached to it.
//
//   try {
//       scope.run([&](scopeflow::Scope& s) { ... });
//   } catch (const scopeflow::Error& e) {
//       log(scopeflow::describe(std::current_exception()));
//       for (auto& s : e.suppressed()) ...
//   }
#pragma once

#include <chrono>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace scopeflow {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message);

    // Failures that happened while this error was being handled, oldest first.
    [[nodiscard]] const std::vector<std::exception_ptr>& suppressed() const noexcept;

    // Attaches `e` to this error. The list is shared between copies of the exception object, so
    // attaching to a caught reference and rethrowing with `throw;` keeps the attachment.
    void add_suppressed(std::exception_ptr e);

private:
    std::shared_ptr<std::vector<std::exception_ptr>> suppressed_;
};

// Retry the call: the operation may succeed if repeated (after backoff).
class TransientError : public Error {
public:
    using Error::Error;
};

// Retry the batch: the work in progress is lost (e.g. a transaction was aborted), the resource
// itself may still be usable.
class BatchError : public Error {
public:
    using Error::Error;
};

// Fix the configuration. `where` names the place: "pipeline.yaml:12: graph.stages[2].type".
class ConfigError : public Error {
public:
    ConfigError(std::string where, const std::string& message);
    [[nodiscard]] const std::string& where() const noexcept { return where_; }
    // The message without the "where: " prefix, to re-raise it at another place.
    [[nodiscard]] const std::string& text() const noexcept { return text_; }

private:
    std::string where_;
    std::string text_;
};

// A stop was requested on the scope the operation ran in.
class CancelledError : public Error {
public:
    using Error::Error;
};

// An adopt, defer or child() reached a scope that is already closing or closed. The resource
// offered to adopt() has been released before this is thrown.
class ScopeClosedError : public Error {
public:
    using Error::Error;
};

// A cleanup overran its close deadline and was abandoned on its thread (see Scope).
class StuckError : public Error {
public:
    using Error::Error;
};

// An operating-system call failed. what() reads "<what>: <errno text>", as std::system_error's
// does ("open 'out/a.jsonl': No such file or directory"); code() is the errno value.
class SystemError : public Error {
public:
    SystemError(int error_number, const std::string& what);
    [[nodiscard]] const std::error_code& code() const noexcept { return code_; }

private:
    std::error_code code_;
};

// A call made out of order, such as a route added to a server already started or an append to
// a closed writer: the calling code is wrong, retrying will not help.
class UsageError : public Error {
public:
    using Error::Error;
};

// Thrown by a fault injector at an armed point (see fault_injector.h). Transient on purpose: the
// code under test must treat it as it would a dropped connection.
class InjectedFault : public TransientError {
public:
    using TransientError::TransientError;
};

// One cleanup that failed or got stuck during a close.
struct CleanupFailure {
    std::string scope_path;              // "service/pipeline/enrich"
    std::string resource;                // the name given at adopt/defer time
    std::string site;                    // "file.cc:42" where it was acquired
    std::exception_ptr error;            // what the cleanup threw (a StuckError when stuck)
    bool stuck = false;                  // overran the close deadline and was abandoned
    std::chrono::nanoseconds elapsed{};  // how long the cleanup ran before it failed/was abandoned
};

// One or more cleanups of a scope failed. The first failure is primary (its message leads
// what()); the others are attached as suppressed errors, in the order they happened.
class CloseError : public Error {
public:
    explicit CloseError(std::vector<CleanupFailure> failures);

    [[nodiscard]] const std::vector<CleanupFailure>& failures() const noexcept {
        return *failures_;
    }
    [[nodiscard]] const CleanupFailure& primary() const noexcept { return failures_->front(); }

private:
    std::shared_ptr<const std::vector<CleanupFailure>> failures_;
};

// Human-readable rendering of `e` and everything attached to it, one line per error:
//   "boom\n  suppressed: closing 'svc/db': ...\n  suppressed: ..."
[[nodiscard]] std::string describe(const std::exception_ptr& e);

// The message of `e` (what() for std::exception, a placeholder for anything else).
[[nodiscard]] std::string message_of(const std::exception_ptr& e);

// The text of errno value `error_number` ("No space left on device"); thread-safe, unlike
// strerror(3).
[[nodiscard]] std::string errno_text(int error_number);

// Renders one cleanup failure: "service/pipeline: release of 'db' (acquired at a.cc:3) failed: x".
[[nodiscard]] std::string describe(const CleanupFailure& f);

}  // namespace scopeflow
