// Child processes: spawned without a shell, talking over pipes, never left a zombie.
//
// Real programs from the base system. /bin/sh -c appears only as the test's way to build a
// misbehaving child; ChildProcess itself never runs a shell.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <scopeflow/core/error.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/process/child_process.h>
#include <scopeflow/process/line_channel.h>

#include "support/eventually.h"
#include "support/leak_check.h"
#include "support/probe.h"

namespace scopeflow {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::count_open_fds;
using Lines = std::vector<std::string>;

// Scheduling slack for timing checks: sanitizer builds on a loaded 2-core machine.
constexpr auto kTolerance = 500ms;

// Children of this process, zombies included (/proc/self/task/*/children, one file per thread).
std::set<pid_t> child_pids() {
    std::set<pid_t> pids;
    DIR* tasks = ::opendir("/proc/self/task");
    if (tasks == nullptr) {
        return pids;
    }
    while (const dirent* t = ::readdir(tasks)) {  // NOLINT(concurrency-mt-unsafe): own DIR*
        if (t->d_name[0] == '.') {
            continue;
        }
        std::ifstream in(std::string("/proc/self/task/") + t->d_name + "/children");
        pid_t pid = 0;
        while (in >> pid) {
            pids.insert(pid);
        }
    }
    ::closedir(tasks);
    return pids;
}

// The state letter from /proc/<pid>/stat ('R', 'S', 'Z', ...), or 0 if there is no such process.
char process_state(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    std::getline(in, stat);
    const std::size_t paren = stat.rfind(')');
    return paren == std::string::npos || paren + 2 >= stat.size() ? '\0' : stat[paren + 2];
}

bool gone_or_zombie(pid_t pid) {
    const char state = process_state(pid);
    return state == '\0' || state == 'Z' || state == 'X';
}

// True when `pid` is no child of ours any more: waitpid says ECHILD, and it is no zombie of ours.
bool fully_reaped(pid_t pid) {
    int status = 0;
    errno = 0;
    const bool echild = ::waitpid(pid, &status, WNOHANG) == -1 && errno == ECHILD;
    return echild && child_pids().count(pid) == 0;
}

// Open descriptors of process `pid`, sorted.
std::vector<int> fds_of(pid_t pid) {
    std::vector<int> fds;
    DIR* dir = ::opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
    if (dir == nullptr) {
        return fds;
    }
    while (const dirent* e = ::readdir(dir)) {  // NOLINT(concurrency-mt-unsafe): own DIR*
        if (e->d_name[0] != '.') {
            fds.push_back(std::stoi(e->d_name));
        }
    }
    ::closedir(dir);
    std::sort(fds.begin(), fds.end());
    return fds;
}

// Every line until end of stream (or until nothing arrives for `quiet`).
Lines read_all(LineChannel& io, std::chrono::milliseconds quiet = 5000ms) {
    Lines lines;
    while (std::optional<std::string> line = io.read_line(quiet)) {
        lines.push_back(std::move(*line));
    }
    return lines;
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

long long ms_of(Clock::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// A child that ignores SIGTERM (and whose sleep inherits that), reporting "ready" once the trap
// is in place.
ChildOptions sigterm_ignoring_child() {
    return {.argv = {"/bin/sh", "-c", "trap '' TERM; echo ready; sleep 30"}};
}

// --- spawning and talking --------------------------------------------------------------------

TEST(ChildProcessTest, EchoRoundTripThroughCat) {
    ChildProcess cat = ChildProcess::spawn({.argv = {"cat"}});
    EXPECT_GT(cat.pid(), 0);
    EXPECT_EQ(cat.program(), "cat");
    LineChannel io{cat};
    io.write_line("hello", 1s);
    io.write_line("", 1s);
    io.write_line("second line", 1s);
    EXPECT_EQ(io.read_line(5s), "hello");
    EXPECT_EQ(io.read_line(5s), "");
    EXPECT_EQ(io.read_line(5s), "second line");

    const auto start = Clock::now();
    const ExitStatus status = cat.close();  // EOF on stdin: cat exits by itself
    EXPECT_TRUE(status.succeeded()) << status.describe();
    EXPECT_LT(Clock::now() - start, kTolerance) << "cat exits on EOF; no signal needed";
}

TEST(ChildProcessTest, ExitCodesAndSignalsAreDescribed) {
    const ExitStatus ok = ChildProcess::spawn({.argv = {"true"}}).wait();
    EXPECT_TRUE(ok.succeeded());
    EXPECT_EQ(ok.describe(), "exited with 0");

    const ExitStatus f = ChildProcess::spawn({.argv = {"/bin/false"}}).wait();
    EXPECT_EQ(f, (ExitStatus{.exit_code = 1}));
    EXPECT_TRUE(f.exited_normally());
    EXPECT_FALSE(f.succeeded());
    EXPECT_EQ(f.describe(), "exited with 1");

    const ExitStatus three = ChildProcess::spawn({.argv = {"/bin/sh", "-c", "exit 3"}}).wait();
    EXPECT_EQ(three.exit_code, 3);
    EXPECT_EQ(three.describe(), "exited with 3");

    const ExitStatus killed = ChildProcess::spawn({.argv = {"/bin/sh", "-c", "kill -9 $$"}}).wait();
    EXPECT_EQ(killed, (ExitStatus{.exit_code = -1, .signal = SIGKILL}));
    EXPECT_FALSE(killed.exited_normally());
    EXPECT_EQ(killed.describe(), "killed by SIGKILL");

    const ExitStatus usr1 =
        ChildProcess::spawn({.argv = {"/bin/sh", "-c", "kill -USR1 $$"}}).wait();
    EXPECT_EQ(usr1.describe(), "killed by SIGUSR1");

    EXPECT_EQ(ExitStatus{}.describe(), "exit status unknown");
}

TEST(ChildProcessTest, TheChildSeesACleanEnvironmentNeverTheParentsSecrets) {
    ASSERT_EQ(::setenv("SCOPEFLOW_TEST_DB_PASSWORD", "hunter2", 1), 0);
    ASSERT_EQ(::setenv("SCOPEFLOW_TEST_PASSED", "yes", 1), 0);
    ChildProcess env = ChildProcess::spawn({.argv = {"env"},
                                            .env_add = {"ADDED=1"},
                                            .env_pass = {"SCOPEFLOW_TEST_PASSED", "UNSET_VAR"}});
    LineChannel io{env};
    const Lines lines = read_all(io);
    EXPECT_TRUE(env.wait().succeeded());
    ::unsetenv("SCOPEFLOW_TEST_DB_PASSWORD");
    ::unsetenv("SCOPEFLOW_TEST_PASSED");
    const std::set<std::string> allowed = {"PATH", "LANG", "LC_ALL", "TZ", "SCOPEFLOW_TEST_PASSED",
                                           "ADDED"};
    for (const std::string& line : lines) {
        EXPECT_EQ(allowed.count(line.substr(0, line.find('='))), 1U)
            << "leaked to the child: " << line;
        EXPECT_EQ(line.find("hunter2"), std::string::npos) << line;
    }
    EXPECT_EQ(std::count(lines.begin(), lines.end(), "SCOPEFLOW_TEST_PASSED=yes"), 1);
    EXPECT_EQ(std::count(lines.begin(), lines.end(), "ADDED=1"), 1);
    if (const char* path = std::getenv("PATH"); path != nullptr) {
        EXPECT_EQ(std::count(lines.begin(), lines.end(), std::string("PATH=") + path), 1);
    }
    EXPECT_THROW((void)ChildProcess::spawn({.argv = {"env"}, .env_pass = {"A=B"}}), ConfigError);

    // A harness may still hand its whole environment on.
    ASSERT_EQ(::setenv("SCOPEFLOW_TEST_HARNESS", "1", 1), 0);
    ChildProcess all = ChildProcess::spawn({.argv = {"env"}, .inherit_environment = true});
    LineChannel all_io{all};
    const Lines every = read_all(all_io);
    ::unsetenv("SCOPEFLOW_TEST_HARNESS");
    EXPECT_EQ(std::count(every.begin(), every.end(), "SCOPEFLOW_TEST_HARNESS=1"), 1);
    EXPECT_TRUE(all.wait().succeeded());
}

TEST(ChildProcessTest, EnvironmentAdditionsAndWorkingDirectoryReachTheChild) {
    ChildProcess env = ChildProcess::spawn(
        {.argv = {"env"}, .env_add = {"SCOPEFLOW_TEST_VAR=42", "PATH=/usr/bin:/bin"}});
    LineChannel io{env};
    const Lines lines = read_all(io);
    EXPECT_EQ(std::count(lines.begin(), lines.end(), "SCOPEFLOW_TEST_VAR=42"), 1);
    EXPECT_EQ(std::count_if(lines.begin(), lines.end(),
                            [](const std::string& l) { return l.starts_with("PATH="); }),
              1)
        << "an added variable replaces the inherited one";
    EXPECT_EQ(std::count(lines.begin(), lines.end(), "PATH=/usr/bin:/bin"), 1);
    EXPECT_TRUE(env.wait().succeeded());

    ChildProcess pwd = ChildProcess::spawn({.argv = {"pwd"}, .working_dir = "/usr"});
    LineChannel pwd_io{pwd};
    EXPECT_EQ(read_all(pwd_io), Lines{"/usr"});
    EXPECT_TRUE(pwd.wait().succeeded());

    // A path with '/' is exec'd as given, after the chdir.
    EXPECT_TRUE(
        ChildProcess::spawn({.argv = {"./true"}, .working_dir = "/bin"}).wait().succeeded());
}

TEST(ChildProcessTest, UnpipedStdinIsDevNull) {
    ChildProcess cat = ChildProcess::spawn({.argv = {"cat"}, .pipe_stdin = false});
    EXPECT_FALSE(cat.stdin_fd().valid());
    LineChannel io{cat};
    EXPECT_EQ(io.read_line(5s), std::nullopt);
    EXPECT_TRUE(io.eof()) << "cat read end-of-file at once";
    EXPECT_TRUE(cat.wait().succeeded());
}

// --- spawn failures --------------------------------------------------------------------------

TEST(ChildProcessTest, MissingProgramThrowsAClearErrorWithoutForking) {
    try {
        (void)ChildProcess::spawn({.argv = {"scopeflow-no-such-program", "--flag"}});
        FAIL() << "spawn succeeded";
    } catch (const SpawnError& e) {
        EXPECT_EQ(e.program(), "scopeflow-no-such-program");
        EXPECT_EQ(e.error_code(), ENOENT);
        EXPECT_TRUE(contains(e.what(), "spawn 'scopeflow-no-such-program'")) << e.what();
        EXPECT_TRUE(contains(e.what(), "not in PATH")) << e.what();
        EXPECT_TRUE(contains(e.what(), "No such file or directory")) << e.what();
    }
    EXPECT_TRUE(child_pids().empty());
}

TEST(ChildProcessTest, ExecFailureIsReportedThroughThePipeAndTheChildIsReaped) {
    try {
        (void)ChildProcess::spawn({.argv = {"/nonexistent/scopeflow-tool"}});
        FAIL() << "spawn succeeded";
    } catch (const SpawnError& e) {
        EXPECT_EQ(e.error_code(), ENOENT);
        EXPECT_STREQ(e.what(),
                     "spawn '/nonexistent/scopeflow-tool': exec '/nonexistent/scopeflow-tool': "
                     "No such file or directory");
    }
    EXPECT_TRUE(child_pids().empty()) << "the failed child was reaped before spawn() threw";

    try {
        (void)ChildProcess::spawn({.argv = {"/etc/passwd"}});  // exists, not executable
        FAIL() << "spawn succeeded";
    } catch (const SpawnError& e) {
        EXPECT_EQ(e.error_code(), EACCES);
        EXPECT_TRUE(contains(e.what(), "Permission denied")) << e.what();
    }
    try {
        (void)ChildProcess::spawn({.argv = {"true"}, .working_dir = "/nonexistent-dir"});
        FAIL() << "spawn succeeded";
    } catch (const SpawnError& e) {
        EXPECT_EQ(e.error_code(), ENOENT);
        EXPECT_TRUE(contains(e.what(), "chdir '/nonexistent-dir'")) << e.what();
    }
    EXPECT_TRUE(child_pids().empty());
}

TEST(ChildProcessTest, InvalidOptionsAreConfigErrors) {
    EXPECT_THROW((void)ChildProcess::spawn({}), ConfigError);
    EXPECT_THROW((void)ChildProcess::spawn({.argv = {""}}), ConfigError);
    EXPECT_THROW((void)ChildProcess::spawn({.argv = {"env"}, .env_add = {"NO_EQUALS"}}),
                 ConfigError);
    EXPECT_THROW((void)ChildProcess::spawn({.argv = {"env"}, .env_add = {"=1"}}), ConfigError);
    EXPECT_THROW((void)ChildProcess::spawn({.argv = {"echo", std::string("a\0b", 3)}}),
                 ConfigError);
    EXPECT_TRUE(child_pids().empty());
}

// --- ending ----------------------------------------------------------------------------------

TEST(ChildProcessTest, ChildIgnoringSigtermIsKilledAfterTheGrace) {
    constexpr auto kEofGrace = 100ms;
    constexpr auto kGrace = 400ms;
    ChildOptions options = sigterm_ignoring_child();
    options.terminate_grace = kGrace;
    options.eof_grace = kEofGrace;
    ChildProcess child = ChildProcess::spawn(options);
    LineChannel io{child};
    ASSERT_EQ(io.read_line(5s), "ready");

    const auto start = Clock::now();
    const ExitStatus status = child.close();
    const auto took = Clock::now() - start;
    std::printf("[ timing ] close(): eof_grace %lldms + terminate_grace %lldms took %lldms\n",
                static_cast<long long>(kEofGrace.count()), static_cast<long long>(kGrace.count()),
                ms_of(took));
    EXPECT_EQ(status.signal, SIGKILL);
    EXPECT_EQ(status.describe(), "killed by SIGKILL");
    EXPECT_GE(took, kEofGrace + kGrace) << "SIGKILL came only after both graces";
    EXPECT_LT(took, kEofGrace + kGrace + kTolerance);
    EXPECT_TRUE(fully_reaped(child.pid()));
}

TEST(ChildProcessTest, TerminateWaitsTheGraceThenKills) {
    constexpr auto kGrace = 300ms;
    ChildProcess child = ChildProcess::spawn(sigterm_ignoring_child());
    LineChannel io{child};
    ASSERT_EQ(io.read_line(5s), "ready");

    const auto start = Clock::now();
    const ExitStatus status = child.terminate(kGrace);
    const auto took = Clock::now() - start;
    std::printf("[ timing ] terminate(%lldms) took %lldms\n",
                static_cast<long long>(kGrace.count()), ms_of(took));
    EXPECT_EQ(status.signal, SIGKILL);
    EXPECT_GE(took, kGrace);
    EXPECT_LT(took, kGrace + kTolerance);
    EXPECT_EQ(child.close(), status);
}

TEST(ChildProcessTest, ChildHonouringSigtermEndsWithoutWaitingTheGrace) {
    ChildProcess child =
        ChildProcess::spawn({.argv = {"sleep", "30"}, .terminate_grace = 10s, .eof_grace = 50ms});
    const auto start = Clock::now();
    const ExitStatus status = child.close();
    EXPECT_EQ(status.describe(), "killed by SIGTERM");
    EXPECT_LT(Clock::now() - start, 50ms + kTolerance);
}

TEST(ChildProcessTest, TerminationReachesTheChildsProcessGroup) {
    ChildProcess child =
        ChildProcess::spawn({.argv = {"/bin/sh", "-c", "trap '' TERM; sleep 30 & echo $!; wait"},
                             .terminate_grace = 200ms,
                             .eof_grace = 0ms});
    LineChannel io{child};
    const std::optional<std::string> line = io.read_line(5s);
    ASSERT_TRUE(line);
    const pid_t grandchild = std::stoi(*line);
    EXPECT_EQ(::getpgid(grandchild), child.pid()) << "the child leads its own group";

    EXPECT_EQ(child.close().signal, SIGKILL);
    // Reparented to init (or a subreaper) when the child died; dead now, perhaps not yet reaped.
    EXPECT_TRUE(testing::eventually([&] { return gone_or_zombie(grandchild); }, 5000ms))
        << "a grandchild ignoring SIGTERM was killed with the group";
}

TEST(ChildProcessTest, CrashedChildIsDetectedReportedAndReplaced) {
    ChildProcess worker = ChildProcess::spawn({.argv = {"cat"}});
    {
        LineChannel io{worker};
        io.write_line("before the crash", 1s);
        ASSERT_EQ(io.read_line(5s), "before the crash");
        EXPECT_EQ(worker.try_wait(), std::nullopt);

        ASSERT_EQ(::kill(worker.pid(), SIGKILL), 0);
        EXPECT_EQ(io.read_line(5s), std::nullopt);
        EXPECT_TRUE(io.eof()) << "its stdout closed";
    }
    std::optional<ExitStatus> status;
    ASSERT_TRUE(
        testing::eventually([&] { return (status = worker.try_wait()).has_value(); }, 5000ms));
    EXPECT_EQ(status->signal, SIGKILL);
    EXPECT_EQ(status->describe(), "killed by SIGKILL");
    EXPECT_TRUE(fully_reaped(worker.pid())) << "try_wait() reaped it";
    EXPECT_EQ(worker.wait(), *status) << "later waits return the same status";
    EXPECT_FALSE(worker.send_signal(SIGTERM)) << "a reaped pid is never signalled";
    EXPECT_EQ(worker.close(), *status);

    worker = ChildProcess::spawn({.argv = {"cat"}});  // the replacement
    LineChannel io{worker};                           // a new child needs a new channel
    io.write_line("after", 1s);
    EXPECT_EQ(io.read_line(5s), "after");
    EXPECT_TRUE(worker.close().succeeded());
}

TEST(ChildProcessTest, DestructorReapsAndLeavesNoZombie) {
    pid_t pid = -1;
    const auto start = Clock::now();
    {
        ChildProcess child = ChildProcess::spawn({.argv = {"sleep", "30"}, .eof_grace = 50ms});
        pid = child.pid();
        ASSERT_FALSE(gone_or_zombie(pid));
    }
    EXPECT_LT(Clock::now() - start, 50ms + kTolerance);
    int status = 0;
    errno = 0;
    EXPECT_EQ(::waitpid(pid, &status, WNOHANG), -1);
    EXPECT_EQ(errno, ECHILD);
    const char state = process_state(pid);
    EXPECT_TRUE(state == '\0' || state != 'Z') << "no zombie left in /proc/" << pid << "/stat";
    EXPECT_TRUE(child_pids().empty());
}

TEST(ChildProcessTest, CloseIsIdempotentAndAnEmptyObjectOwnsNothing) {
    ChildProcess child = ChildProcess::spawn({.argv = {"cat"}});
    const ExitStatus first = child.close();
    EXPECT_TRUE(first.succeeded());
    EXPECT_EQ(child.close(), first);
    EXPECT_EQ(child.status(), first);
    EXPECT_FALSE(child.stdin_fd().valid());
    EXPECT_FALSE(child.stdout_fd().valid());

    ChildProcess moved = ChildProcess::spawn({.argv = {"cat"}});
    const pid_t pid = moved.pid();
    ChildProcess owner = std::move(moved);
    EXPECT_EQ(owner.pid(), pid);
    EXPECT_EQ(moved.pid(), -1);  // NOLINT(bugprone-use-after-move): moved-from is empty
    EXPECT_EQ(moved.close(), ExitStatus{});
    EXPECT_THROW((void)moved.try_wait(), Error);
    EXPECT_TRUE(owner.close().succeeded());

    ChildProcess empty;
    EXPECT_EQ(empty.pid(), -1);
    EXPECT_EQ(empty.close(), ExitStatus{});
    EXPECT_FALSE(empty.send_signal(SIGTERM));
}

// --- descriptor and signal hygiene -----------------------------------------------------------

TEST(ChildProcessTest, ManySpawnsLeaveNoDescriptorsBehind) {
    const int before = count_open_fds();
    for (int i = 0; i < 40; ++i) {
        ChildProcess child = ChildProcess::spawn({.argv = {"true"}, .pipe_stderr = true});
        if (i % 2 == 0) {
            EXPECT_TRUE(child.wait().succeeded());  // reaped; the destructor closes the pipes
        } else {
            EXPECT_TRUE(child.close().succeeded());
        }
    }
    for (int i = 0; i < 10; ++i) {
        EXPECT_THROW((void)ChildProcess::spawn({.argv = {"/nonexistent/x"}}), SpawnError);
    }
    EXPECT_EQ(count_open_fds(), before);
    EXPECT_TRUE(child_pids().empty());
}

TEST(ChildProcessTest, ChildSeesOnlyStdinStdoutAndStderr) {
    // A descriptor opened without O_CLOEXEC, as careless code elsewhere in a program might.
    const int careless = ::open("/dev/null", O_RDONLY);  // NOLINT(android-cloexec-open)
    ASSERT_GE(careless, 0);

    ChildProcess cat = ChildProcess::spawn({.argv = {"cat"}, .pipe_stderr = true});
    LineChannel cat_io{cat};
    cat_io.write_line("settled", 1s);  // past its start-up (which may briefly open locale files)
    ASSERT_EQ(cat_io.read_line(5s), "settled");
    EXPECT_EQ(fds_of(cat.pid()), (std::vector<int>{0, 1, 2}));

    // The same, seen from inside: ls lists its own descriptors, 3 being the directory it reads.
    ChildProcess ls = ChildProcess::spawn({.argv = {"ls", "/proc/self/fd"}});
    LineChannel io{ls};
    EXPECT_EQ(read_all(io), (Lines{"0", "1", "2", "3"}));
    EXPECT_TRUE(ls.wait().succeeded());
    EXPECT_TRUE(cat.close().succeeded());
    ::close(careless);
}

TEST(ChildProcessTest, ChildStartsWithDefaultSignalsAndAnEmptyMask) {
    struct sigaction ignore {};
    struct sigaction previous {};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ignore, &previous);  // as many servers do
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    ::pthread_sigmask(SIG_BLOCK, &usr1, nullptr);

    ChildProcess cat = ChildProcess::spawn({.argv = {"cat", "/proc/self/status"}});
    ::sigaction(SIGPIPE, &previous, nullptr);
    ::pthread_sigmask(SIG_UNBLOCK, &usr1, nullptr);
    LineChannel io{cat};
    const Lines lines = read_all(io);
    EXPECT_TRUE(cat.wait().succeeded());
    EXPECT_EQ(std::count(lines.begin(), lines.end(), "SigIgn:\t0000000000000000"), 1);
    EXPECT_EQ(std::count(lines.begin(), lines.end(), "SigBlk:\t0000000000000000"), 1);
}

// --- threads ---------------------------------------------------------------------------------

TEST(ChildProcessTest, DieWithParentFollowsTheSpawningThread) {
    // PR_SET_PDEATHSIG fires when the *thread* that spawned the child ends: documented, and
    // the reason to spawn from threads that live as long as their children.
    std::optional<ChildProcess> child;
    std::thread([&] { child.emplace(ChildProcess::spawn({.argv = {"sleep", "30"}})); }).join();
    const std::optional<ExitStatus> status = child->wait_for(5s);
    ASSERT_TRUE(status);
    EXPECT_EQ(status->signal, SIGKILL);

    std::thread([&] {
        child.emplace(ChildProcess::spawn(
            {.argv = {"sleep", "30"}, .die_with_parent = false, .eof_grace = 0ms}));
    }).join();
    EXPECT_EQ(child->wait_for(300ms), std::nullopt) << "without die_with_parent it lives on";
    EXPECT_EQ(child->close().signal, SIGTERM);
}

TEST(ChildProcessTest, ConcurrentSpawnsNeverShareDescriptors) {
    // If one child inherited another's stdin write end, that other child would not see EOF at
    // close() and would be terminated after eof_grace instead of exiting 0 at once.
    constexpr int kThreads = 4;
    constexpr int kPerThread = 8;
    std::atomic<int> clean{0};
    std::atomic<long long> slowest_ms{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kPerThread; ++i) {
                ChildProcess cat = ChildProcess::spawn({.argv = {"cat"}, .eof_grace = 10s});
                LineChannel io{cat};
                const std::string msg = std::to_string(t) + "/" + std::to_string(i);
                io.write_line(msg, 1s);
                if (io.read_line(5s) != msg) {
                    continue;
                }
                const auto start = Clock::now();
                const bool ok = cat.close().succeeded();
                const long long took = ms_of(Clock::now() - start);
                long long seen = slowest_ms.load();
                while (took > seen && !slowest_ms.compare_exchange_weak(seen, took)) {
                }
                clean += ok ? 1 : 0;
            }
        });
    }
    for (std::thread& t : threads) {
        t.join();
    }
    EXPECT_EQ(clean.load(), kThreads * kPerThread);
    EXPECT_LT(slowest_ms.load(), 2000) << "every cat saw EOF as soon as its stdin closed";
    EXPECT_TRUE(child_pids().empty());
}

