#include <array>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <curl/curl.h>

#include <scopeflow/core/error.h>
#include <scopeflow/http/errors.h>
#include <scopeflow/http/session.h>
#include <scopeflow/core/secret.h>
#include <scopeflow/core/version.h>

namespace scopeflow::http {
namespace {

// curl_global_init is not thread-safe on every build; a function-local static makes the one
// call race-free. There is no curl_global_cleanup: sessions may be closed during exit.
void ensure_curl_global() {
    static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) {
        throw Error(std::string("libcurl: global initialisation failed: ") +
                    curl_easy_strerror(rc));
    }
}

struct CurlDeleter {
    void operator()(CURL* c) const noexcept { curl_easy_cleanup(c); }
};
struct SlistDeleter {
    void operator()(curl_slist* s) const noexcept { curl_slist_free_all(s); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

void append(Slist& list, const std::string& line) {
    curl_slist* next = curl_slist_append(list.get(), line.c_str());
    if (next == nullptr) {
        throw std::bad_alloc();
    }
    (void)list.release();  // now owned by `next`
    list.reset(next);
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() &&
           (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
        s.remove_suffix(1);
    }
    return s;
}

enum class Failure { transient, too_large, tls, config };

Failure classify(CURLcode rc, bool too_large) {
    if (too_large || rc == CURLE_FILESIZE_EXCEEDED) {
        return Failure::too_large;
    }
    switch (rc) {
        case CURLE_URL_MALFORMAT:
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_NOT_BUILT_IN:
        case CURLE_BAD_FUNCTION_ARGUMENT:
            return Failure::config;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_ENGINE_NOTFOUND:
        case CURLE_SSL_ENGINE_SETFAILED:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_INVALIDCERTSTATUS:
        case CURLE_SSL_CRL_BADFILE:
        case CURLE_USE_SSL_FAILED:
            return Failure::tls;
        default:
            return Failure::transient;  // refused, reset, timed out, nothing received, ...
    }
}

}  // namespace

struct Session::Impl {
    std::shared_ptr<const ClientOptions> options;
    std::unique_ptr<CURL, CurlDeleter> curl;
    std::array<char, CURL_ERROR_SIZE> errbuf{};
    std::string user_agent;
    bool broken = false;
    std::uint64_t connections = 0;
    std::uint64_t responses = 0;
    // The transfer in progress.
    Response* out = nullptr;
    bool too_large = false;

    static std::size_t on_body(char* data, std::size_t size, std::size_t n, void* self) noexcept {
        auto* impl = static_cast<Impl*>(self);
        const std::size_t bytes = size * n;
        if (impl->out->body.size() + bytes > impl->options->max_response_bytes) {
            impl->too_large = true;
            return 0;  // aborts the transfer with CURLE_WRITE_ERROR
        }
        try {
            impl->out->body.append(data, bytes);
        } catch (...) {
            return 0;
        }
        return bytes;
    }

    static std::size_t on_header(char* data, std::size_t size, std::size_t n, void* self) noexcept {
        auto* impl = static_cast<Impl*>(self);
        const std::size_t bytes = size * n;
        const std::string_view line(data, bytes);
        try {
            if (line.starts_with("HTTP/")) {
                impl->out->headers.clear();  // a new response (after a 100 Continue)
            } else if (const auto colon = line.find(':'); colon != std::string_view::npos) {
                impl->out->headers.add(std::string(trim(line.substr(0, colon))),
                                       std::string(trim(line.substr(colon + 1))));
            }
        } catch (...) {
            return 0;
        }
        return bytes;
    }

