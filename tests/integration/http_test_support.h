// Helpers for the HTTP tests: a raw TCP client (for requests libcurl would never send); polling
// waits come from support/eventually.h.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <scopeflow/core/unique_fd.h>

#include "support/eventually.h"

namespace scopeflow::testing {

// A blocking TCP connection to 127.0.0.1:port.
class RawConn {
public:
    explicit RawConn(std::uint16_t port) {
        fd_ = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
        connected_ = ::connect(fd_.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
    }
    [[nodiscard]] bool connected() const { return connected_; }

    bool send(const std::string& data) {
        return ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL) ==
               static_cast<ssize_t>(data.size());
    }

    // Reads until `done(received)` holds, EOF, or `timeout`. Returns what was received.
    std::string read_until(const std::function<bool(const std::string&)>& done,
                           std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!done(buffer_)) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) {
                break;
            }
            pollfd p{.fd = fd_.get(), .events = POLLIN, .revents = 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
                break;
            }
            char buf[4096];
            const ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
            if (n <= 0) {
                eof_ = true;
                break;
            }
            buffer_.append(buf, static_cast<std::size_t>(n));
        }
        return buffer_;
    }
    // Reads to EOF (or timeout).
    std::string read_all(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        return read_until([](const std::string&) { return false; }, timeout);
    }
    // Reads until `count` complete responses (by Content-Length) are in the buffer.
    std::string read_responses(int count,
                               std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        return read_until([count](const std::string& b) { return complete(b) >= count; }, timeout);
    }
    [[nodiscard]] bool eof() const { return eof_; }
    void clear() { buffer_.clear(); }

    // Complete responses at the start of `b` (each with a Content-Length header).
    static int complete(const std::string& b) {
        int n = 0;
        std::size_t pos = 0;
        for (;;) {
            const auto end = b.find("\r\n\r\n", pos);
            if (end == std::string::npos) {
                return n;
            }
            const auto cl = b.find("Content-Length: ", pos);
            std::size_t len = 0;
            if (cl != std::string::npos && cl < end) {
                len = std::stoul(b.substr(cl + 16));
            }
            if (b.size() < end + 4 + len) {
                return n;
            }
            ++n;
            pos = end + 4 + len;
        }
    }

private:
    UniqueFd fd_;
    bool connected_ = false;
    bool eof_ = false;
    std::string buffer_;
};

// A port nothing listens on: bound, then closed (connections to it are refused).
inline std::uint16_t closed_port() {
    UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    ::bind(s.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len);
    return ntohs(a.sin_port);
}

}  // namespace scopeflow::testing
