#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <string_view>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <scopeflow/core/resource_kind.h>
#include <scopeflow/core/resource_monitor.h>
#include <scopeflow/process/child_process.h>

#include "process/deadline.h"

namespace scopeflow {
namespace {

using namespace std::chrono_literals;

// How long a process may take to disappear after SIGKILL before close() gives up on it. Only a
// process in uninterruptible sleep (a hung NFS mount, a stuck driver) takes this long.
constexpr auto kReapAfterKill = 5s;
// Where pidfds are missing, wait_for() polls waitpid() at most this far apart.
constexpr auto kMaxPollInterval = 10ms;

bool is_exhaustion(int error) {
    return error == EAGAIN || error == ENOMEM || error == EMFILE || error == ENFILE;
}

// Throws TransientError for exhaustion (retrying later may work), SpawnError otherwise.
[[noreturn]] void throw_spawn_failure(const std::string& program,
                                      int error,
                                      const std::string& what) {
    if (is_exhaustion(error)) {
        throw TransientError("spawn '" + program + "': " + what + ": " + errno_text(error));
    }
    throw SpawnError(program, error, what + ": " + errno_text(error));
}

ExitStatus from_wait_status(int status) {
    if (WIFEXITED(status)) {
        return {.exit_code = WEXITSTATUS(status)};
    }
    if (WIFSIGNALED(status)) {
        return {.exit_code = -1, .signal = WTERMSIG(status)};
    }
    return {};
}

// --- the child's side ------------------------------------------------------------------------
//
// Between fork() and execve() the child is a copy of a possibly multi-threaded process in which
// only this thread exists: another thread may have held the malloc lock (or any other) at the
// fork. So the child runs only async-signal-safe system calls on data prepared beforehand.

// The step that failed in the child, sent with errno over the report pipe.
enum class ChildStep : int { setpgid = 1, pdeathsig, chdir, stdio, exec };

struct ChildFailure {
    int step = 0;
    int error = 0;
};

struct ChildPlan {
    const char* path = nullptr;            // what to execve()
    char* const* argv = nullptr;           // null-terminated
    char* const* envp = nullptr;           // null-terminated
    const char* working_dir = nullptr;     // null: the parent's
    std::array<int, 3> stdio{-1, -1, -1};  // descriptors to become 0, 1, 2; -1: inherited
    int report_fd = -1;  // CLOEXEC write end: silent on success, ChildFailure if not
    pid_t parent = 0;
    bool die_with_parent = false;
    bool new_process_group = false;
    unsigned max_fd = 0;  // highest descriptor to close where close_range(2) is missing
};

[[noreturn]] void fail_in_child(int report_fd, ChildStep step) noexcept {
    const ChildFailure failure{static_cast<int>(step), errno};
    // Eight bytes to a pipe are written whole or not at all; nothing more to do if it fails.
    while (::write(report_fd, &failure, sizeof failure) < 0 && errno == EINTR) {
    }
    ::_exit(127);
}

void close_range_in_child(unsigned first, unsigned last, unsigned max_fd) noexcept {
    if (first > last || ::close_range(first, last, 0) == 0) {
        return;
    }
    for (unsigned fd = first; fd <= std::min(last, max_fd); ++fd) {  // kernels before 5.9
        ::close(static_cast<int>(fd));
    }
}

[[noreturn]] void run_child(const ChildPlan& plan) noexcept {
    // The parent blocked every signal around fork(), so no handler of the parent can run here.
    // Reset all dispositions: exec resets handled signals but keeps ignored ones ignored, and a
    // service that ignores SIGPIPE must not pass that on.
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    sigemptyset(&default_action.sa_mask);
    for (int sig = 1; sig < NSIG; ++sig) {
        if (sig != SIGKILL && sig != SIGSTOP) {
            ::sigaction(sig, &default_action, nullptr);  // fails harmlessly for glibc's own
        }
    }
    int report = plan.report_fd;
    if (plan.new_process_group && ::setpgid(0, 0) != 0) {
        fail_in_child(report, ChildStep::setpgid);
    }
    if (plan.die_with_parent) {
        if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
            fail_in_child(report, ChildStep::pdeathsig);
        }
        // The parent may have died before prctl(); then nothing would ever send the signal.
        if (::getppid() != plan.parent) {
            ::_exit(127);
        }
    }
    if (plan.working_dir != nullptr && ::chdir(plan.working_dir) != 0) {
        fail_in_child(report, ChildStep::chdir);
    }
    // Lift every descriptor we still need above 2 first, so that no dup2() below overwrites one
    // (a parent started with stdin closed gets pipes on 0..2).
    if (report < 3) {
        report = ::fcntl(report, F_DUPFD_CLOEXEC, 3);
        if (report < 0) {
            ::_exit(127);
        }
    }
    std::array<int, 3> source = plan.stdio;
    for (int& fd : source) {
        if (fd >= 0 && fd < 3) {
            fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
            if (fd < 0) {
                fail_in_child(report, ChildStep::stdio);
            }
        }
    }
    for (int target = 0; target < 3; ++target) {
        // dup2() clears FD_CLOEXEC on the target: 0..2 are the only descriptors exec keeps.
        const int from = source[static_cast<std::size_t>(target)];
        if (from >= 0 && ::dup2(from, target) < 0) {
            fail_in_child(report, ChildStep::stdio);
        }
    }
    // Anything else open here (descriptors another library opened without O_CLOEXEC) goes. The
    // report pipe stays until exec closes it: that close is the parent's signal of success.
    const auto report_u = static_cast<unsigned>(report);
    close_range_in_child(3, report_u - 1, plan.max_fd);
    close_range_in_child(report_u + 1, ~0U, plan.max_fd);

    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);  // NOLINT(concurrency-mt-unsafe): one thread
    ::execve(plan.path, plan.argv, plan.envp);
    fail_in_child(report, ChildStep::exec);
}

