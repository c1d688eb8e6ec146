#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <scopeflow/event/event.h>
#include <scopeflow/event/event_json.h>

namespace scopeflow {
namespace {

using namespace std::string_view_literals;

std::vector<std::string> keys_of(const Event& e) {
    std::vector<std::string> keys;
    for (const auto& [key, value] : e) {
        keys.push_back(key);
    }
    return keys;
}

// Parses `json` and expects success.
Event parse_ok(std::string_view json) {
    EventParser parser;
    Event e;
    const ParseStatus st = parser.parse(json, e);
    EXPECT_TRUE(st.ok) << json << ": " << st.message;
    EXPECT_TRUE(st.message.empty());
    return e;
}

// Parses `json` and expects failure; returns the message.
std::string parse_error(std::string_view json) {
    EventParser parser;
    Event e{{"stale", 1}};
    const ParseStatus st = parser.parse(json, e);
    EXPECT_FALSE(st.ok) << json;
    EXPECT_FALSE(static_cast<bool>(st));
    EXPECT_FALSE(st.message.empty()) << json;
    EXPECT_TRUE(e.empty()) << "a failed parse leaves the event empty";
    return st.message;
}

// --- Value --------------------------------------------------------------------------------

TEST(ValueTest, KindsAndAccessors) {
    EXPECT_EQ(Value().kind(), ValueKind::null);
    EXPECT_EQ(Value(nullptr).kind(), ValueKind::null);
    EXPECT_TRUE(Value().is_null());

    EXPECT_EQ(Value(true).kind(), ValueKind::boolean);
    EXPECT_TRUE(Value(true).as_bool());

    EXPECT_EQ(Value(5).kind(), ValueKind::integer);
    EXPECT_EQ(Value(5).as_int(), 5);
    EXPECT_EQ(Value(std::int64_t{-7}).as_int(), -7);
    EXPECT_EQ(Value(5U).as_int(), 5);
    EXPECT_DOUBLE_EQ(Value(5).as_double(), 5.0);  // integers convert

    EXPECT_EQ(Value(2.5).kind(), ValueKind::number);
    EXPECT_DOUBLE_EQ(Value(2.5).as_double(), 2.5);
    EXPECT_DOUBLE_EQ(Value(2.5F).as_double(), 2.5);

    EXPECT_EQ(Value("abc").kind(), ValueKind::string);  // not bool: const char* has its own ctor
    EXPECT_EQ(Value("abc").as_string(), "abc");
    EXPECT_EQ(Value(std::string("abc")).as_string(), "abc");
    EXPECT_EQ(Value("abc"sv).as_string(), "abc");

    const Value raw = Value::raw(R"([1,{"a":2}])");
    EXPECT_EQ(raw.kind(), ValueKind::raw);
    EXPECT_EQ(raw.raw_json(), R"([1,{"a":2}])");
    EXPECT_EQ(raw.as_string(), "");

    EXPECT_EQ(to_string(ValueKind::number), "number");
    EXPECT_EQ(to_string(ValueKind::raw), "raw");
}

TEST(ValueTest, UnsignedBeyondInt64BecomesNumber) {
    const Value big(std::numeric_limits<std::uint64_t>::max());
    EXPECT_EQ(big.kind(), ValueKind::number);
    EXPECT_DOUBLE_EQ(big.as_double(), 18446744073709551615.0);
    const Value fits(std::uint64_t{std::numeric_limits<std::int64_t>::max()});
    EXPECT_EQ(fits.kind(), ValueKind::integer);
}

TEST(ValueTest, WrongKindAccessorsReturnDefaults) {
    const Value s("text");
    EXPECT_FALSE(s.as_bool());
    EXPECT_EQ(s.as_int(), 0);
    EXPECT_EQ(s.as_double(), 0.0);
    EXPECT_EQ(s.raw_json(), "");
    EXPECT_EQ(Value(1.5).as_int(), 0);  // no silent truncation
    EXPECT_EQ(Value(1).as_string(), "");
}

TEST(ValueTest, Equality) {
    EXPECT_EQ(Value(1), Value(std::int64_t{1}));
    EXPECT_NE(Value(1), Value(1.0));  // integer vs number
    EXPECT_NE(Value("1"), Value(1));
    EXPECT_NE(Value("[1]"), Value::raw("[1]"));
    EXPECT_EQ(Value::raw("[1]"), Value::raw("[1]"));
    EXPECT_EQ(Value(), Value(nullptr));
    EXPECT_NE(Value(false), Value());
    EXPECT_EQ(Value(0.0), Value(-0.0));
}

TEST(ValueTest, MovedFromIsNull) {
    Value raw = Value::raw("[1,2]");
    const Value moved = std::move(raw);
    EXPECT_EQ(moved.raw_json(), "[1,2]");
    EXPECT_TRUE(raw.is_null());  // NOLINT(bugprone-use-after-move): testing the moved-from state
    Value s("a string longer than the small-string buffer");
    Value target(1);
    target = std::move(s);
    EXPECT_EQ(target.as_string(), "a string longer than the small-string buffer");
    EXPECT_TRUE(s.is_null());  // NOLINT(bugprone-use-after-move)
}

TEST(ValueTest, SettersChangeKindAndReuseTheBuffer) {
    Value v(std::string(100, 'x'));
    const char* buffer = v.as_string().data();
    v.set_int(3);
    EXPECT_EQ(v.kind(), ValueKind::integer);
    v.set_string("a string longer than the small-string buffer");
    EXPECT_EQ(v.as_string().data(), buffer);
    v.set_raw("{}");
    EXPECT_EQ(v.raw_json(), "{}");
    v.set_null();
    EXPECT_TRUE(v.is_null());
}

// --- Event: access and mutation -----------------------------------------------------------

TEST(EventTest, TypedAccess) {
    const Event e{{"id", 17},   {"user", "u-42"},  {"price", 9.5},
                  {"ok", true}, {"none", nullptr}, {"tags", Value::raw(R"(["a"])")}};
    EXPECT_EQ(e.size(), 6U);
    EXPECT_EQ(e.get_int("id"), 17);
    EXPECT_EQ(e.get_string("user"), "u-42");
    EXPECT_EQ(e.get_double("price"), 9.5);
    EXPECT_EQ(e.get_double("id"), 17.0);  // integers convert to double
    EXPECT_EQ(e.get_bool("ok"), true);
    ASSERT_NE(e.find("none"), nullptr);
    EXPECT_TRUE(e.find("none")->is_null());
    EXPECT_EQ(e.find("tags")->raw_json(), R"(["a"])");
    EXPECT_TRUE(e.contains("tags"));
    EXPECT_FALSE(e.contains("missing"));
}

TEST(EventTest, WrongTypesAndMissingKeysGiveNullopt) {
    const Event e{{"id", 17}, {"user", "u-42"}, {"price", 9.5}, {"ok", true}, {"n", nullptr}};
    EXPECT_EQ(e.get_int("user"), std::nullopt);
    EXPECT_EQ(e.get_int("price"), std::nullopt);  // a double is not an int
    EXPECT_EQ(e.get_int("ok"), std::nullopt);
    EXPECT_EQ(e.get_string("id"), std::nullopt);
    EXPECT_EQ(e.get_string("n"), std::nullopt);
    EXPECT_EQ(e.get_bool("id"), std::nullopt);
    EXPECT_EQ(e.get_double("user"), std::nullopt);
    EXPECT_EQ(e.get_double("ok"), std::nullopt);
    EXPECT_EQ(e.get_int("missing"), std::nullopt);
    EXPECT_EQ(e.get_string("missing"), std::nullopt);
    EXPECT_EQ(e.find("missing"), nullptr);
    EXPECT_EQ(e.find(""), nullptr);
}

TEST(EventTest, SetReplacesInPlaceOrAppends) {
    Event e;
    EXPECT_TRUE(e.empty());
    e.set("a", 1);
    e.set("b", "two");
    e.set("c", 3.0);
    e.set("b", false);  // replaces, keeps position
    EXPECT_EQ(keys_of(e), (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(e.get_bool("b"), false);
    e.set("d", nullptr);
    EXPECT_EQ(keys_of(e), (std::vector<std::string>{"a", "b", "c", "d"}));

    Value* v = e.find("a");
    ASSERT_NE(v, nullptr);
    v->set_string("changed in place");
    EXPECT_EQ(e.get_string("a"), "changed in place");

    Value& added = e.get_or_add("e");
    EXPECT_TRUE(added.is_null());
    added.set_int(5);
    EXPECT_EQ(e.get_int("e"), 5);
    EXPECT_EQ(&e.get_or_add("e"), &added);
    EXPECT_EQ(e.size(), 5U);
}

TEST(EventTest, InitializerListKeepsFirstPositionAndLastValue) {
    const Event e{{"a", 1}, {"b", 2}, {"a", 3}};
    EXPECT_EQ(keys_of(e), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(e.get_int("a"), 3);
}

TEST(EventTest, Erase) {
    Event e{{"a", 1}, {"b", 2}, {"c", 3}, {"d", 4}};
    EXPECT_TRUE(e.erase("b"));
    EXPECT_FALSE(e.erase("b"));
    EXPECT_FALSE(e.erase("zz"));
    EXPECT_EQ(keys_of(e), (std::vector<std::string>{"a", "c", "d"}));
    EXPECT_EQ(e.find("b"), nullptr);
    EXPECT_EQ(e.get_int("d"), 4);
    EXPECT_TRUE(e.erase("a"));
    EXPECT_TRUE(e.erase("d"));
    EXPECT_EQ(keys_of(e), (std::vector<std::string>{"c"}));
    e.set("b", 20);  // reuses a spare slot
    EXPECT_EQ(keys_of(e), (std::vector<std::string>{"c", "b"}));
    EXPECT_EQ(e.get_int("b"), 20);
}

TEST(EventTest, Rename) {
    Event e{{"a", 1}, {"b", 2}, {"c", 3}};
    EXPECT_TRUE(e.rename("b", "bee"));
    EXPECT_EQ(keys_of(e), (std::vector<std::string>{"a", "bee", "c"}));
    EXPECT_EQ(e.get_int("bee"), 2);
    EXPECT_EQ(e.find("b"), nullptr);

    EXPECT_FALSE(e.rename("a", "c"));  // target exists: nothing changes
    EXPECT_EQ(e.get_int("a"), 1);
    EXPECT_EQ(e.get_int("c"), 3);
    EXPECT_FALSE(e.rename("missing", "x"));
    EXPECT_FALSE(e.contains("x"));
    EXPECT_TRUE(e.rename("a", "a"));
    EXPECT_FALSE(e.rename("x", "x"));
    EXPECT_EQ(keys_of(e), (std::vector<std::string>{"a", "bee", "c"}));
}

TEST(EventTest, ManyKeysAllFoundMissesNot) {
    // More keys than the 64-bit key summary has bits: collisions must fall back to the scan.
    Event e;
    for (int i = 0; i < 300; ++i) {
        e.set("key_" + std::to_string(i), i);
    }
    EXPECT_EQ(e.size(), 300U);
    for (int i = 0; i < 300; ++i) {
        EXPECT_EQ(e.get_int("key_" + std::to_string(i)), i);
    }
    for (int i = 300; i < 400; ++i) {
        EXPECT_EQ(e.find("key_" + std::to_string(i)), nullptr);
    }
    for (int i = 0; i < 300; i += 2) {
        EXPECT_TRUE(e.erase("key_" + std::to_string(i)));
    }
    EXPECT_EQ(e.size(), 150U);
    for (int i = 0; i < 300; ++i) {
        EXPECT_EQ(e.contains("key_" + std::to_string(i)), i % 2 == 1) << i;
    }
}

TEST(EventTest, ClearKeepsCapacityAndResetsMetadata) {
    Event e{{"a", 1}, {"b", std::string(64, 'x')}, {"c", 3}};
    e.meta().sequence = 9;
    const std::size_t capacity = e.capacity();
    e.clear();
    EXPECT_TRUE(e.empty());
    EXPECT_EQ(e.begin(), e.end());
    EXPECT_EQ(e.meta().sequence, 0U);
    EXPECT_EQ(e.capacity(), capacity);
    EXPECT_EQ(e.find("a"), nullptr);
    EXPECT_EQ(e.find("b"), nullptr);
    e.set("z", 1);
    EXPECT_EQ(keys_of(e), (std::vector<std::string>{"z"}));
    EXPECT_EQ(e.capacity(), capacity);
}

TEST(EventTest, CopyMoveAndEquality) {
    Event a{{"a", 1}, {"b", "two"}};
    a.meta().sequence = 5;
    a.set("c", 3);
    a.erase("c");  // leaves a spare slot that copies must not carry

    Event b = a;
    EXPECT_EQ(b, a);
    EXPECT_EQ(b.size(), 2U);
    EXPECT_EQ(b.meta().sequence, 5U);
    EXPECT_FALSE(b.contains("c"));

    Event c{{"x", 1}, {"y", 2}, {"z", 3}, {"w", 4}};
    c = a;
    EXPECT_EQ(c, a);
    EXPECT_FALSE(c.contains("x"));
    EXPECT_FALSE(c.contains("w"));

    Event moved = std::move(c);
    EXPECT_EQ(moved, a);
    EXPECT_TRUE(c.empty());  // NOLINT(bugprone-use-after-move): testing the moved-from state
    EXPECT_EQ(c.find("a"), nullptr);
    c.set("again", 1);  // a moved-from event is usable
    EXPECT_EQ(c.size(), 1U);

    Event other{{"b", "two"}, {"a", 1}};
    EXPECT_NE(other, a);  // order matters
    Event meta_differs = a;
    meta_differs.meta().sequence = 77;
    EXPECT_EQ(meta_differs, a);  // metadata is not content
}

// --- parsing ------------------------------------------------------------------------------

TEST(EventParserTest, AllValueKinds) {
    const Event e =
        parse_ok(R"({"id":17,"user":"u-42","type":"click","ts":1732200000123,"price":9.5,)"
                 R"("tags":["a","b"],"ok":true,"none":null,"off":false,"meta":{"k":[1,2.5,"x"]}})");
    EXPECT_EQ(keys_of(e), (std::vector<std::string>{"id", "user", "type", "ts", "price", "tags",
                                                    "ok", "none", "off", "meta"}));
    EXPECT_EQ(e.get_int("id"), 17);
    EXPECT_EQ(e.get_string("user"), "u-42");
    EXPECT_EQ(e.get_int("ts"), 1732200000123);
    EXPECT_EQ(e.get_double("price"), 9.5);
    EXPECT_EQ(e.find("price")->kind(), ValueKind::number);
    EXPECT_EQ(e.find("tags")->kind(), ValueKind::raw);
    EXPECT_EQ(e.find("tags")->raw_json(), R"(["a","b"])");
    EXPECT_EQ(e.get_bool("ok"), true);
    EXPECT_EQ(e.get_bool("off"), false);
    EXPECT_TRUE(e.find("none")->is_null());
    EXPECT_EQ(e.find("meta")->raw_json(), R"({"k":[1,2.5,"x"]})");
}

TEST(EventParserTest, NestedValuesAreMinified) {
    const Event e = parse_ok(
        " {\n \"a\" : [ 1 , { \"b\" : null , \"c\" : [ ] } , \"s p\" ] ,\t\"d\" : { } }\r\n ");
    EXPECT_EQ(e.find("a")->raw_json(), R"([1,{"b":null,"c":[]},"s p"])");
    EXPECT_EQ(e.find("d")->raw_json(), "{}");
    // Escapes inside nested strings are decoded by simdjson and re-escaped on the way out.
    const Event f = parse_ok(R"({"a":["q\"uote","t\tab","\u00e9","\u0001",1E2,-0.0]})");
    EXPECT_EQ(f.find("a")->raw_json(),
              "[\"q\\\"uote\",\"t\\tab\",\"\xC3\xA9\",\"\\u0001\",100.0,-0.0]");
}

TEST(EventParserTest, StringEscapesAndUnicode) {
    const Event e = parse_ok(
        R"({"e":"\u00e9","emoji":"\ud83d\ude00","raw":"日本","esc":"a\"b\\c\/d\n\t\u0000z"})");
    EXPECT_EQ(e.get_string("e"), "\xC3\xA9");
    EXPECT_EQ(e.get_string("emoji"), "\xF0\x9F\x98\x80");
    EXPECT_EQ(e.get_string("raw"), "日本");
    EXPECT_EQ(e.get_string("esc"), std::string_view("a\"b\\c/d\n\t\0z", 11));
    const Event k = parse_ok(R"({"k\u00e9y":1,"":2})");
    EXPECT_EQ(k.get_int("k\xC3\xA9y"), 1);
    EXPECT_EQ(k.get_int(""), 2);
}

TEST(EventParserTest, Numbers) {
    const Event e = parse_ok(
        R"({"neg":-42,"max":9223372036854775807,"min":-9223372036854775808,)"
        R"("over":9223372036854775808,"umax":18446744073709551615,"exp":1e3,"nexp":-2.5E-3,)"
        R"("frac":0.1,"zero":0,"negzero":-0.0,"big":1.7976931348623157e308,"one":1.0})");
    EXPECT_EQ(e.get_int("neg"), -42);
    EXPECT_EQ(e.get_int("max"), std::numeric_limits<std::int64_t>::max());
    EXPECT_EQ(e.get_int("min"), std::numeric_limits<std::int64_t>::min());
    // Beyond int64: a number (double), as documented.
    EXPECT_EQ(e.find("over")->kind(), ValueKind::number);
    EXPECT_EQ(e.get_double("over"), 9223372036854775808.0);
    EXPECT_EQ(e.get_int("over"), std::nullopt);
    EXPECT_EQ(e.get_double("umax"), 18446744073709551615.0);
    EXPECT_EQ(e.get_double("exp"), 1000.0);
    EXPECT_EQ(e.find("exp")->kind(), ValueKind::number);
    EXPECT_EQ(e.get_double("nexp"), -0.0025);
    EXPECT_EQ(e.get_double("frac"), 0.1);
    EXPECT_EQ(e.get_int("zero"), 0);
    EXPECT_TRUE(std::signbit(*e.get_double("negzero")));
    EXPECT_EQ(e.get_double("big"), std::numeric_limits<double>::max());
    EXPECT_EQ(e.find("one")->kind(), ValueKind::number);
}

TEST(EventParserTest, DuplicateKeysKeepFirstPositionAndLastValue) {
    const Event e = parse_ok(R"({"a":1,"b":2,"a":"three"})");
    EXPECT_EQ(keys_of(e), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(e.get_string("a"), "three");
}

TEST(EventParserTest, NotAnObject) {
    EXPECT_EQ(parse_error("[1,2]"), "expected a JSON object, got an array");
    EXPECT_EQ(parse_error(R"("str")"), "expected a JSON object, got a string");
    EXPECT_EQ(parse_error("42"), "expected a JSON object, got a number");
    EXPECT_EQ(parse_error("null"), "expected a JSON object, got null");
    EXPECT_EQ(parse_error("true"), "expected a JSON object, got a boolean");
}

TEST(EventParserTest, MalformedInputIsReportedNotThrown) {
    EXPECT_EQ(parse_error(""), "empty input: expected a JSON object");
    EXPECT_EQ(parse_error(" \n\t "), "empty input: expected a JSON object");
    const std::string truncated = parse_error(R"({"a":1,"b":)");
    EXPECT_NE(truncated.find("invalid JSON"), std::string::npos) << truncated;
    const std::string trailing = parse_error(R"({"a":1} x)");
    EXPECT_NE(trailing.find("invalid JSON"), std::string::npos) << trailing;
    EXPECT_NE(parse_error(R"({"a":1}{"b":2})").find("invalid JSON"), std::string::npos);
    EXPECT_NE(parse_error(R"({"a":1,})").find("invalid JSON"), std::string::npos);
    EXPECT_NE(parse_error(R"({"a":tru})").find("invalid JSON"), std::string::npos);
    EXPECT_NE(parse_error(R"({a:1})").find("invalid JSON"), std::string::npos);
    EXPECT_NE(parse_error("{\"a\":\"unclosed}").find("invalid JSON"), std::string::npos);
    const std::string utf8 = parse_error("{\"a\":\"\xFF\xFE\"}");
    EXPECT_NE(utf8.find("UTF-8"), std::string::npos) << utf8;
    EXPECT_NE(parse_error("{\"\xC3\":1}").find("UTF-8"), std::string::npos);  // in a key
    const std::string control = parse_error("{\"a\":\"x\ty\"}");              // unescaped tab
    EXPECT_NE(control.find("unescaped"), std::string::npos) << control;
    // Integers beyond UINT64_MAX and doubles beyond range are rejected (documented).
    EXPECT_NE(parse_error(R"({"a":123456789012345678901234567890})").find("number"),
              std::string::npos);
    EXPECT_NE(parse_error(R"({"a":1e400})").find("number"), std::string::npos);
}

TEST(EventParserTest, EveryTruncationFailsCleanly) {
    const std::string json =
        R"({"id":17,"user":"u-\u00e9","tags":["a",{"b":[1.5,null]}],"ok":true,"p":-1e-3})";
    EventParser parser;
    Event e;
    for (std::size_t n = 0; n < json.size(); ++n) {
        const ParseStatus st = parser.parse(std::string_view(json).substr(0, n), e);
        EXPECT_FALSE(st.ok) << n;
        EXPECT_FALSE(st.message.empty()) << n;
        EXPECT_TRUE(e.empty()) << n;
    }
    EXPECT_TRUE(parser.parse(json, e).ok);
    EXPECT_EQ(e.size(), 5U);
}

TEST(EventParserTest, TooLargeIsRejected) {
    EventParser parser({.max_event_bytes = 16});
    Event e;
    const ParseStatus st = parser.parse(R"({"a":"0123456789"})", e);
    EXPECT_FALSE(st.ok);
    EXPECT_EQ(st.message, "event of 18 bytes exceeds max_event_bytes (16)");
    EXPECT_TRUE(parser.parse(R"({"a":1})", e).ok);
    EXPECT_EQ(parser.options().max_event_bytes, 16U);
}

TEST(EventParserTest, ParsePaddedReadsFromALargerBuffer) {
    // Two JSONL lines in one buffer with kJsonPadding spare bytes at its end.
    std::string buffer = "{\"a\":1,\"s\":\"x\"}\n{\"b\":[2]}\n";
    const std::size_t size = buffer.size();
    buffer.append(kJsonPadding, '\0');
    const std::string_view data(buffer.data(), size);
    EventParser parser;
    Event e;
    ASSERT_TRUE(parser.parse_padded(data.substr(0, 15), e).ok);
    EXPECT_EQ(e.get_int("a"), 1);
    EXPECT_EQ(e.get_string("s"), "x");
    ASSERT_TRUE(parser.parse_padded(data.substr(16, 9), e).ok);
    EXPECT_EQ(keys_of(e), (std::vector<std::string>{"b"}));
    EXPECT_EQ(e.find("b")->raw_json(), "[2]");
    EXPECT_FALSE(parser.parse_padded(data.substr(0, 10), e).ok);
}

TEST(EventParserTest, ReusedEventHoldsOnlyTheLatestFields) {
    EventParser parser;
    Event e;
    std::size_t max_capacity = 0;
    for (int round = 0; round < 200; ++round) {
        const int n = (round * 7) % 20 + 1;  // 1..20 fields, varying
        std::string json = "{";
        for (int i = 0; i < n; ++i) {
            if (i > 0) {
                json += ',';
            }
            json += "\"f" + std::to_string((i + round) % 23) + "\":";
            json += (i % 3 == 0) ? "\"" + std::string(static_cast<std::size_t>(i) * 5, 'v') + "\""
                                 : std::to_string(i);
        }
        json += '}';
        e.meta().sequence = 99;
        ASSERT_TRUE(parser.parse(json, e).ok) << json;
        EXPECT_EQ(e.meta().sequence, 0U);
        // Keys are distinct mod 23 for n <= 20, so the event has exactly n fields.
        ASSERT_EQ(e.size(), static_cast<std::size_t>(n)) << json;
        for (int k = 0; k < 23; ++k) {
            const bool present = ((k - round) % 23 + 23) % 23 < n;
            EXPECT_EQ(e.contains("f" + std::to_string(k)), present) << json << " k=" << k;
        }
        EXPECT_EQ(to_json(e), json);
        max_capacity = std::max(max_capacity, e.capacity());
    }
    EXPECT_EQ(max_capacity, 20U);  // slots are reused, never accumulated
}

// --- serializing --------------------------------------------------------------------------

TEST(EventJsonTest, SerializesCompactlyInOrder) {
    Event e{{"id", 17},
            {"user", "u-42"},
            {"price", 9.5},
            {"ok", true},
            {"n", nullptr},
            {"f", false},
            {"tags", Value::raw(R"(["a","b"])")}};
    EXPECT_EQ(
        to_json(e),
        R"({"id":17,"user":"u-42","price":9.5,"ok":true,"n":null,"f":false,"tags":["a","b"]})");
    EXPECT_EQ(to_json(Event{}), "{}");

    std::string out = "prefix ";
    append_json(Event{{"a", 1}}, out);
    EXPECT_EQ(out, R"(prefix {"a":1})");
    out.clear();
    append_json(Value(-3), out);
    EXPECT_EQ(out, "-3");
}

TEST(EventJsonTest, EscapesControlCharactersQuotesAndBackslashes) {
    std::string all_controls;
    for (char c = 0; c < 0x20; ++c) {
        all_controls.push_back(c);
    }
    const Event e{
        {"c", all_controls}, {"q", "say \"hi\" \\ /"}, {"u", "é日本😀\x7F"}, {"k\"ey\n", 1}};
    const std::string json = to_json(e);
    EXPECT_EQ(json,
              R"({"c":"\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e)"
              R"(\u000f\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b)"
              R"(\u001c\u001d\u001e\u001f","q":"say \"hi\" \\ /","u":"é日本😀)"
              "\x7F"
              R"(","k\"ey\n":1})");
    EXPECT_EQ(parse_ok(json), e);  // and it reads back to the same strings
}

TEST(EventJsonTest, DoublesRoundTripAndStayNumbers) {
    const std::vector<double> samples{0.1,
                                      -0.0,
                                      3.0,
                                      1e21,
                                      1e-7,
                                      123456.789,
                                      -2.5e-300,
                                      std::numeric_limits<double>::max(),
                                      std::numeric_limits<double>::min(),
                                      std::numeric_limits<double>::denorm_min(),
                                      9007199254740993.0,
                                      1.0 / 3.0};
    for (const double d : samples) {
        const std::string json = to_json(Event{{"d", d}});
        const Event back = parse_ok(json);
        ASSERT_NE(back.find("d"), nullptr) << json;
        EXPECT_EQ(back.find("d")->kind(), ValueKind::number) << json;
        const double r = *back.get_double("d");
        EXPECT_EQ(std::memcmp(&r, &d, sizeof d), 0) << json;  // same bits (-0.0 included)
    }
    EXPECT_EQ(to_json(Event{{"d", 3.0}}), R"({"d":3.0})");
    EXPECT_EQ(to_json(Event{{"d", -0.0}}), R"({"d":-0.0})");
    EXPECT_EQ(to_json(Event{{"d", 0.5}}), R"({"d":0.5})");
    EXPECT_EQ(
        to_json(Event{{"nan", std::nan("")}, {"inf", std::numeric_limits<double>::infinity()}}),
        R"({"nan":null,"inf":null})");
}

TEST(EventJsonTest, ShortDecimalsAreWrittenAsSuch) {
    EXPECT_EQ(to_json(Event{{"d", 512.37}}), R"({"d":512.37})");
    EXPECT_EQ(to_json(Event{{"d", -512.37}}), R"({"d":-512.37})");
    EXPECT_EQ(to_json(Event{{"d", 0.05}}), R"({"d":0.05})");
    EXPECT_EQ(to_json(Event{{"d", 0.000125}}), R"({"d":0.000125})");
    EXPECT_EQ(to_json(Event{{"d", 1e-6}}), R"({"d":0.000001})");
    EXPECT_EQ(to_json(Event{{"d", -1234567.5}}), R"({"d":-1234567.5})");
    EXPECT_EQ(to_json(Event{{"d", 100.0}}), R"({"d":100.0})");
    EXPECT_EQ(to_json(Event{{"d", 0.1 + 0.2}}), R"({"d":0.30000000000000004})");  // not short
    EXPECT_EQ(to_json(Event{{"d", 1e-7}}), R"({"d":1e-07})");
}

TEST(EventJsonTest, RandomDoublesRoundTripBitExactly) {
    std::mt19937_64 rng(7);
    EventParser parser;
    Event e;
    Event back;
    std::string out;
    for (int i = 0; i < 200000; ++i) {
        double d;
        if (i % 2 == 0) {  // any finite bit pattern
            const std::uint64_t bits = rng();
            std::memcpy(&d, &bits, sizeof d);
            if (!std::isfinite(d)) {
                continue;
            }
        } else {  // decimals m / 10^k, the fast path's territory and its edges
            const auto m = static_cast<double>(rng() % 10000000000ULL);
            d = m / std::pow(10.0, static_cast<double>(rng() % 9));
            if (rng() % 2 == 0) {
                d = -d;
            }
        }
        e.clear();
        e.set("d", d);
        out.clear();
        append_json(e, out);
        ASSERT_TRUE(parser.parse(out, back).ok) << out;
        const Value* v = back.find("d");
        ASSERT_NE(v, nullptr);
        ASSERT_EQ(v->kind(), ValueKind::number) << out;
        const double r = v->as_double();
        ASSERT_EQ(std::memcmp(&r, &d, sizeof d), 0) << out;
    }
}

TEST(EventJsonTest, RoundTripSamples) {
    const std::vector<std::string> samples{
        R"({})",
        R"({"id":17,"user":"u-42","type":"click","ts":1732200000123,"price":9.5,"tags":["a","b"],"ok":true})",
        R"({"a":null,"b":false,"c":-9223372036854775808,"d":1e300,"e":"\u0000\u001f\"\\"})",
        R"({"nested":{"deep":{"deeper":[[[]],{},{"x":[1,-2.5,"y",true,null]}]}},"after":1})",
        R"({"utf8":"héllo wörld ✓ 😀","esc":"line1\nline2\r\ttab","slash":"a/b"})",
        R"({"big":18446744073709551615,"nested_big":[18446744073709551615,-1]})",
        "{ \"spaced\" : [ 1 , 2 ] , \"s\" : \"v\" }",
        R"({"dup":1,"dup":2})",
    };
    EventParser parser;
    for (const std::string& json : samples) {
        Event first;
        ASSERT_TRUE(parser.parse(json, first).ok) << json;
        const std::string out = to_json(first);
        Event second;
        const ParseStatus st = parser.parse(out, second);
        ASSERT_TRUE(st.ok) << out << ": " << st.message;
        EXPECT_EQ(second, first) << json << "\n -> " << out;
        EXPECT_EQ(to_json(second), out) << "serialization is a fixed point";
    }
}

}  // namespace
}  // namespace scopeflow

