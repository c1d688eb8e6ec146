#include <utility>

#include <scopeflow/core/error.h>

namespace scopeflow {

Error::Error(const std::string& message)
    : std::runtime_error(message),
      suppressed_(std::make_shared<std::vector<std::exception_ptr>>()) {}

const std::vector<std::exception_ptr>& Error::suppressed() const noexcept {
    return *suppressed_;
}

void Error::add_suppressed(std::exception_ptr e) {
    if (e) {
        suppressed_->push_back(std::move(e));
    }
}

SystemError::SystemError(int error_number, const std::string& what)
    : Error(what + ": " + errno_text(error_number)),
      code_(error_number, std::generic_category()) {}

std::string errno_text(int error_number) {
    return std::generic_category().message(error_number);
}

ConfigError::ConfigError(std::string where, const std::string& message)
    : Error(where.empty() ? message : where + ": " + message),
      where_(std::move(where)),
      text_(message) {}

namespace {

std::string close_error_message(const std::vector<CleanupFailure>& failures) {
    if (failures.empty()) {
        return "close failed";
    }
    std::string m = describe(failures.front());
    if (failures.size() > 1) {
        m += " (+" + std::to_string(failures.size() - 1) + " more)";
    }
    return m;
}

void describe_into(std::string& out, const std::exception_ptr& e, int depth) {
    out += message_of(e);
    try {
        std::rethrow_exception(e);
    } catch (const Error& err) {
        for (const auto& s : err.suppressed()) {
            out += '\n';
            out.append(static_cast<std::size_t>(depth + 1) * 2, ' ');
            out += "suppressed: ";
            describe_into(out, s, depth + 1);
        }
    } catch (...) {  // NOLINT(bugprone-empty-catch): nothing attached to foreign exceptions
    }
}

}  // namespace

CloseError::CloseError(std::vector<CleanupFailure> failures)
    : Error(close_error_message(failures)),
      failures_(std::make_shared<const std::vector<CleanupFailure>>(std::move(failures))) {
    for (std::size_t i = 1; i < failures_->size(); ++i) {
        // Wrapped so each attached error still names its scope and resource.
        add_suppressed(std::make_exception_ptr(CloseError({(*failures_)[i]})));
    }
}

std::string message_of(const std::exception_ptr& e) {
    if (!e) {
        return "<no error>";
    }
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        return ex.what();
    } catch (...) {
        return "<non-standard exception>";
    }
}

std::string describe(const std::exception_ptr& e) {
    std::string out;
    describe_into(out, e, 0);
    return out;
}

std::string describe(const CleanupFailure& f) {
    std::string s = f.scope_path + ": release of '" + f.resource + "'";
    if (!f.site.empty()) {
        s += " (acquired at " + f.site + ")";
    }
    s += f.stuck ? " got stuck: " : " failed: ";
    s += message_of(f.error);
    return s;
}

}  // namespace scopeflow
