// Fuzzes the event JSON parser and serializer.
//
// Properties checked on every input the parser accepts:
// - what append_json writes parses again (every line scopeflow writes is valid JSON);
// - the round trip is stable: serialize(parse(serialize(e))) == serialize(e).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <scopeflow/event/event.h>
#include <scopeflow/event/event_json.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static scopeflow::EventParser parser;
    scopeflow::Event event;
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    if (!parser.parse(input, event)) {
        return 0;
    }
    std::string first;
    scopeflow::append_json(event, first);
    scopeflow::Event again;
    if (const scopeflow::ParseStatus st = parser.parse(first, again); !st) {
        __builtin_trap();  // our own output was not valid JSON
    }
    std::string second;
    scopeflow::append_json(again, second);
    if (first != second) {
        __builtin_trap();  // the round trip changed the event
    }
    return 0;
}
