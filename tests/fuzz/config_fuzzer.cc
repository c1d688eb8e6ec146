// Fuzzes the pipeline file: YAML loading (limits, duplicate keys, ${ENV}), then building the
// pipeline from it with the standard catalog, the path `scopeflow check` takes. Building opens
// nothing (resources connect lazily, stages open at start), so no server is contacted.
//
// A ConfigError (or another scopeflow::Error) is the expected answer to a bad file; any other
// exception escaping, a crash or a sanitizer report is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string_view>

#include <scopeflow/core/error.h>

#include "service/builder.h"
#include "service/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        const scopeflow::service::ServiceConfig cfg =
            scopeflow::service::parse_config(text, "fuzz.yaml");
        const scopeflow::service::Built built = scopeflow::service::build(cfg);
    } catch (const scopeflow::Error&) {
        // A rejected file: what `check` reports.
    } catch (const std::exception& e) {
        std::fprintf(stderr, "unexpected exception: %s\n", e.what());
        std::abort();
    }
    return 0;
}
