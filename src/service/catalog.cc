#include "service/catalog.h"

#include <cstdio>

#include <scopeflow/http/ingest_source.h>
#include <scopeflow/http/stages/http_post_stage.h>
#include <scopeflow/redis/stages/redis_stage.h>
#include <scopeflow/sources/builtin_sources.h>
#include <scopeflow/stages/builtin_stages.h>
#include <scopeflow/stages/sql_stages.h>

#include "service/resource_types.h"

namespace scopeflow::service {
namespace {

// "  name    description\n      option: ...\n" for each type of one registry.
template <typename Registry>
std::string help_of(const char* title, const Registry& registry) {
    std::string out = std::string(title) + "\n";
    for (const auto* e : registry.entries()) {
        char head[64];
        std::snprintf(head, sizeof head, "  %-18s ", e->schema.type().c_str());
        out += head + e->schema.description() + "\n";
        const std::string help = e->schema.help();
        std::size_t start = 0;
        while (start < help.size()) {
            const auto end = help.find('\n', start);
            out += "      " + help.substr(start, end - start) + "\n";
            if (end == std::string::npos) {
                break;
            }
            start = end + 1;
        }
    }
    return out + "\n";
}

template <typename Registry>
std::string reference_of(const char* title, const char* section, const Registry& registry) {
    std::string out = std::string("#### ") + title + "\n\n";
    for (const auto* e : registry.entries()) {
        out +=
            "##### `" + e->schema.type() + "` (" + section + ")\n\n" + e->schema.markdown() + "\n";
    }
    return out;
}

}  // namespace

Catalog standard_catalog(std::shared_ptr<Resources> resources) {
    Catalog c;
    c.resources = std::move(resources);
    register_resource_types(c);
    register_builtin_sources(c.sources, *c.resources);
    http::register_http_ingest_source(c.sources);
    register_builtin_stages(c.stages);
    register_redis_stages(c.stages, *c.resources);
    register_http_stages(c.stages, *c.resources);
    register_sql_stages(c.stages, *c.resources);
    return c;
}

std::string options_help(const Catalog& catalog) {
    return help_of("stages:", catalog.stages) + help_of("sources:", catalog.sources) +
           help_of("resources:", catalog.resource_types);
}

std::string options_reference(const Catalog& catalog) {
    return std::string(kReferenceBegin) + "\n\n" + reference_of("Stages", "stage", catalog.stages) +
           reference_of("Sources", "source", catalog.sources) +
           reference_of("Resource types", "resource", catalog.resource_types) +
           std::string(kReferenceEnd) + "\n";
}

}  // namespace scopeflow::service
