// OptionsSchema and StageRegistry: one declaration gives the unknown-key check, the kind and
// range checks, the defaults, the typed reads and the help.
#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include <scopeflow/core/error.h>
#include <scopeflow/engine/options_schema.h>
#include <scopeflow/engine/stage_registry.h>
#include <scopeflow/event/event_json.h>
#include <scopeflow/stages/builtin_stages.h>

namespace scopeflow {
namespace {

using namespace std::chrono_literals;

// Options as the config loader gives them: scalars typed, lists and maps as raw JSON.
StageOptions options_of(std::string_view json) {
    StageOptions out;
    EventParser parser;
    EXPECT_TRUE(parser.parse(json, out)) << json;
    return out;
}

OptionsSchema sample() {
    return OptionsSchema("sample", "a schema with one option of each kind")
        .add({.name = "name", .doc = "a string", .required = true})
        .add({.name = "mode",
              .doc = "a choice",
              .default_value = "fast",
              .choices = {"fast", "safe"}})
        .add({.name = "every",
              .kind = OptionKind::integer,
              .doc = "n",
              .default_value = "1",
              .min = 1})
        .add({.name = "port",
              .kind = OptionKind::count,
              .doc = "p",
              .default_value = "80",
              .max = 65535})
        .add({.name = "keep", .kind = OptionKind::boolean, .doc = "b", .default_value = "true"})
        .add({.name = "wait",
              .kind = OptionKind::duration,
              .doc = "d",
              .default_value = "1m",
              .min = 1})
        .add({.name = "size", .kind = OptionKind::bytes, .doc = "s", .default_value = "64KiB"})
        .add({.name = "tags", .kind = OptionKind::list, .doc = "l"})
        .add({.name = "argv", .kind = OptionKind::strict_list, .doc = "a"})
        .add({.name = "set", .kind = OptionKind::object, .doc = "o"})
        .add({.name = "value", .kind = OptionKind::any, .doc = "v"});
}

std::string error_of(const OptionsSchema& schema, std::string_view json) {
    const StageOptions o = options_of(json);
    try {
        (void)schema.parse(o, "graph.stages.s");
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "no error";
}

TEST(OptionsSchemaTest, DefaultsComeFromTheDeclaration) {
    const OptionsSchema s = sample();
    const StageOptions o = options_of(R"({"name":"x"})");
    const ParsedOptions p = s.parse(o, "graph.stages.s", "s");
    EXPECT_EQ(p.string("name"), "x");
    EXPECT_EQ(p.string("mode"), "fast");
    EXPECT_EQ(p.integer("every"), 1);
    EXPECT_EQ(p.count("port"), 80U);
    EXPECT_TRUE(p.boolean("keep"));
    EXPECT_EQ(p.duration("wait"), 1min);
    EXPECT_EQ(p.bytes("size"), 64U * 1024);
    EXPECT_TRUE(p.list("tags").empty());
    EXPECT_TRUE(p.list("argv").empty());
    EXPECT_EQ(p.object("set").size(), 0U);
    EXPECT_EQ(p.value("value"), nullptr);
    EXPECT_FALSE(p.given("mode"));
    EXPECT_TRUE(p.given("name"));
    EXPECT_EQ(p.name(), "s");
    EXPECT_EQ(p.where("port"), "graph.stages.s.port");
}

TEST(OptionsSchemaTest, GivenValuesAreReadByKind) {
    const OptionsSchema s = sample();
    const StageOptions o = options_of(
        R"({"name":"x","mode":"safe","every":3,"port":"5432","keep":false,"wait":"250ms",)"
        R"("size":"2MiB","tags":"a, b","argv":["cat","-u"],"set":{"k":1},"value":2.5})");
    const ParsedOptions p = s.parse(o, "w");
    EXPECT_EQ(p.string("mode"), "safe");
    EXPECT_EQ(p.integer("every"), 3);
    EXPECT_EQ(p.count("port"), 5432U);  // a quoted number, as "${PORT}" gives
    EXPECT_FALSE(p.boolean("keep"));
    EXPECT_EQ(p.duration("wait"), 250ms);
    EXPECT_EQ(p.bytes("size"), 2U << 20);
    EXPECT_EQ(p.list("tags"), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(p.list("argv"), (std::vector<std::string>{"cat", "-u"}));
    EXPECT_EQ(p.object("set").size(), 1U);
    ASSERT_NE(p.value("value"), nullptr);
    EXPECT_EQ(p.value("value")->as_double(), 2.5);
}

TEST(OptionsSchemaTest, EachKindsErrorNamesTheOption) {
    const OptionsSchema s = sample();
    const std::pair<std::string_view, std::string> cases[] = {
        {R"({})", "graph.stages.s.name: is required"},
        {R"({"name":1})", "graph.stages.s.name: must be a string"},
        {R"({"name":"x","mode":"slow"})", "graph.stages.s.mode: must be fast or safe, not 'slow'"},
        {R"({"name":"x","every":"2"})", "graph.stages.s.every: must be an integer"},
        {R"({"name":"x","every":0})", "graph.stages.s.every: must be at least 1"},
        {R"({"name":"x","port":-1})", "graph.stages.s.port: expected a whole number >= 0"},
        {R"({"name":"x","port":70000})", "graph.stages.s.port: must be at most 65535"},
        {R"({"name":"x","keep":"yes"})", "graph.stages.s.keep: must be true or false"},
        {R"({"name":"x","wait":"soon"})", "graph.stages.s.wait: expected a duration"},
        {R"({"name":"x","wait":0})", "graph.stages.s.wait: must be positive"},
        {R"({"name":"x","size":"16 parsecs"})", "graph.stages.s.size: expected a size"},
        {R"({"name":"x","tags":[1]})", "graph.stages.s.tags: expected a list of strings"},
        {R"({"name":"x","argv":"cat -u"})",
         "graph.stages.s.argv: expected a list, not 'cat -u': write argv: [cat, -u]"},
        {R"({"name":"x","set":[1]})", "graph.stages.s.set: must be an object"},
    };
    for (const auto& [json, expect] : cases) {
        const std::string e = error_of(s, json);
        EXPECT_EQ(e.substr(0, expect.size()), expect) << json;
    }
}

TEST(OptionsSchemaTest, UnknownKeySuggestsTheClosestOption) {
    EXPECT_EQ(error_of(sample(), R"({"name":"x","evry":2})"),
              "graph.stages.s.evry: unknown option 'evry' (did you mean 'every'?)");
    EXPECT_EQ(
        error_of(OptionsSchema("t", "d").add({.name = "alpha", .doc = "a"}), R"({"zzzzzz":1})"),
        "graph.stages.s.zzzzzz: unknown option 'zzzzzz' (known: alpha)");
}

TEST(OptionsSchemaTest, ChecksRunForGivenAndDefaultedOptions) {
    int runs = 0;
    OptionsSchema s("t", "d");
    s.add({.name = "a",
           .doc = "a",
           .default_value = "x",
           .check = [&runs](const ParsedOptions&, const std::string&) { ++runs; }});
    s.add({.name = "b", .doc = "b", .check = [](const ParsedOptions&, const std::string& where) {
               throw ConfigError(where, "bad");
           }});
    s.check([&runs](const ParsedOptions&, const std::string&) { runs += 10; });
    const StageOptions none = options_of("{}");
    (void)s.parse(none, "w");
    EXPECT_EQ(runs, 11);
    EXPECT_EQ(error_of(s, R"({"b":"y"})"), "graph.stages.s.b: bad");
}

TEST(OptionsSchemaTest, ABadDeclarationFailsAtRegistration) {
    EXPECT_THROW(OptionsSchema("t", "d").add({.name = "a", .doc = "a"}).add({.name = "a"}), Error);
    EXPECT_THROW((void)OptionsSchema("t", "d").add(
                     {.name = "n", .kind = OptionKind::integer, .default_value = "ten"}),
                 Error);
    EXPECT_THROW((void)OptionsSchema("t", "d").add(
                     {.name = "n", .kind = OptionKind::integer, .default_value = "0", .min = 1}),
                 Error);
    EXPECT_THROW(
        (void)OptionsSchema("t", "d").add({.name = "n", .default_value = "x", .required = true}),
        Error);
    const OptionsSchema s = sample();
    const StageOptions o = options_of(R"({"name":"x"})");
    const ParsedOptions p = s.parse(o, "w");
    EXPECT_THROW((void)p.integer("name"), Error);    // a string read as an integer
    EXPECT_THROW((void)p.string("missing"), Error);  // not declared
}

TEST(OptionsSchemaTest, HelpAndMarkdownShowEveryOption) {
    const OptionsSchema s = sample();
    const std::string help = s.help();
    EXPECT_NE(help.find("name: a string (string; required)"), std::string::npos) << help;
    EXPECT_NE(help.find("mode: a choice (fast or safe; default fast)"), std::string::npos) << help;
    EXPECT_NE(help.find("wait: d (duration >= 1ms; default 1m)"), std::string::npos) << help;
    const std::string md = s.markdown();
    EXPECT_NE(md.find("| `mode` | `fast`, `safe` | `fast` | a choice |"), std::string::npos) << md;
    EXPECT_NE(md.find("| `name` | string | required | a string |"), std::string::npos) << md;
}

TEST(StageRegistryTest, UnknownTypeSuggestsTheClosestName) {
    StageRegistry r;
    register_builtin_stages(r);
    try {
        (void)r.create("filtre", StageOptions{}, "graph.stages.f");
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.where(), "graph.stages.f.type");
        EXPECT_EQ(e.text().rfind("unknown stage type 'filtre' (did you mean 'filter'?)", 0), 0U)
            << e.text();
    }
}

TEST(StageRegistryTest, ATypeRegisteredTwiceIsAnError) {
    StageRegistry r;
    register_filter_stage(r);
    EXPECT_THROW(register_filter_stage(r), ConfigError);
}

TEST(StageRegistryTest, EveryBuiltinDeclaresItsOptions) {
    StageRegistry r;
    register_builtin_stages(r);
    for (const StageTypeInfo& t : r.list()) {
        EXPECT_FALSE(t.description.empty()) << t.type;
        EXPECT_EQ(t.origin, "builtin");
        const StageRegistry::Entry* entry = r.find(t.type);
        ASSERT_NE(entry, nullptr) << t.type;
        for (const Option& o : entry->schema.options()) {
            EXPECT_FALSE(o.doc.empty()) << t.type << "." << o.name;
            EXPECT_NE(t.options.find(o.name + ": "), std::string::npos) << t.type << "." << o.name;
        }
    }
}

TEST(StageRegistryTest, ValidationRunsBeforeTheFactory) {
    StageRegistry r;
    bool made = false;
    r.add(OptionsSchema("probe", "d")
              .add({.name = "n", .kind = OptionKind::integer, .doc = "n", .min = 1}),
          [&made](const ParsedOptions&) -> std::unique_ptr<Stage> {
              made = true;
              return nullptr;
          });
    const StageOptions o = options_of(R"({"n":0})");
    EXPECT_THROW((void)r.create("probe", o, "w"), ConfigError);
    EXPECT_FALSE(made);
}

}  // namespace
}  // namespace scopeflow
