#include <cstdlib>
#include <fstream>
#include <sstream>

#include <scopeflow/core/error.h>
#include <scopeflow/core/secret.h>

namespace scopeflow {

Secret::~Secret() {
    // Overwrite through a volatile pointer so the stores are not optimised away.
    volatile char* p = value_.data();
    for (std::size_t i = 0; i < value_.size(); ++i) {
        p[i] = '\0';
    }
}

Secret Secret::from_env(const std::string& name, const std::string& where) {
    const char* v = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe): read at setup
    if (v == nullptr) {
        throw ConfigError(where, "environment variable " + name + " is not set");
    }
    return Secret(std::string(v));
}

Secret Secret::from_file(const std::filesystem::path& path, const std::string& where) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw ConfigError(where, "cannot read secret file " + path.string());
    }
    std::ostringstream content;
    content << in.rdbuf();
    std::string value = std::move(content).str();
    if (in.bad()) {
        throw ConfigError(where, "cannot read secret file " + path.string());
    }
    if (!value.empty() && value.back() == '\n') {
        value.pop_back();
        if (!value.empty() && value.back() == '\r') {
            value.pop_back();
        }
    }
    return Secret(std::move(value));
}

std::string redact(std::string_view text, const Secret& secret) {
    const std::string& s = secret.reveal();
    if (s.size() < 4) {
        return std::string(text);
    }
    std::string out;
    out.reserve(text.size());
    std::size_t pos = 0;
    while (true) {
        const std::size_t hit = text.find(s, pos);
        if (hit == std::string_view::npos) {
            out.append(text.substr(pos));
            return out;
        }
        out.append(text.substr(pos, hit - pos));
        out.append(kRedacted);
        pos = hit + s.size();
    }
}

}  // namespace scopeflow