namespace scopeflow {
namespace {

// A strict UTF-8 check written from Unicode table 3-7, independent of the serializer's.
bool strict_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
        const unsigned char c = b(i);
        std::uint32_t cp = 0;
        std::size_t n = 0;
        if (c < 0x80) {
            ++i;
            continue;
        }
        if ((c & 0xE0) == 0xC0) {
            n = 2;
            cp = c & 0x1FU;
        } else if ((c & 0xF0) == 0xE0) {
            n = 3;
            cp = c & 0x0FU;
        } else if ((c & 0xF8) == 0xF0) {
            n = 4;
            cp = c & 0x07U;
        } else {
            return false;
        }
        if (i + n > s.size()) {
            return false;
        }
        for (std::size_t k = 1; k < n; ++k) {
            if ((b(i + k) & 0xC0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (b(i + k) & 0x3FU);
        }
        const std::uint32_t min = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        i += n;
    }
    return true;
}

std::string json_string(std::string_view s) {
    std::string out;
    append_json_string(s, out);
    return out;
}

TEST(EventJsonUtf8Test, InvalidSequencesBecomeOneReplacementPerMaximalSubpart) {
    const std::string r = "\xEF\xBF\xBD";  // U+FFFD
    struct Case {
        std::string in;
        std::string out;
    };
    const std::vector<Case> cases = {
        {"a\xFF"
         "b",
         "a" + r + "b"},                      // a byte never used in UTF-8
        {"\xC0\xAF", r + r},                  // overlong '/', two bytes
        {"\xE0\x80\xAF", r + r + r},          // overlong '/', three bytes
        {"\xF0\x80\x80\xAF", r + r + r + r},  // overlong '/', four bytes
        {"\xED\xA0\x80", r + r + r},          // a lone surrogate (U+D800)
        {"\xED\xB0\x80\xED\xA0\x80", r + r + r + r + r + r},
        {"x\xE2\x82", "x" + r},               // truncated at the end: one subpart
        {"\xE2\x82x", r + "x"},               // truncated before ASCII
        {"\xF0\x9F\x98", r},                  // truncated 4-byte sequence
        {"\xF4\x90\x80\x80", r + r + r + r},  // above U+10FFFF
        {"\x80\xBF", r + r},                  // stray continuation bytes
        {"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"},  // valid
        {"quote\" \xFF\n", "quote\\\" " + r + "\\n"},  // escapes still apply around it
    };
    for (const Case& c : cases) {
        const std::string out = json_string(c.in);
        EXPECT_EQ(out, "\"" + c.out + "\"") << "input bytes: " << ::testing::PrintToString(c.in);
        EXPECT_TRUE(strict_utf8(out)) << ::testing::PrintToString(c.in);
    }
}

TEST(EventJsonUtf8Test, EveryEventWithArbitraryBytesSerializesToStrictJson) {
    // Random bytes in keys and values (the dead-letter `_raw` field carries whatever a line
    // held): the output is strict UTF-8 and parses back.
    std::mt19937 rng(7);
    EventParser parser;
    for (int round = 0; round < 2000; ++round) {
        std::string junk(static_cast<std::size_t>(rng() % 40), '\0');
        for (char& ch : junk) {
            ch = static_cast<char>(rng() % 256);
        }
        Event e{{"_raw", Value(junk)}, {junk, Value(std::int64_t{1})}};
        const std::string json = to_json(e);
        ASSERT_TRUE(strict_utf8(json)) << ::testing::PrintToString(junk);
        Event back;
        ASSERT_TRUE(parser.parse(json, back)) << json;
        if (strict_utf8(junk)) {
            EXPECT_EQ(back.get_string("_raw").value_or("?"), junk);  // valid text is kept as is
        }
    }
}

}  // namespace
}  // namespace scopeflow
