// scopeflow: the service binary. For now it answers --version and --help; `run`, `check` and
// `demo` arrive with the pipeline engine and the service (issues 3-5).
#include <cstdio>
#include <cstring>

#include <scopeflow/version.h>

namespace {

constexpr const char* kUsage =
    "usage: scopeflow [--version] [--help]\n"
    "\n"
    "scopeflow runs long-lived event pipelines in which every resource has exactly one owner.\n"
    "This build provides the ownership core (library) only; the service subcommands\n"
    "(run, check, demo, stages) are not built yet.\n"
    "\n"
    "options:\n"
    "  --version   print the version and exit\n"
    "  --help      print this help and exit\n";

}  // namespace

int main(int argc, char** argv) {
    if (argc == 2 && (std::strcmp(argv[1], "--version") == 0 || std::strcmp(argv[1], "-V") == 0)) {
        std::printf("scopeflow %.*s\n", static_cast<int>(scopeflow::kVersionString.size()),
                    scopeflow::kVersionString.data());
        return 0;
    }
    if (argc == 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
        std::fputs(kUsage, stdout);
        return 0;
    }
    std::fputs(kUsage, stderr);
    if (argc > 1) {
        std::fprintf(stderr, "\nscopeflow: unknown argument '%s'\n", argv[1]);
    }
    return 2;
}
