// Plugins: stage types loaded from shared libraries.
//
// A plugin exports one C symbol, `scopeflow_plugin_v1`, returning a PluginInfo whose
// abi_version must equal kPluginAbiVersion (plugins are built against the same scopeflow
// headers; the version changes whenever Stage's layout or PluginInfo does). Its
// register_stages() adds factories to the registry.
//
// Lifetime: the dlopen handle is a resource of the scope given to load_plugin() (the service
// scope), recorded in its ledger as a `library`. Every stage a plugin's factory creates holds the
// library too, so the code is unloaded (dlclose) only after the scope has closed *and* the last
// stage from it is destroyed, never under a running stage.
//
//   scopeflow::load_plugin("/opt/scopeflow/plugins/libupper.so", registry, service);
//   auto stage = registry.create("upper", options, "graph.stages.shout");
//
// The host executable must export scopeflow's symbols to the plugin (CMake: ENABLE_EXPORTS on
// the executable, and link scopeflow::core whole, see tests/CMakeLists.txt).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <scopeflow/engine/stage_registry.h>

namespace scopeflow {

class Scope;

// 2: Stage gained on_flush_batch(BatchContext&) (end-of-batch failures of single events).
// 3: Stage gained declare_drops() / may_drop() (a bool member).
// 4: StageRegistry::add takes an OptionsSchema (the options, declared as data) and a factory
//    of ParsedOptions.
inline constexpr std::uint32_t kPluginAbiVersion = 4;

struct PluginInfo {
    std::uint32_t abi_version;  // kPluginAbiVersion the plugin was built with
    const char* name;           // shown in `scopeflow stages`
    void (*register_stages)(StageRegistry& registry);
};

// The entry point a plugin defines:  extern "C" const PluginInfo* scopeflow_plugin_v1();
using PluginEntry = const PluginInfo* (*)();
inline constexpr const char* kPluginEntrySymbol = "scopeflow_plugin_v1";

// Loads the plugin at `path` and registers its stages. Throws ConfigError naming the path for a
// missing file, a missing entry point or an ABI mismatch.
void load_plugin(const std::string& path, StageRegistry& registry, Scope& owner);

}  // namespace scopeflow
