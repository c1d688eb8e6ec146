// The body of an HTTP ingest POST turned into events (detail::parse_ingest_body): one object
// (possibly pretty-printed), JSON lines, or an array of objects; and every way a body is wrong,
// each answered with what is wrong and where (the 400 the client sees).
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include <scopeflow/event/event.h>
#include <scopeflow/event/event_json.h>

#include "http/ingest_body.h"

namespace scopeflow::http {
namespace {

struct Parsed {
    std::string why;  // "" on success
    std::vector<Event> events;
};

Parsed parse(std::string_view body) {
    EventParser parser;
    Parsed p;
    p.why = detail::parse_ingest_body(body, parser, p.events);
    return p;
}

std::vector<std::int64_t> ids(const Parsed& p) {
    std::vector<std::int64_t> out;
    for (const auto& e : p.events) {
        out.push_back(e.get_int("id").value_or(-1));
    }
    return out;
}

TEST(HttpIngestBody, OneObjectIsOneEvent) {
    const Parsed p = parse(R"({"id": 1, "name": "ann"})");
    ASSERT_EQ(p.why, "");
    ASSERT_EQ(p.events.size(), 1U);
    EXPECT_EQ(p.events[0].get_string("name"), "ann");
}

TEST(HttpIngestBody, APrettyPrintedObjectIsOneEventNotBrokenLines) {
    const Parsed p = parse("\n  {\n    \"id\": 7,\n    \"tags\": {\"a\": [1, 2]}\n  }\n\n");
    ASSERT_EQ(p.why, "");
    EXPECT_EQ(ids(p), std::vector<std::int64_t>{7});
}

TEST(HttpIngestBody, JsonLinesAreOneEventPerLineSkippingBlankLinesAndCarriageReturns) {
    const Parsed p = parse("{\"id\":1}\r\n\r\n   \n{\"id\":2}\r\n{\"id\":3}");
    ASSERT_EQ(p.why, "");
    EXPECT_EQ(ids(p), (std::vector<std::int64_t>{1, 2, 3}));
}

TEST(HttpIngestBody, AnArrayOfObjectsIsOneEventPerElement) {
    const Parsed p = parse(" [ {\"id\":1} ,\n{\"id\":2, \"s\": \"}{][\\\"\"}\n ,{\"id\":3}] \n");
    ASSERT_EQ(p.why, "");
    EXPECT_EQ(ids(p), (std::vector<std::int64_t>{1, 2, 3}));
    EXPECT_EQ(p.events[1].get_string("s"), "}{][\"") << "braces in strings are not structure";
}

TEST(HttpIngestBody, AnEmptyBodyOrArraySaysSo) {
    for (const std::string_view body : {"", " \r\n\t\n"}) {
        EXPECT_EQ(parse(body).why,
                  "the body is empty: send a JSON object, JSON lines or an array of objects")
            << "body: '" << body << "'";
    }
    EXPECT_EQ(parse("[ \n ]").why, "the array is empty: no events in the body");
}

TEST(HttpIngestBody, ALineThatIsNotAnObjectIsNamedWithItsKind) {
    EXPECT_EQ(parse("{\"id\":1}\n42\n").why, "line 2 is a number, not a JSON object");
    EXPECT_EQ(parse("{\"id\":1}\n\n\"x\"").why, "line 3 is a string, not a JSON object");
    EXPECT_EQ(parse("[1]\n").why, "element 1 of the array is a number, not a JSON object");
    EXPECT_EQ(parse("true").why, "line 1 is a boolean, not a JSON object");
    EXPECT_EQ(parse("null").why, "line 1 is null, not a JSON object");
    EXPECT_EQ(parse("-3").why, "line 1 is a number, not a JSON object");
    EXPECT_EQ(parse("hello").why, "line 1 is not JSON");
    EXPECT_EQ(parse("{\"id\":1}\n[{\"id\":2}]").why, "line 2 is an array, not a JSON object");
}

TEST(HttpIngestBody, AnElementThatIsNotAnObjectIsNamedByItsPosition) {
    EXPECT_EQ(parse(R"([{"id":1}, "two"])").why,
              "element 2 of the array is a string, not a JSON object");
    EXPECT_EQ(parse(R"([{"id":1}, [3]])").why,
              "element 2 of the array is an array, not a JSON object");
    EXPECT_EQ(parse(R"([{"id":1},])").why, "element 2 of the array is not JSON");
}

TEST(HttpIngestBody, UnclosedArraysAndObjectsSayWhatIsMissing) {
    EXPECT_EQ(parse("[").why, "the array is not closed (a ']' is missing)");
    EXPECT_EQ(parse(R"([{"id":1})").why, "the array is not closed (a ']' is missing)");
    EXPECT_EQ(parse(R"([{"id":1},)").why, "the array is not closed (a ']' is missing)");
    EXPECT_EQ(parse(R"([{"id":1)").why, "element 1 of the array is not closed (a '}' is missing)");
    EXPECT_EQ(parse(R"([{"s":"}"})").why, "the array is not closed (a ']' is missing)")
        << "a brace in a string closes nothing";
    EXPECT_EQ(parse(R"([{"s":"}",)").why,
              "element 1 of the array is not closed (a '}' is missing)");
}

TEST(HttpIngestBody, TextAroundTheArrayIsRejected) {
    EXPECT_EQ(parse(R"([{"id":1}] [{"id":2}])").why, "unexpected text after the array");
    EXPECT_EQ(parse(R"([{"id":1} {"id":2}])").why,
              "expected ',' or ']' after element 1 of the array");
}

TEST(HttpIngestBody, InvalidJsonInsideAnObjectNamesTheLineOrElement) {
    const Parsed line = parse("{\"id\":1}\n{\"id\":}\n");
    EXPECT_EQ(line.why.rfind("line 2: ", 0), 0U) << line.why;
    const Parsed element = parse(R"([{"id":1}, {"id" 2}])");
    EXPECT_EQ(element.why.rfind("element 2 of the array: ", 0), 0U) << element.why;
    const Parsed pretty = parse("{\n \"id\": tru\n}");
    EXPECT_EQ(pretty.why.rfind("the body: ", 0), 0U) << pretty.why;
}

TEST(HttpIngestBody, TrailingTextAfterAnObjectOnItsLineIsRejected) {
    const Parsed p = parse("{\"id\":1} {\"id\":2}\n");
    EXPECT_EQ(p.why.rfind("line 1: ", 0), 0U)
        << "two objects on one line are not one event: " << p.why;
}

TEST(HttpIngestBody, EventsParsedBeforeAnErrorAreLeftInTheOutput) {
    const Parsed p = parse("{\"id\":1}\n{\"id\":2}\n7\n{\"id\":4}\n");
    EXPECT_EQ(p.why, "line 3 is a number, not a JSON object");
    EXPECT_EQ(ids(p), (std::vector<std::int64_t>{1, 2}));
}

}  // namespace
}  // namespace scopeflow::http