// --- the parent's preparation ----------------------------------------------------------------

void require_no_nul(const std::string& s, const char* field) {
    if (s.find('\0') != std::string::npos) {
        throw ConfigError(field, "contains a NUL byte");
    }
}

void validate(const ChildOptions& options) {
    if (options.argv.empty() || options.argv.front().empty()) {
        throw ConfigError("ChildOptions.argv", "no program given");
    }
    for (const std::string& arg : options.argv) {
        require_no_nul(arg, "ChildOptions.argv");
    }
    for (const std::string& kv : options.env_add) {
        require_no_nul(kv, "ChildOptions.env_add");
        const std::size_t eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) {
            throw ConfigError("ChildOptions.env_add", "'" + kv + "' is not of the form K=V");
        }
    }
    for (const std::string& name : options.env_pass) {
        require_no_nul(name, "ChildOptions.env_pass");
        if (name.empty() || name.find('=') != std::string::npos) {
            throw ConfigError("ChildOptions.env_pass", "'" + name + "' is not a variable name");
        }
    }
    require_no_nul(options.working_dir, "ChildOptions.working_dir");
}

// argv[0] as is when it contains '/', else the first executable regular file of that name in an
// absolute PATH directory. Resolved here, not in the child, so a miss needs no fork.
std::string resolve_program(const std::string& name) {
    if (name.find('/') != std::string::npos) {
        return name;
    }
    const char* env_path = ::getenv("PATH");  // NOLINT(concurrency-mt-unsafe): read-only use
    const std::string search = env_path != nullptr ? env_path : "/bin:/usr/bin";
    int error = ENOENT;
    std::size_t begin = 0;
    while (begin <= search.size()) {
        const std::size_t end = std::min(search.find(':', begin), search.size());
        std::string candidate = search.substr(begin, end - begin);
        begin = end + 1;
        if (candidate.empty() || candidate.front() != '/') {
            continue;  // relative entries would run whatever sits in the working directory
        }
        if (candidate.back() != '/') {
            candidate += '/';
        }
        candidate += name;
        struct stat st {};
        if (::stat(candidate.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
            continue;
        }
        if (::faccessat(AT_FDCWD, candidate.c_str(), X_OK, AT_EACCESS) == 0) {
            return candidate;
        }
        error = EACCES;
    }
    throw_spawn_failure(
        name, error,
        (error == EACCES ? "not executable anywhere in PATH (" : "not in PATH (") + search + ")");
}

// The child's environment: the parent's whole one, or only the variables kChildBaseEnvironment
// and options.env_pass name (those the parent has); then options.env_add (an added K replaces
// every K=).
std::vector<std::string> child_environment(const ChildOptions& options) {
    std::vector<std::string> env;
    const auto passed = [&](std::string_view entry) {
        const std::string_view name = entry.substr(0, entry.find('='));
        return std::find(kChildBaseEnvironment.begin(), kChildBaseEnvironment.end(), name) !=
                   kChildBaseEnvironment.end() ||
               std::find(options.env_pass.begin(), options.env_pass.end(), name) !=
                   options.env_pass.end();
    };
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        if (options.inherit_environment || passed(*e)) {
            env.emplace_back(*e);
        }
    }
    for (const std::string& kv : options.env_add) {
        const std::string_view key(kv.data(), kv.find('=') + 1);  // "K=", validated
        std::erase_if(env, [&](const std::string& e) { return e.starts_with(key); });
        env.push_back(kv);
    }
    return env;
}

