// Runs the pipeline file given as argv[1] with the installed service library; its exit code is
// the service's (0: every event settled, nothing leaked).
#include <scopeflow/service/service.h>

int main(int argc, char** argv) {
    if (argc != 2) {
        return scopeflow::service::kExitUsage;
    }
    return scopeflow::service::run_file(argv[1]);
}
