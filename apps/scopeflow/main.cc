// scopeflow: the service binary. Subcommands: run, check, demo, stages (see --help and
// docs/operations.md for exit codes and signals).
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include <scopeflow/core/version.h>
#include <scopeflow/service/service.h>

#include "service/catalog.h"
#include "service/demo.h"

namespace {

using scopeflow::service::kExitOk;
using scopeflow::service::kExitUsage;

// The types and their options, from the schemas they declare: help text, or with --markdown
// the option reference of docs/configuration.md.
int list_stages(bool markdown) {
    const auto catalog =
        scopeflow::service::standard_catalog(std::make_shared<scopeflow::Resources>());
    const std::string text = markdown ? scopeflow::service::options_reference(catalog)
                                      : scopeflow::service::options_help(catalog);
    std::fputs(text.c_str(), stdout);
    return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "scopeflow runs long-lived event pipelines in which every resource has exactly "
        "one owner.",
        "scopeflow"};
    app.set_version_flag("--version,-V", "scopeflow " + std::string(scopeflow::kVersionString));
    app.require_subcommand(0, 1);
    app.footer(
        "exit codes: 0 ok, 1 pipeline failed, 2 usage, 3 invalid config, 4 leaked "
        "resources, 5 forced shutdown (see docs/operations.md)");

    scopeflow::service::ServiceOptions run_options;
    std::string failures_spec;
    auto* run = app.add_subcommand("run",
                                   "run a pipeline file as a service until its input "
                                   "ends or SIGTERM");
    run->add_option("file", run_options.config_path, "the pipeline file (YAML)")->required();
    run->add_flag("--monitor-resources", run_options.monitor_resources,
                  "live view of pools, scopes, fds, RSS and throughput, every second");
    run->add_option("--simulate-failures", failures_spec,
                    "inject failures (seeded): --simulate-failures=SEED")
        ->expected(0, 1)
        ->default_str("1");

    std::string check_path;
    auto* check = app.add_subcommand("check", "validate a pipeline file without running it");
    check->add_option("file", check_path, "the pipeline file (YAML)")->required();

    scopeflow::service::DemoOptions demo_options;
    std::string demo_failures;
    auto* demo = app.add_subcommand(
        "demo",
        "the seed example end to end: DatabaseReader -> FileProcessor -> ApiUploader -> "
        "Notification, on SQLite and a loopback ingest endpoint, with a leak report");
    demo->add_option("--rows", demo_options.rows, "orders to seed and process")->default_val(5000);
    demo->add_option("--workers", demo_options.workers, "worker threads")->default_val(2);
    demo->add_option("--simulate-failures", demo_failures,
                     "inject DB disconnects, write errors, HTTP 5xx and timeouts, stage "
                     "exceptions (seeded): --simulate-failures=SEED")
        ->expected(0, 1)
        ->default_str("1");
    demo->add_flag("--monitor-resources", demo_options.monitor_resources,
                   "live view of pools, scopes, fds and throughput, every second");
    demo->add_option("--dir", demo_options.directory,
                     "work directory (kept); default: a "
                     "temporary one, removed");
    demo->add_flag("--keep", demo_options.keep, "keep the temporary work directory");
    demo->add_option("--postgres", demo_options.postgres,
                     "use PostgreSQL: host:port/dbname/user (password from $PGPASSWORD)");
    demo->add_option("--postgres-password-env", demo_options.postgres_password_env,
                     "the environment variable holding the PostgreSQL password")
        ->default_val("PGPASSWORD");

    auto* stages = app.add_subcommand("stages",
                                      "list stage, source and resource types with "
                                      "their options");
    bool stages_markdown = false;
    stages->add_flag("--markdown", stages_markdown,
                     "print the option reference of docs/configuration.md (Markdown)");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? kExitOk : kExitUsage;
    }
    if (*run) {
        if (run->count("--simulate-failures") > 0) {
            run_options.simulate_failures = failures_spec.empty() ? "1" : failures_spec;
        }
        return scopeflow::service::Service(run_options).run();
    }
    if (*demo) {
        if (demo->count("--simulate-failures") > 0) {
            demo_options.simulate_failures = demo_failures.empty() ? "1" : demo_failures;
        }
        return scopeflow::service::run_demo(demo_options);
    }
    if (*check) {
        return scopeflow::service::check_file(check_path);
    }
    if (*stages) {
        return list_stages(stages_markdown);
    }
    std::fputs(app.help().c_str(), stdout);
    return kExitOk;
}