// Null-terminated char* arrays over strings that outlive the exec.
std::vector<char*> pointers(const std::vector<std::string>& strings) {
    std::vector<char*> out;
    out.reserve(strings.size() + 1);
    for (const std::string& s : strings) {
        out.push_back(const_cast<char*>(s.c_str()));  // execve() does not write through them
    }
    out.push_back(nullptr);
    return out;
}

struct Pipe {
    UniqueFd read;
    UniqueFd write;
};

Pipe make_pipe(const std::string& program) {
    std::array<int, 2> fds{-1, -1};
    if (::pipe2(fds.data(), O_CLOEXEC) != 0) {
        throw_spawn_failure(program, errno, "pipe2");
    }
    return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

unsigned max_fd_for_fallback() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) {
        return 1U << 20U;
    }
    return static_cast<unsigned>(std::min<rlim_t>(limit.rlim_cur, 1U << 20U));
}

// Reads until `size` bytes or end-of-file; returns how many arrived.
std::size_t read_report(int fd, ChildFailure& failure) {
    auto* out = reinterpret_cast<char*>(&failure);
    std::size_t got = 0;
    while (got < sizeof failure) {
        const ssize_t n = ::read(fd, out + got, sizeof failure - got);
        if (n > 0) {
            got += static_cast<std::size_t>(n);
        } else if (n == 0 || errno != EINTR) {
            break;
        }
    }
    return got;
}

std::string describe_step(int step, const ChildPlan& plan) {
    switch (static_cast<ChildStep>(step)) {
        case ChildStep::setpgid:
            return "setpgid";
        case ChildStep::pdeathsig:
            return "prctl(PR_SET_PDEATHSIG)";
        case ChildStep::chdir:
            return "chdir '" + std::string(plan.working_dir) + "'";
        case ChildStep::stdio:
            return "redirecting stdin/stdout/stderr";
        case ChildStep::exec:
            return "exec '" + std::string(plan.path) + "'";
    }
    return "set-up before exec";
}

int open_pidfd(pid_t pid) noexcept {
    // Linux 5.3+; the descriptor is always close-on-exec. Without it, waits poll instead.
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

}  // namespace

std::string ExitStatus::describe() const {
    if (signal > 0) {
        const char* abbrev = ::sigabbrev_np(signal);
        return abbrev != nullptr ? "killed by SIG" + std::string(abbrev)
                                 : "killed by signal " + std::to_string(signal);
    }
    if (exit_code >= 0) {
        return "exited with " + std::to_string(exit_code);
    }
    return "exit status unknown";
}

SpawnError::SpawnError(std::string program, int error_code, const std::string& message)
    : ConfigError("spawn '" + program + "'", message),
      program_(std::move(program)),
      error_code_(error_code) {}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      program_(std::move(other.program_)),
      stdin_(std::move(other.stdin_)),
      stdout_(std::move(other.stdout_)),
      stderr_(std::move(other.stderr_)),
      pidfd_(std::move(other.pidfd_)),
      status_(std::exchange(other.status_, std::nullopt)),
      had_stdin_pipe_(other.had_stdin_pipe_),
      process_group_(other.process_group_),
      eof_grace_(other.eof_grace_),
      terminate_grace_(other.terminate_grace_),
      monitor_(other.monitor_) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
    if (this != &other) {
        close_quietly();
        pid_ = std::exchange(other.pid_, -1);
        program_ = std::move(other.program_);
        stdin_ = std::move(other.stdin_);
        stdout_ = std::move(other.stdout_);
        stderr_ = std::move(other.stderr_);
        pidfd_ = std::move(other.pidfd_);
        status_ = std::exchange(other.status_, std::nullopt);
        had_stdin_pipe_ = other.had_stdin_pipe_;
        process_group_ = other.process_group_;
        eof_grace_ = other.eof_grace_;
        terminate_grace_ = other.terminate_grace_;
        monitor_ = other.monitor_;
    }
    return *this;
}

