// The `http` source's options and its registration.
#include <optional>
#include <string>
#include <utility>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <scopeflow/core/error.h>
#include <scopeflow/http/ingest_source.h>

namespace scopeflow::http {
namespace {

struct HostPort {
    std::string host;
    std::uint16_t port = 0;
};

// "127.0.0.1:8080", "[::1]:0", "localhost:9000" (localhost: 127.0.0.1); nullopt otherwise.
// The host must be an address, as the server binds it without resolving names.
std::optional<HostPort> split_address(const std::string& address) {
    const auto colon = address.rfind(':');
    if (colon == std::string::npos) {
        return std::nullopt;
    }
    int port = -1;
    try {
        std::size_t used = 0;
        port = std::stoi(address.substr(colon + 1), &used);
        if (used != address.size() - colon - 1) {
            port = -1;
        }
    } catch (const std::exception&) {
        port = -1;
    }
    if (port < 0 || port > 65535) {
        return std::nullopt;
    }
    std::string host = address.substr(0, colon);
    if (host == "localhost") {
        host = "127.0.0.1";
    }
    std::string bare = host;
    if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']') {
        bare = bare.substr(1, bare.size() - 2);
    }
    in6_addr probe{};
    if (::inet_pton(AF_INET, bare.c_str(), &probe) != 1 &&
        ::inet_pton(AF_INET6, bare.c_str(), &probe) != 1) {
        return std::nullopt;
    }
    return HostPort{host, static_cast<std::uint16_t>(port)};
}

}  // namespace

void register_http_ingest_source(SourceRegistry& registry) {
    registry.add(
        OptionsSchema("http",
                      "events POSTed to an HTTP endpoint; a request is answered once its events "
                      "are processed (200) or not (503: retry)")
            .add({.name = "address",
                  .doc = "host:port to listen on (port 0 picks one; IPv6 as [::1]:8080)",
                  .default_value = "127.0.0.1:8080",
                  .check =
                      [](const ParsedOptions& o, const std::string& where) {
                          if (!split_address(o.string("address"))) {
                              throw ConfigError(where,
                                                "expected host:port (host an IPv4 or IPv6 address, "
                                                "or localhost), got '" +
                                                    o.string("address") + "'");
                          }
                      }})
            .add({.name = "path",
                  .doc = "the endpoint; bodies are a JSON object, JSON lines or an array",
                  .default_value = "/ingest"})
            .add({.name = "max_pending",
                  .kind = OptionKind::integer,
                  .doc = "events queued or in flight before new requests get 503",
                  .default_value = "10000",
                  .unit = "events",
                  .min = 1})
            .add({.name = "max_requests",
                  .kind = OptionKind::integer,
                  .doc = "requests waiting for their events at once",
                  .default_value = "16",
                  .unit = "requests",
                  .min = 1})
            .add({.name = "max_body_bytes",
                  .kind = OptionKind::bytes,
                  .doc = "per request",
                  .default_value = "8MiB",
                  .min = 1}),
        [](const ParsedOptions& o) -> std::unique_ptr<Source> {
            const HostPort at = *split_address(o.string("address"));
            IngestSourceOptions s;
            s.address = at.host;
            s.port = at.port;
            s.path = o.string("path");
            s.max_pending = static_cast<std::size_t>(o.integer("max_pending"));
            s.max_requests = static_cast<std::size_t>(o.integer("max_requests"));
            s.max_body_bytes = static_cast<std::size_t>(o.bytes("max_body_bytes"));
            try {
                return std::make_unique<HttpIngestSource>(std::move(s));
            } catch (const ConfigError& e) {
                // "source.path", "http_server.ingest.address": the option after the first dot.
                throw ConfigError(o.where() + e.where().substr(e.where().find('.')), e.text());
            }
        });
}

}  // namespace scopeflow::http
