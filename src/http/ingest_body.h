// The body of an ingest POST turned into events: one JSON object (which may span lines), JSON
// lines, or a JSON array of objects. A pure function, so the HTTP source and its fuzzer share it.
// Private to src/http.
//
//   std::vector<Event> events;
//   if (std::string why = parse_ingest_body(body, parser, events); !why.empty()) -> 400 why
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <scopeflow/event/event.h>
#include <scopeflow/event/event_json.h>

namespace scopeflow::http::detail {

// Appends the events of `body` to `out`. Returns "" on success (at least one event), else what
// is wrong, naming the line or the array element (counted from 1): "element 2 of the array is
// a number, not a JSON object". On failure `out` may hold the events parsed before the error.
[[nodiscard]] std::string parse_ingest_body(std::string_view body,
                                            EventParser& parser,
                                            std::vector<Event>& out);

}  // namespace scopeflow::http::detail
