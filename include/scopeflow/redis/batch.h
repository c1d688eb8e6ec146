// redis::Batch: commands queued for one pipelined round trip (Connection::exec).
//
//   redis::Batch b;
//   b.add({"SET", key, value});                 // binary safe: arguments carry their lengths
//   b.add({"INCR", "hits"});
//   std::vector<redis::Reply> replies = conn.exec(b);   // one write, then one reply per command
//   b.clear();                                  // keeps its buffer for the next batch
//
// Each command is encoded at add() time in the server's protocol (RESP: an array of
// length-prefixed bulk strings), so arguments are never parsed or interpolated: NUL bytes, \r\n
// and '%' are data. A batch is independent of any connection and can be sent again.
//
// Thread safety: a value with one owner at a time.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace scopeflow::redis {

class Batch {
public:
    Batch() = default;

    // Queues one command (name first). An empty argument list is ignored.
    Batch& add(std::initializer_list<std::string_view> args) {
        return add(std::span<const std::string_view>(args.begin(), args.size()));
    }
    Batch& add(std::span<const std::string_view> args);

    [[nodiscard]] std::size_t size() const noexcept { return count_; }
    [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
    // The encoded commands (what goes on the wire).
    [[nodiscard]] std::string_view encoded() const noexcept { return buffer_; }
    // Forgets the commands, keeping the buffer's capacity.
    void clear() noexcept {
        buffer_.clear();
        count_ = 0;
    }

private:
    std::string buffer_;
    std::size_t count_ = 0;
};

}  // namespace scopeflow::redis
