// run_pipeline: runs a pipeline file from C++ with the service library (scopeflow::service),
// as `scopeflow run FILE` does: the same logs, admin endpoint, signals, reload and exit report.
//
// usage: run_pipeline FILE                 until the input ends or SIGTERM
//        run_pipeline FILE --stop-after MS  also reloads once and stops after MS milliseconds,
//                                           from another thread (signals left alone)
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include <scopeflow/service/service.h>

int main(int argc, char** argv) {
    if (argc == 2) {
        return scopeflow::service::run_file(argv[1]);
    }
    if (argc != 4 || std::string(argv[2]) != "--stop-after") {
        std::fprintf(stderr, "usage: run_pipeline FILE [--stop-after MS]\n");
        return scopeflow::service::kExitUsage;
    }
    scopeflow::service::Service service({.config_path = argv[1], .handle_signals = false});
    const std::chrono::milliseconds after(std::stoi(argv[3]));
    std::jthread driver([&service, after] {
        std::this_thread::sleep_for(after / 2);
        service.reload();  // as SIGHUP: a second pipeline generation takes over
        std::this_thread::sleep_for(after / 2);
        service.stop();  // as SIGTERM: drain, commit, release everything in reverse
    });
    return service.run();
}
