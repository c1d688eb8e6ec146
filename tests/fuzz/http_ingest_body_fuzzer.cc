// libFuzzer target: the body of an HTTP ingest POST (detail::parse_ingest_body), as the http
// source parses it before it queues anything. Checks, beyond "no crash, no sanitizer report":
// a body is either refused with a reason or yields at least one event, and every event it
// yields serializes back to a JSON object.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <scopeflow/event/event.h>
#include <scopeflow/event/event_json.h>

#include "http/ingest_body.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static scopeflow::EventParser parser;  // reused, as the source reuses one per request
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    std::vector<scopeflow::Event> events;
    const std::string why = scopeflow::http::detail::parse_ingest_body(body, parser, events);
    if (why.empty() && events.empty()) {
        __builtin_trap();  // accepted, yet nothing to queue: the client would get 200 for nothing
    }
    if (why.empty()) {
        std::string json;
        for (const scopeflow::Event& e : events) {
            json.clear();
            scopeflow::append_json(e, json);
            if (json.empty() || json.front() != '{' || json.back() != '}') {
                __builtin_trap();
            }
        }
    }
    return 0;
}