// --- scopes ----------------------------------------------------------------------------------

TEST(ChildProcessTest, ClosingTheScopeReapsAnAdoptedChild) {
    testing::Isolated iso;
    pid_t pid = -1;
    {
        Scope stage("stage", {.monitor = &iso.monitor});
        auto& worker =
            stage.adopt({"worker", ResourceKind::process}, ChildProcess::spawn({.argv = {"cat"}}));
        pid = worker.pid();
        LineChannel io{worker};
        io.write_line("via scope", 1s);
        EXPECT_EQ(io.read_line(5s), "via scope");
        EXPECT_EQ(iso.ledger.live(ResourceKind::process).entries, 1U);

        stage.close();
        EXPECT_TRUE(fully_reaped(pid));
        EXPECT_TRUE(testing::nothing_live(iso.ledger));
    }
    EXPECT_EQ(iso.monitor.count(ReportKind::close_error), 0U);
}

// --- LineChannel -----------------------------------------------------------------------------

TEST(LineChannelTest, ReadLineTimesOutThenDeliversTheLine) {
    ChildProcess cat = ChildProcess::spawn({.argv = {"cat"}});
    LineChannel io{cat};
    constexpr auto kTimeout = 150ms;
    const auto start = Clock::now();
    EXPECT_EQ(io.read_line(kTimeout), std::nullopt);
    const auto took = Clock::now() - start;
    EXPECT_FALSE(io.eof()) << "a timeout, not the end";
    EXPECT_GE(took, kTimeout);
    EXPECT_LT(took, kTimeout + kTolerance);
    EXPECT_EQ(io.read_line(0ms), std::nullopt);

    io.write_line("late", 1s);
    EXPECT_EQ(io.read_line(5s), "late");
    EXPECT_TRUE(cat.close().succeeded());
}