ChildProcess::~ChildProcess() {
    close_quietly();
}

ChildProcess::ChildProcess(pid_t pid, const ChildOptions& options) noexcept
    : pid_(pid),
      had_stdin_pipe_(options.pipe_stdin),
      process_group_(options.new_process_group),
      eof_grace_(options.eof_grace),
      terminate_grace_(options.terminate_grace),
      monitor_(options.monitor) {}

ChildProcess ChildProcess::spawn(const ChildOptions& options) {
    validate(options);
    const std::string& program = options.argv.front();

    // Everything the child touches is allocated now: after fork() it must not allocate.
    const std::string path = resolve_program(program);
    const std::vector<std::string> env = child_environment(options);
    const std::vector<char*> argv = pointers(options.argv);
    const std::vector<char*> envp = pointers(env);
    ChildProcess child(-1, options);
    child.program_ = program;

    Pipe in;
    Pipe out;
    Pipe err;
    UniqueFd null_input;
    if (options.pipe_stdin) {
        in = make_pipe(program);
    } else {
        const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            throw_spawn_failure(program, errno, "open /dev/null");
        }
        null_input = UniqueFd(fd);
    }
    if (options.pipe_stdout) {
        out = make_pipe(program);
    }
    if (options.pipe_stderr) {
        err = make_pipe(program);
    }
    Pipe report = make_pipe(program);

    ChildPlan plan;
    plan.path = path.c_str();
    plan.argv = argv.data();
    plan.envp = envp.data();
    plan.working_dir = options.working_dir.empty() ? nullptr : options.working_dir.c_str();
    plan.stdio[0] = options.pipe_stdin ? in.read.get() : null_input.get();
    plan.stdio[1] = out.write.get();  // -1 when not piped: inherited
    plan.stdio[2] = err.write.get();
    plan.report_fd = report.write.get();
    plan.parent = ::getpid();
    plan.die_with_parent = options.die_with_parent;
    plan.new_process_group = options.new_process_group;
    plan.max_fd = max_fd_for_fallback();

    sigset_t all;
    sigset_t previous;
    sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &previous);
    const pid_t pid = ::fork();
    if (pid == 0) {
        run_child(plan);
    }
    const int fork_error = errno;
    ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    if (pid < 0) {
        throw_spawn_failure(program, fork_error, "fork");
    }
    child.pid_ = pid;  // from here on, any exit from this function reaps it

    // The child's ends are the child's now. The report pipe's write end must go before reading:
    // end-of-file on it is how a successful exec shows.
    in.read = UniqueFd();
    out.write = UniqueFd();
    err.write = UniqueFd();
    null_input = UniqueFd();
    report.write = UniqueFd();

    ChildFailure failure;
    if (read_report(report.read.get(), failure) == sizeof failure) {
        try {
            child.wait();         // it is exiting with 127 right now
        } catch (const Error&) {  // NOLINT(bugprone-empty-catch): reaped elsewhere, gone too
        }
        child.pid_ = -1;
        throw_spawn_failure(program, failure.error, describe_step(failure.step, plan));
    }
    child.stdin_ = std::move(in.write);
    child.stdout_ = std::move(out.read);
    child.stderr_ = std::move(err.read);
    child.pidfd_ = UniqueFd(open_pidfd(pid));
    return child;
}

std::string ChildProcess::label() const {
    return "child process '" + program_ + "' (pid " + std::to_string(pid_) + ")";
}

void ChildProcess::require_process() const {
    if (pid_ < 0) {
        throw Error("ChildProcess: no process (default-constructed or moved-from)");
    }
}

void ChildProcess::close_stdin() {
    stdin_.close();
}

bool ChildProcess::send_signal(int signal) {
    if (pid_ < 0 || status_) {
        return false;
    }
    // A pidfd names this process even if the pid were recycled; kill() is safe too while the
    // child is unreaped, since its pid cannot be reused before then.
    long rc = -1;
    if (pidfd_) {
        rc = ::syscall(SYS_pidfd_send_signal, pidfd_.get(), signal, nullptr, 0);
    }
    if (rc != 0 && (!pidfd_ || errno == ENOSYS)) {
        rc = ::kill(pid_, signal);
    }
    if (rc != 0 && errno != ESRCH) {  // ESRCH: it has exited and awaits reaping
        throw Error(label() + ": sending signal " + std::to_string(signal) + ": " +
                    errno_text(errno));
    }
    return true;
}

