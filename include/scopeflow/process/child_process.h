// ChildProcess: the owner of one child process, for stages that must run out of process.
//
// The program is started without a shell (fork + execve, argv passed as is), with stdin and
// stdout connected to pipes by default. Every descriptor the parent holds is O_CLOEXEC, and the
// child closes everything but 0, 1 and 2 before exec, so it inherits nothing by accident; nor
// does it inherit the environment, unless asked (ChildOptions::env_pass, env_add). An exec
// failure (no such program, not executable, bad working directory) travels back over a CLOEXEC
// pipe: spawn() throws SpawnError naming the program and the errno, and the failed child is
// reaped before it returns.
//
// The process is never left a zombie: close() (and the destructor) closes stdin, gives the child
// eof_grace to exit on its own, then sends SIGTERM, waits terminate_grace, sends SIGKILL, and
// reaps it. A child that crashes is seen by try_wait()/wait_for() (or as end-of-stream on its
// stdout) and reaped there; replacing it is the owner's call.
//
//   auto& worker = scope.adopt({"resize-worker", ResourceKind::process},
//                              ChildProcess::spawn({.argv = {"resize", "--stdio"},
//                                                   .terminate_grace = 5s}));
//   LineChannel io{worker};
//   io.write_line(request, 1s);
//   std::optional<std::string> reply = io.read_line(10s);
//   if (!reply && io.eof()) { /* crashed: */ log(worker.wait().describe()); /* respawn */ }
//   ...
//   scope.close();  // worker.close(): EOF, wait, SIGTERM, wait, SIGKILL; always reaped
//
// Process groups: by default the child leads its own process group and termination signals go
// to the whole group, so a child's own children (a shell's pipeline) are stopped with it. Once
// the child has been reaped, its group is never signalled again.
//
// If the parent dies: with die_with_parent (the default) the kernel sends the child SIGKILL when
// the parent goes, even by SIGKILL or OOM kill, where no destructor runs. Linux ties this to the
// *thread* that spawned the child: if that thread exits, the child is killed too, so spawn from a
// thread that lives as long as the child (a stage's worker thread, not a short-lived helper).
// Grandchildren are not covered: give them their own PR_SET_PDEATHSIG or keep them in the group.
//
// Thread safety: none; a ChildProcess has one owner at a time (move it between threads, do not
// share it). spawn() itself may run on several threads at once: descriptors never cross between
// concurrently spawned children.
//
// Cost: spawn() forks the calling process (page tables are copied, not memory), then waits for
// the exec; it is meant for long-lived workers, not per-event commands. Each live child holds
// up to four descriptors in the parent: the stdio pipes it asked for and a pidfd.
#pragma once

#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include <scopeflow/core/error.h>
#include <scopeflow/core/unique_fd.h>

namespace scopeflow {

class ResourceMonitor;

// How a child process ended.
struct ExitStatus {
    int exit_code = -1;  // the status it passed to exit(), or -1 when killed by a signal
    int signal = 0;      // the signal that killed it, or 0 when it exited

    // True when it called exit() (whatever the code), false when a signal ended it.
    [[nodiscard]] bool exited_normally() const noexcept { return signal == 0 && exit_code >= 0; }
    // True when it exited with status 0.
    [[nodiscard]] bool succeeded() const noexcept { return signal == 0 && exit_code == 0; }
    // "exited with 3", "killed by SIGKILL", or "exit status unknown" (reaped by someone else).
    [[nodiscard]] std::string describe() const;

    friend bool operator==(const ExitStatus&, const ExitStatus&) = default;
};

// The parent's variables every child gets when the parent has them: where to find programs
// and how to render text and times. HOME, USER and the rest must be named (env_pass).
inline constexpr std::array<std::string_view, 4> kChildBaseEnvironment = {"PATH", "LANG", "LC_ALL",
                                                                          "TZ"};

struct ChildOptions {
    // The program and its arguments, never interpreted by a shell. argv[0] is looked up in the
    // parent's PATH unless it contains '/' (then it is relative to working_dir); relative PATH
    // entries, including empty ones, are skipped.
    std::vector<std::string> argv;
    // The environment. By default the child sees only what it is given, never the parent's
    // secrets (a password in the environment for a *_env option): the variables named in
    // kChildBaseEnvironment and in env_pass that the parent has, then env_add.
    std::vector<std::string> env_add;   // "K=V" entries added to (or replacing in) the environment
    std::vector<std::string> env_pass;  // names of the parent's variables passed through if set
    bool inherit_environment = false;   // true: the parent's whole environment (a test harness)
    std::string working_dir;            // empty: the parent's
    bool pipe_stdin = true;             // false: the child's stdin is /dev/null
    bool pipe_stdout = true;            // false: stdout is inherited
    bool pipe_stderr = false;           // false: stderr is inherited
    bool die_with_parent = true;        // PR_SET_PDEATHSIG(SIGKILL) in the child (see above)
    bool new_process_group = true;      // lead its own group; terminate signals reach the group
    // close(): after SIGTERM, wait this long for the child to exit before SIGKILL.
    std::chrono::milliseconds terminate_grace{2000};
    // close(): after closing stdin, wait this long for the child to exit on its own before
    // SIGTERM. Not waited when stdin is not a pipe.
    std::chrono::milliseconds eof_grace{1000};
    ResourceMonitor* monitor = nullptr;  // destructor-time failures go here; null: the global one
};

// spawn() could not start the program as configured: not found, not executable, a working
// directory that does not exist. Retrying will not help. Exhaustion (fork, pipe or exec failing
// with EAGAIN, ENOMEM, EMFILE, ENFILE) is thrown as TransientError instead.
class SpawnError : public ConfigError {
public:
    SpawnError(std::string program, int error_code, const std::string& message);

