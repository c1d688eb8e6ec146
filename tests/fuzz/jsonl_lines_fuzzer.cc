// Fuzzes the jsonl source's line handling: the input is written as a file and read to the end
// the way the service reads it (lines cut across read chunks, bad lines turned into
// decode-failed events, offsets acked and committed).
//
// Properties checked:
// - every event the source hands out serializes to JSON that parses again, the dead-letter
//   form of a bad line (its `_raw` text) included;
// - once every event is acked, the committed offset covers the whole file up to its last newline.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#include <scopeflow/event/event.h>
#include <scopeflow/event/event_json.h>
#include <scopeflow/sources/jsonl_file_source.h>
#include <scopeflow/core/scope.h>

namespace {

std::string work_dir() {
    static const std::string dir = [] {
        std::string d = std::filesystem::temp_directory_path() /
                        ("scopeflow-jsonl-fuzz." + std::to_string(::getpid()));
        std::filesystem::create_directories(d);
        return d;
    }();
    return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string path = work_dir() + "/in.jsonl";
    std::filesystem::remove(path + ".offset");
    {
        std::ofstream f(path, std::ios::binary | std::ios::trunc);
        f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const std::size_t last_newline = text.rfind('\n');
    const std::uint64_t complete = last_newline == std::string_view::npos ? 0 : last_newline + 1;

    scopeflow::Scope scope("fuzz");
    // A small read chunk so lines are cut across reads.
    scopeflow::JsonlFileSource source({.path = path, .read_chunk = 7, .commit_interval = {}});
    source.open(scope);
    scopeflow::EventParser parser;
    std::vector<scopeflow::Event> batch(4);
    std::string json;
    scopeflow::Event back;
    const std::stop_token never;
    for (;;) {
        const std::size_t n = source.read(std::span(batch), never);
        if (n == 0) {
            break;
        }
        for (std::size_t i = 0; i < n; ++i) {
            json.clear();
            scopeflow::append_json(batch[i], json);
            if (!parser.parse(json, back)) {
                __builtin_trap();  // a line we would write (dead letter included) is not JSON
            }
            source.ack(batch[i].meta().sequence);
        }
    }
    source.commit();
    if (source.acked_offset() < complete) {
        __builtin_trap();  // every line acked, yet progress stops short of the last newline
    }
    scope.close();
    return 0;
}