void ChildProcess::signal_group(int signal) {
    // The group's id is the child's pid, reserved while the child is unreaped. ESRCH: the child
    // has left its group (setsid), so signal it alone.
    if (process_group_ && ::kill(-pid_, signal) == 0) {
        return;
    }
    send_signal(signal);
}

std::optional<ExitStatus> ChildProcess::reap(bool block) {
    if (status_) {
        return status_;
    }
    require_process();
    int raw = 0;
    for (;;) {
        const pid_t r = ::waitpid(pid_, &raw, block ? 0 : WNOHANG);
        if (r == pid_) {
            status_ = from_wait_status(raw);
            pidfd_ = UniqueFd();
            return status_;
        }
        if (r == 0) {
            return std::nullopt;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == ECHILD) {
            status_ = ExitStatus{};  // gone; never signal this pid again
            pidfd_ = UniqueFd();
            throw Error(label() +
                        " was reaped elsewhere (SIGCHLD ignored, or waitpid(-1) in another part "
                        "of the program): exit status unknown");
        }
        throw Error(label() + ": waitpid: " + errno_text(errno));
    }
}

std::optional<ExitStatus> ChildProcess::try_wait() {
    return reap(false);
}

ExitStatus ChildProcess::wait() {
    return *reap(true);
}

std::optional<ExitStatus> ChildProcess::wait_for(std::chrono::milliseconds timeout) {
    if (auto s = reap(false)) {
        return s;
    }
    const detail::Deadline deadline(timeout);
    std::chrono::milliseconds interval = 1ms;
    for (;;) {
        if (pidfd_) {
            pollfd p{.fd = pidfd_.get(), .events = POLLIN, .revents = 0};
            if (::poll(&p, 1, deadline.poll_timeout()) < 0 && errno != EINTR) {
                throw Error(label() + ": poll on pidfd: " + errno_text(errno));
            }
        } else {
            std::this_thread::sleep_for(std::chrono::milliseconds(deadline.poll_timeout(interval)));
            interval = std::min(interval * 2, std::chrono::milliseconds(kMaxPollInterval));
        }
        if (auto s = reap(false)) {
            return s;
        }
        if (deadline.expired()) {
            return std::nullopt;
        }
    }
}

ExitStatus ChildProcess::terminate(std::chrono::milliseconds grace) {
    if (status_) {
        return *status_;
    }
    require_process();
    signal_group(SIGTERM);
    signal_group(SIGCONT);  // a stopped child must run to act on SIGTERM
    if (auto s = wait_for(grace)) {
        return *s;
    }
    signal_group(SIGKILL);
    if (auto s = wait_for(kReapAfterKill)) {
        return *s;
    }
    throw Error(label() + " is still there 5s after SIGKILL (uninterruptible sleep?): not reaped");
}

ExitStatus ChildProcess::close() {
    if (pid_ < 0 || status_) {
        release_fds();
        return status_.value_or(ExitStatus{});
    }
    try {
        stdin_ = UniqueFd();  // quietly: closing a pipe loses nothing
        std::optional<ExitStatus> s;
        if (had_stdin_pipe_) {
            s = wait_for(eof_grace_);
        }
        if (!s) {
            s = terminate(terminate_grace_);
        }
        release_fds();
        return *s;
    } catch (...) {
        release_fds();
        throw;
    }
}

void ChildProcess::release_fds() noexcept {
    stdin_ = UniqueFd();
    stdout_ = UniqueFd();
    stderr_ = UniqueFd();
    if (status_) {
        pidfd_ = UniqueFd();  // an unreaped child keeps its pidfd so a later close() can wait
    }
}

void ChildProcess::close_quietly() noexcept {
    try {
        close();
    } catch (...) {
        try {
            ResourceMonitor& m = monitor_ != nullptr ? *monitor_ : ResourceMonitor::global();
            m.report({.kind = ReportKind::close_error,
                      .resource = label(),
                      .resource_kind = ResourceKind::process,
                      .message = message_of(std::current_exception())});
        } catch (...) {  // NOLINT(bugprone-empty-catch): out of memory while reporting
        }
    }
}

}  // namespace scopeflow
