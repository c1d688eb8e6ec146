#include <utility>

#include <dlfcn.h>

#include <scopeflow/core/error.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/engine/plugin.h>

namespace scopeflow {
namespace {

// The one owner of a dlopen handle. Shared by the owning scope and every stage created from the
// plugin; dlclose runs when the last of them lets go.
class PluginLibrary {
public:
    PluginLibrary(void* handle, Ticket ticket)
        : handle_(handle),
          ticket_(std::move(ticket)) {}
    PluginLibrary(const PluginLibrary&) = delete;
    PluginLibrary& operator=(const PluginLibrary&) = delete;
    ~PluginLibrary() {
        if (handle_ != nullptr) {
            ::dlclose(handle_);
        }
    }

private:
    void* handle_;
    Ticket ticket_;  // the ledger's `library` entry ends with the dlclose
};

// Wraps a plugin-made stage so it keeps the library loaded while it exists.
class PluginStage final : public Stage {
public:
    PluginStage(std::unique_ptr<Stage> inner, std::shared_ptr<PluginLibrary> library)
        : Stage(inner->type()),
          inner_(std::move(inner)),
          library_(std::move(library)) {
        for (std::size_t i = 2; i < inner_->actions().size(); ++i) {
            declare_action(inner_->actions()[i]);
        }
    }
    ~PluginStage() override {
        inner_.reset();  // the plugin's code runs here, before the library may go
    }

protected:
    void on_open(Scope& scope, std::size_t workers) override { inner_->open(scope, workers); }
    void on_open_worker(Scope& scope, std::size_t index) override {
        inner_->open_worker(scope, index);
    }
    ActionId on_process(Event& e, TaskContext& t) override { return inner_->process(e, t); }
    void on_flush_batch(BatchContext& batch) override { inner_->end_batch(batch); }
    void on_flush(TaskContext& task) override { inner_->flush(task); }
    void on_finish(Scope& scope) override { inner_->finish(scope); }

private:
    std::unique_ptr<Stage> inner_;
    std::shared_ptr<PluginLibrary> library_;
};

}  // namespace

void load_plugin(const std::string& path, StageRegistry& registry, Scope& owner) {
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        const char* err = ::dlerror();
        throw ConfigError("plugin '" + path + "'",
                          std::string("cannot load: ") + (err != nullptr ? err : "unknown error"));
    }
    auto library =
        std::make_shared<PluginLibrary>(handle, owner.track({path, ResourceKind::library}));
    auto entry = reinterpret_cast<PluginEntry>(::dlsym(handle, kPluginEntrySymbol));
    if (entry == nullptr) {
        throw ConfigError("plugin '" + path + "'",
                          std::string("has no entry point '") + kPluginEntrySymbol + "'");
    }
    const PluginInfo* info = entry();
    if (info == nullptr || info->abi_version != kPluginAbiVersion) {
        throw ConfigError("plugin '" + path + "'",
                          "was built for plugin ABI " +
                              std::to_string(info != nullptr ? info->abi_version : 0) +
                              "; this scopeflow loads ABI " + std::to_string(kPluginAbiVersion));
    }
    // Register into a scratch registry, then re-register each factory wrapped so that the stages
    // it makes hold the library.
    StageRegistry scratch;
    info->register_stages(scratch);
    // The registry holds the library weakly: once the owning scope has closed and no stage
    // from the plugin is left, the code is unloaded and its types refuse to create stages.
    const std::weak_ptr<PluginLibrary> weak = library;
    for (const StageRegistry::Entry* type : scratch.entries()) {
        const std::string name = type->schema.type();
        // The registry keeps the schema's data only: its checks are code in the library, run by
        // the plugin's own registry below while the library is pinned.
        registry.add(
            type->schema.without_checks(),
            [weak, name, path, register_stages = info->register_stages](
                const ParsedOptions& o) -> std::unique_ptr<Stage> {
                std::shared_ptr<PluginLibrary> lib = weak.lock();
                if (!lib) {
                    throw ConfigError(o.where(), "stage type '" + name + "' came from '" + path +
                                                     "', which has been unloaded");
                }
                // Re-registering per create is deliberate: factories and checks registered by
                // the plugin are std::function objects whose code lives in the library. Keeping
                // them in our registry would run plugin code (their destructors) after a
                // dlclose; a plain function pointer is safe to keep, and `local` dies while
                // `lib` pins the library.
                StageRegistry local;
                register_stages(local);
                return std::make_unique<PluginStage>(
                    local.create(name, o.raw(), o.where(), o.name()), std::move(lib));
            },
            path);
    }
    // The scope holds the library as a resource: closed with it (the last stage may outlive it).
    owner.adopt({path + " (handle)", ResourceKind::other}, std::move(library));
}

}  // namespace scopeflow