    std::string describe(const Request& request, const std::string& url) const {
        return "http '" + options->name + "': " + request.method + " " + safe_url(url);
    }
};

Session::Session() noexcept = default;
Session::Session(std::unique_ptr<Impl> impl) noexcept
    : impl_(std::move(impl)) {}
Session::Session(Session&& other) noexcept = default;
Session& Session::operator=(Session&& other) noexcept {
    if (this != &other) {
        close();
        impl_ = std::move(other.impl_);
    }
    return *this;
}
Session::~Session() {
    close();
}

Session Session::open(std::shared_ptr<const ClientOptions> options) {
    ensure_curl_global();
    auto impl = std::make_unique<Impl>();
    impl->options = std::move(options);
    impl->curl.reset(curl_easy_init());
    if (!impl->curl) {
        throw Error("http '" + impl->options->name + "': curl_easy_init failed");
    }
    impl->user_agent = impl->options->user_agent.empty()
                           ? "scopeflow/" + std::string(kVersionString)
                           : impl->options->user_agent;
    return Session(std::move(impl));
}

void Session::close() noexcept {
    if (impl_) {
        impl_->curl.reset();  // curl_easy_cleanup: closes its connections
    }
}

bool Session::is_open() const noexcept {
    return impl_ && impl_->curl;
}
bool Session::broken() const noexcept {
    return !is_open() || impl_->broken;
}
void Session::mark_broken() noexcept {
    if (impl_) {
        impl_->broken = true;
    }
}
std::uint64_t Session::connections_opened() const noexcept {
    return impl_ ? impl_->connections : 0;
}
std::uint64_t Session::responses() const noexcept {
    return impl_ ? impl_->responses : 0;
}
const ClientOptions& Session::options() const noexcept {
    return *impl_->options;
}

std::string Session::resolve(std::string_view target) const {
    const auto& base = impl_->options->base_url;
    if (base && target.starts_with('/')) {
        std::string_view b(*base);
        while (b.ends_with('/')) {
            b.remove_suffix(1);
        }
        return std::string(b) + std::string(target);
    }
    return std::string(target);
}

Response Session::perform(const Request& request) {
    if (!is_open()) {
        throw Error("http session is closed");
    }
    Impl& s = *impl_;
    const ClientOptions& o = *s.options;
    CURL* h = s.curl.get();
    const std::string url = resolve(request.target);

    Response response;
    s.out = &response;
    s.too_large = false;
    s.errbuf[0] = '\0';

    // A reset keeps the handle's live connections, DNS and TLS session caches.
    curl_easy_reset(h);
    Slist headers;
    for (const auto& hd : o.default_headers) {
        append(headers, hd.name + ": " + hd.value);
    }
    for (const auto& hd : request.headers) {
        append(headers, hd.name + ": " + hd.value);
    }
    if (!o.bearer_token.empty()) {
        append(headers, "Authorization: Bearer " + o.bearer_token.reveal());
    }
    append(headers, "Expect:");  // no 100-continue round trip before a body

    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, s.errbuf.data());
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.connect_timeout.count()));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(o.total_timeout.count()));
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, o.verify_tls ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, o.verify_tls ? 2L : 0L);
    if (!o.ca_file.empty()) {
        curl_easy_setopt(h, CURLOPT_CAINFO, o.ca_file.c_str());
    }
    curl_easy_setopt(h, CURLOPT_USERAGENT, s.user_agent.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Impl::on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &Impl::on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &s);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(o.max_response_bytes));
    if (!o.reuse_connections) {
        curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
        curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
    }
    if (request.method == "GET") {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (request.method == "HEAD") {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else {
        if (request.method != "POST") {
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
        }
        if (request.method == "POST" || !request.body.empty()) {
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                             static_cast<curl_off_t>(request.body.size()));
        }
    }

    const CURLcode rc = curl_easy_perform(h);
    s.out = nullptr;
    long connects = 0;
    if (curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK && connects > 0) {
        s.connections += static_cast<std::uint64_t>(connects);
    }
    if (rc != CURLE_OK) {
        s.broken = true;  // whatever happened, the connection state is unknown: do not reuse
        const std::string detail = s.errbuf[0] != '\0' ? std::string(s.errbuf.data())
                                                       : std::string(curl_easy_strerror(rc));
        const std::string what = s.describe(request, url);
        switch (classify(rc, s.too_large)) {
            case Failure::too_large:
                throw ResponseTooLargeError(what + ": response larger than max_response_bytes (" +
                                                std::to_string(o.max_response_bytes) + ")",
                                            o.max_response_bytes);
            case Failure::tls:
                throw Error(redact(what + ": TLS failure: " + detail, o.bearer_token));
            case Failure::config:
                throw Error(redact(what + ": " + detail, o.bearer_token));
            case Failure::transient:
                throw TransientError(redact(what + ": " + detail, o.bearer_token));
        }
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    response.status = static_cast<int>(status);
    ++s.responses;
    return response;
}

}  // namespace scopeflow::http
