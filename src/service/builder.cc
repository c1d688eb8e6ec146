#include "service/builder.h"

#include <utility>

#include <scopeflow/core/error.h>

namespace scopeflow::service {

Built build(const ServiceConfig& cfg) {
    Catalog catalog = standard_catalog(std::make_shared<Resources>());
    return build(cfg, catalog);
}

Built build(const ServiceConfig& cfg, Catalog& catalog) {
    Built out;
    out.resources = catalog.resources;
    out.probes = catalog.probes;
    try {
        for (const Block& r : cfg.resources) {
            catalog.resource_types.create(r.type, r.options, r.path, r.name);
        }
        out.source = catalog.sources.create(cfg.source.type, cfg.source.options, cfg.source.path,
                                            cfg.source.name);
        for (const StageBlock& s : cfg.graph.stages) {
            out.graph.add_stage(s.name, catalog.stages.create(s.type, s.options, s.path, s.name));
        }
        for (const StageBlock& s : cfg.graph.stages) {
            for (const Route& r : s.routes) {
                out.graph.route(s.name, r.action, r.to);
            }
        }
        if (!cfg.graph.entry.empty()) {
            out.graph.set_entry(cfg.graph.entry);
        }
        if (!cfg.graph.dead_letter.empty()) {
            out.graph.set_dead_letter(cfg.graph.dead_letter);
        }
        out.graph.set_max_hops(cfg.graph.max_hops);
        out.graph.validate();
        out.graph.reject_closed_cycles();
    } catch (const ConfigError& e) {
        // The graph names a route "graph.routes.<from>.<action>"; in the file it lives at
        // "graph.stages.<from>.routes.<action>".
        const std::string& w = e.where();
        static constexpr std::string_view kRoutes = "graph.routes.";
        if (w.rfind(kRoutes, 0) == 0) {
            const std::string rest = w.substr(kRoutes.size());
            const auto dot = rest.find('.');
            const std::string path =
                dot == std::string::npos
                    ? "graph.stages." + rest + ".routes"
                    : "graph.stages." + rest.substr(0, dot) + ".routes" + rest.substr(dot);
            throw cfg.lines.located(ConfigError(path, e.text()));
        }
        throw cfg.lines.located(e);
    }
    out.pipeline.workers = cfg.graph.workers;
    out.pipeline.batch_size = cfg.graph.batch_size;
    return out;
}

std::string describe_start_failure(const ServiceConfig& cfg,
                                   const std::string& opening,
                                   const std::exception_ptr& error) {
    if (opening.empty()) {
        return describe(error);
    }
    // A stage or source names the option at fault by its type: "file_sink.directory".
    std::string type = cfg.source.type;
    if (opening != "source") {
        for (const StageBlock& s : cfg.graph.stages) {
            if (opening == s.path) {
                type = s.type;
            }
        }
    }
    try {
        std::rethrow_exception(error);
    } catch (const ConfigError& e) {
        const std::string& w = e.where();
        if (w.size() > type.size() + 1 && w.starts_with(type) && w[type.size()] == '.') {
            return cfg.lines.locate(opening + w.substr(type.size())) + ": " + e.text();
        }
        if (w.starts_with(opening + ".")) {
            return cfg.lines.locate(w) + ": " + e.text();
        }
    } catch (...) {  // NOLINT(bugprone-empty-catch): placed as a whole below
    }
    return cfg.lines.locate(opening) + ": " + describe(error);
}

}  // namespace scopeflow::service