    [[nodiscard]] const std::string& program() const noexcept { return program_; }
    [[nodiscard]] int error_code() const noexcept { return error_code_; }  // the errno

private:
    std::string program_;
    int error_code_;
};

class ChildProcess {
public:
    // No process: every wait throws, close() returns at once.
    ChildProcess() noexcept = default;
    ChildProcess(ChildProcess&& other) noexcept;
    // Closes (as the destructor does) the process this object held first.
    ChildProcess& operator=(ChildProcess&& other) noexcept;
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    // close(), without throwing: failures go to options.monitor. Never leaves a zombie unless
    // the process survives SIGKILL for 5 s (uninterruptible sleep), which is reported.
    ~ChildProcess();

    // Starts the program; returns once it has been exec'd. Throws SpawnError (the exec or the
    // set-up before it failed; the child is reaped), TransientError (out of processes or
    // descriptors) or ConfigError (empty argv, an env_add entry without '=', an env_pass entry
    // with one, a NUL byte).
    [[nodiscard]] static ChildProcess spawn(const ChildOptions& options);

    // The process id; stays readable after the child is reaped (for logs). -1: no process.
    [[nodiscard]] pid_t pid() const noexcept { return pid_; }
    // argv[0] as given.
    [[nodiscard]] const std::string& program() const noexcept { return program_; }
    // Parent ends of the pipes (invalid when not piped, or once closed).
    [[nodiscard]] UniqueFd& stdin_fd() noexcept { return stdin_; }
    [[nodiscard]] UniqueFd& stdout_fd() noexcept { return stdout_; }
    [[nodiscard]] UniqueFd& stderr_fd() noexcept { return stderr_; }

    // Closes the write end of the child's stdin: the child reads end-of-file. Idempotent.
    void close_stdin();

    // Sends `signal` to the child (only, not its group). Returns false, doing nothing, once the
    // child has been reaped: a reaped pid may already belong to another process.
    bool send_signal(int signal);

    // The exit status if the child has been reaped by this object, without waiting.
    [[nodiscard]] const std::optional<ExitStatus>& status() const noexcept { return status_; }

    // Reaps the child if it has ended (WNOHANG). Once reaped, every wait returns the same status.
    // All waits throw Error when the child was reaped by someone else (SIGCHLD set to SIG_IGN,
    // or waitpid(-1) elsewhere in the program); the status is then unknown.
    std::optional<ExitStatus> try_wait();
    // Blocks until the child ends, and reaps it.
    ExitStatus wait();
    // Waits up to `timeout` (a pidfd with poll; polls every few ms where pidfds are missing).
    // std::chrono::milliseconds::max() waits forever.
    std::optional<ExitStatus> wait_for(std::chrono::milliseconds timeout);

    // SIGTERM (to the group), wait up to `grace`, then SIGKILL and wait. Always reaps; throws
    // Error only if the process is still not gone 5 s after SIGKILL.
    ExitStatus terminate(std::chrono::milliseconds grace);

    // Ends the child: closes stdin, waits eof_grace, terminate(terminate_grace), then closes the
    // parent's pipe ends (read what you need first: output left in the pipe is lost).
    // Idempotent: later calls return the same status. Throws only if the process could not be
    // reaped (see terminate() and the waits).
    ExitStatus close();

private:
    ChildProcess(pid_t pid, const ChildOptions& options) noexcept;

    [[nodiscard]] std::string label() const;
    void require_process() const;
    std::optional<ExitStatus> reap(bool block);
    void signal_group(int signal);
    void release_fds() noexcept;
    void close_quietly() noexcept;

    pid_t pid_ = -1;
    std::string program_;
    UniqueFd stdin_;
    UniqueFd stdout_;
    UniqueFd stderr_;
    UniqueFd pidfd_;                    // readable once the child ends; closed once reaped
    std::optional<ExitStatus> status_;  // set once reaped
    bool had_stdin_pipe_ = false;       // close() waits eof_grace only then
    bool process_group_ = false;        // the child leads group pid_
    std::chrono::milliseconds eof_grace_{0};
    std::chrono::milliseconds terminate_grace_{0};
    ResourceMonitor* monitor_ = nullptr;
};

}  // namespace scopeflow