TEST(LineChannelTest, PartialReadsAreBufferedIntoWholeLines) {
    ChildProcess child = ChildProcess::spawn(
        {.argv = {"/bin/sh", "-c", "printf par; sleep 0.3; printf 'tial\\nsecond\\nlast'"}});
    LineChannel io{child};
    ASSERT_TRUE(testing::eventually(
        [&] {
            EXPECT_EQ(io.read_line(10ms), std::nullopt);
            return io.buffered() == 3;
        },
        5000ms))
        << "\"par\" arrived and waits for the rest of its line";
    EXPECT_EQ(io.read_line(5s), "partial");
    EXPECT_EQ(io.read_line(5s), "second");
    EXPECT_EQ(io.read_line(5s), "last") << "an unterminated last line still comes out";
    EXPECT_EQ(io.read_line(5s), std::nullopt);
    EXPECT_TRUE(io.eof());
    EXPECT_TRUE(child.wait().succeeded());
}

TEST(LineChannelTest, WritingToAGoneReaderThrowsWithoutSigpipe) {
    ChildProcess cat = ChildProcess::spawn({.argv = {"cat"}});
    ASSERT_EQ(::kill(cat.pid(), SIGKILL), 0);
    EXPECT_EQ(cat.wait().signal, SIGKILL);
    LineChannel io{cat};
    try {
        io.write_line("nobody reads this", 1s);  // SIGPIPE's default action would end the test
        FAIL() << "write succeeded";
    } catch (const TransientError& e) {
        EXPECT_TRUE(contains(e.what(), "EPIPE")) << e.what();
    }
    sigset_t pending;
    sigemptyset(&pending);
    ::sigpending(&pending);
    EXPECT_EQ(sigismember(&pending, SIGPIPE), 0) << "the SIGPIPE raised was consumed";

    cat.close_stdin();
    EXPECT_THROW(io.write_line("x", 1s), Error);
    EXPECT_THROW(io.write_line("two\nlines", 1s), Error);
}

TEST(LineChannelTest, WriteTimesOutWhenTheReaderDoesNotRead) {
    ChildProcess sleeper = ChildProcess::spawn({.argv = {"sleep", "30"}, .eof_grace = 0ms});
    LineChannel io{sleeper};
    constexpr auto kTimeout = 200ms;
    const auto start = Clock::now();
    EXPECT_THROW(io.write_line(std::string(std::size_t{1} << 20U, 'x'), kTimeout),
                 TransientError);  // a pipe holds 64 KiB
    const auto took = Clock::now() - start;
    EXPECT_GE(took, kTimeout);
    EXPECT_LT(took, kTimeout + kTolerance);
    EXPECT_EQ(sleeper.close().signal, SIGTERM);
}

TEST(LineChannelTest, OverlongLineThrows) {
    ChildProcess head = ChildProcess::spawn({.argv = {"head", "-c", "100", "/dev/zero"}});
    LineChannel io{head, {.max_line = 16}};
    EXPECT_THROW((void)read_all(io), Error);
    EXPECT_TRUE(head.close().succeeded());
}

}  // namespace
}  // namespace scopeflow
