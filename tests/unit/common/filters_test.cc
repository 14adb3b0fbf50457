#include "common/filters.h"

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <google/protobuf/any.pb.h>
#include <google/protobuf/repeated_ptr_field.h>
#include <gtest/gtest.h>

#include "common/proto_adaptor.h"
#include "github.com/containerd/containerd/api/events/namespace.pb.h"
#include "github.com/containerd/containerd/api/events/task.pb.h"
#include "github.com/containerd/containerd/api/services/events/v1/events.pb.h"
#include "github.com/containerd/containerd/api/services/introspection/v1/introspection.pb.h"

namespace berth::filters {
namespace {

using namespace std::string_literals;

// ---------------------------------------------------------------------------------------
// A small corpus and a handwritten adaptor, in the style stores write theirs.

struct Record {
  std::string name;
  std::string other;
  std::map<std::string, std::string> labels;
};

const std::vector<Record>& Corpus() {
  static const std::vector<Record> kCorpus = {
      /*0*/ {"alpine", "", {{"env", "prod"}}},
      /*1*/ {"busybox", "", {}},
      /*2*/ {"alpine", "", {{"env", "dev"}, {"team name", "core"}}},
      /*3*/ {"busybox", "", {{"tier", "web"}}},
      /*4*/ {"nginx-x", "", {{"weird \\ and \" key", "yes"}}},
      /*5*/ {"nginx-x", "", {{"weird \\ and \".suffix", "yes"}}},
      /*6*/ {"redis", "a, b and c", {}},
      /*7*/ {"redis2", "cab", {}},
      /*8*/ {"dotted", "", {{"env", "v1.2_x-y"}, {"a.b", "c"}, {"empty", ""}}},
  };
  return kCorpus;
}

FuncAdaptor Adapt(const Record& r) {
  return FuncAdaptor([&r](const std::vector<std::string>& path) -> std::optional<std::string> {
    if (path.empty()) return std::nullopt;
    if (path[0] == "name") return StringField(r.name);
    if (path[0] == "other") return StringField(r.other);
    if (path[0] == "labels") return LabelField(r.labels, Rest(path));
    return std::nullopt;
  });
}

// Indexes of the corpus records `filter` matches.
std::vector<int> Select(const Filter& filter) {
  std::vector<int> matched;
  for (size_t i = 0; i < Corpus().size(); ++i) {
    if (filter.Match(Adapt(Corpus()[i]))) matched.push_back(static_cast<int>(i));
  }
  return matched;
}

// Test names from the table position (inputs are not valid identifiers).
template <typename Case>
std::string CaseName(const testing::TestParamInfo<Case>& param) {
  return "Case" + std::to_string(param.index);
}

const std::vector<int> kAll = {0, 1, 2, 3, 4, 5, 6, 7, 8};

struct MatchCase {
  std::string input;
  std::vector<int> expected;
};

class FiltersMatchTest : public testing::TestWithParam<MatchCase> {};

TEST_P(FiltersMatchTest, SelectsExpectedRecords) {
  const MatchCase& c = GetParam();
  Result<FilterPtr> filter = Parse(c.input);
  ASSERT_TRUE(filter.ok()) << c.input << ": " << filter.status().ToString();
  ASSERT_NE(*filter, nullptr);
  EXPECT_EQ(Select(**filter), c.expected) << c.input;
}

// Adapted from containerd's filters/filter_test.go cases, on berth's own data.
INSTANTIATE_TEST_SUITE_P(
    Containerd, FiltersMatchTest,
    testing::Values(
        MatchCase{"", kAll},                                    // empty matches all
        MatchCase{"name", kAll},                                // presence
        MatchCase{"labels.env", {0, 2, 8}},                     // label presence
        MatchCase{"labels.env,name", {0, 2, 8}},                // AND of presences
        MatchCase{"labels.env==prod", {0}},                     // label value
        MatchCase{"labels.env==v1.2_x-y", {8}},                 // punctuated value
        MatchCase{"name==busybox", {1, 3}},                     // equality
        MatchCase{"name!=busybox", {0, 2, 4, 5, 6, 7, 8}},      // inequality
        MatchCase{"name==busybox,labels.tier", {3}},            // equality AND presence
        MatchCase{R"(other=="a, b and c")", {6}},               // quoted value with ','
        MatchCase{"other~=[abc]+,name!=alpine", {6, 7}},        // regexp
        MatchCase{"other~=/[abc]+/,name!=alpine", {6, 7}},      // /-quoted regexp
        MatchCase{"other~=/[abc]{1,2}/,name!=alpine", {6, 7}},  // ',' inside /.../
        MatchCase{"other~=|[abc]{1,2}|,name!=alpine", {6, 7}},  // |-quoted regexp
        MatchCase{R"(other~=/[abc]{0,1}"\//,name!=alpine)", {}},  // valid, matches nothing
        MatchCase{"name==busybox,labels.tier==web", {3}},
        MatchCase{"name==busybox,labels.tier==wrong", {}},
        MatchCase{R"(name==alpine,labels."team name")", {2}},    // quoted field
        MatchCase{R"(labels."weird \\ and \" key"==yes)", {4}},  // escapes in field
        MatchCase{R"(labels."weird \\ and \"".suffix==yes)", {5}},
        MatchCase{R"(labels."a.b"==c)", {8}},  // dotted label key, quoted
        MatchCase{"labels.a.b==c", {8}},       // ... or as path elements joined by '.'
        MatchCase{"labels.empty", {8}},        // a set label with an empty value is present
        MatchCase{R"(labels.empty=="")", {8}},
        MatchCase{"name == busybox", {1, 3}},  // spaces around the operator are skipped
        MatchCase{"  name==busybox", {1, 3}},  // and before a field
        MatchCase{"name~=lpi", {0, 2}},        // regexp matches anywhere, like Go's
        MatchCase{"name~=^lpi", {}},
        MatchCase{"name~=^(alpine|redis)$", {0, 2, 6}},
        MatchCase{"name~=(?i)^ALPINE$", {0, 2}},              // Go (RE2) syntax: flags,
        MatchCase{"name~=^(?i:ALP)ine$", {0, 2}},             // also scoped,
        MatchCase{"name~=^ALP(?i)ine$", {}},                  // or from where they appear
        MatchCase{"name~=^(?P<n>alp)ine$", {0, 2}},           // named groups
        MatchCase{R"(name~=^\pL+$)", {0, 1, 2, 3, 6, 8}},     // Unicode classes
        MatchCase{R"(name~=^\p{L}+\d$)", {7}},
        MatchCase{R"(name~=\Aredis\z)", {6}},                 // \A and \z
        MatchCase{R"(name~=^redis\d$)", {7}},     // regexp escapes need no quoting
        MatchCase{R"(name~="^redis\\d$")", {7}},  // in "..." they are Go escapes
        MatchCase{R"(name=="\x72\145dis")", {6}},  // \x and octal escapes
        MatchCase{R"(name=="\u0072edis")", {6}},   // \u escape
        MatchCase{"missing~=^$", kAll},            // ~= sees an absent field as ""
        MatchCase{"missing!=x", kAll},             // so does !=
        MatchCase{"missing==x", {}}),
    CaseName<MatchCase>);

// berth's `|`: OR between comma-joined groups, binding weaker than ','.
INSTANTIATE_TEST_SUITE_P(
    Alternatives, FiltersMatchTest,
    testing::Values(
        MatchCase{"name==alpine,labels.env==dev|name==redis", {2, 6}},
        MatchCase{"name==redis|name==alpine,labels.env==dev", {2, 6}},
        MatchCase{"name==busybox|name==redis|name==dotted", {1, 3, 6, 8}},
        MatchCase{"labels.tier|other", {3, 6, 7}},        // presence tests
        MatchCase{R"(other=="cab"|name==dotted)", {7, 8}},  // after a quoted value
        MatchCase{"name~=/^alpine$/|name==redis", {0, 2, 6}},
        MatchCase{"name~=|^alpine$||name==redis", {0, 2, 6}},
        MatchCase{"name==nope|labels.a.b==c", {8}},
        // An unquoted regexp keeps `|` as alternation, as in containerd.
        MatchCase{"name~=^alpine$|^redis$", {0, 2, 6}},
        MatchCase{"name~=^alpine$|name==redis", {0, 2}},  // i.e. /^alpine$|name==redis/
        // In quotes `|` is just a character.
        MatchCase{R"(name=="a|b")", {}}),
    CaseName<MatchCase>);

// ---------------------------------------------------------------------------------------
// Parse errors: containerd's message, and kInvalidArgument.

struct ErrorCase {
  std::string input;
  std::string message;
};

class FiltersErrorTest : public testing::TestWithParam<ErrorCase> {};

TEST_P(FiltersErrorTest, ReportsWhereAndWhat) {
  const ErrorCase& c = GetParam();
  Result<FilterPtr> filter = Parse(c.input);
  ASSERT_FALSE(filter.ok()) << c.input;
  EXPECT_EQ(filter.status().code(), Errc::kInvalidArgument);
  EXPECT_EQ(filter.status().message(), c.message);
}

INSTANTIATE_TEST_SUITE_P(
    Containerd, FiltersErrorTest,
    testing::Values(
        ErrorCase{"labels.|env|==prod",
                  "filters: parse error: [labels. >|||< env|==prod]: invalid quote encountered"},
        ErrorCase{R"(labels.?"weird")",
                  R"(filters: parse error: [labels. >|?|< "weird"]: expected field or quoted)"},
        ErrorCase{"name==alpine,", "filters: parse error: [name==alpine,]: expected field or quoted"},
        ErrorCase{"labels.", "filters: parse error: [labels.]: expected field or quoted"},
        ErrorCase{"image~=,id?=?x",
                  "filters: parse error: [image~= >|,|< id?=?x]: expected value or quoted"},
        ErrorCase{"labels.ns/key==value",
                  "filters: parse error: [labels.ns >|/|< key==value]: quoted literal not "
                  "terminated"},
        ErrorCase{"labels.key==/value",
                  "filters: parse error: [labels.key== >|/|< value]: quoted literal not "
                  "terminated"},
        ErrorCase{"name==", "filters: parse error: [name==]: expected value or quoted"},
        // containerd wants topics quoted: an unquoted leading '/' opens a /.../ literal,
        // which only ~= accepts.
        ErrorCase{"topic==/tasks/exit",
                  "filters: parse error: [topic== >|/|< tasks/exit]: invalid quote encountered"},
        ErrorCase{"name==|x|", "filters: parse error: [name== >|||< x|]: invalid quote encountered"},
        ErrorCase{"name=~x", R"(filters: parse error: [name >|=|< ~x]: unsupported operator "=~")"},
        ErrorCase{"name===x",
                  R"(filters: parse error: [name >|=|< ==x]: unsupported operator "===")"},
        ErrorCase{"name==!x",
                  R"(filters: parse error: [name >|=|< =!x]: unsupported operator "==!")"},
        ErrorCase{"name?",
                  R"(filters: parse error: [name >|?|< ]: expected an operator ("=="|"!="|"~="))"},
        ErrorCase{"name==a b", "filters: parse error: [name==a >| |< b]: unexpected input:  "},
        ErrorCase{"name==a ", "filters: parse error: [name==a >| |< ]: unexpected input:  "},
        ErrorCase{R"(name=="a"b)", R"(filters: parse error: [name=="a" >|b|< ]: unexpected input: b)"},
        // '.' and ',' separate before anything else: a regexp starting with '.' is quoted.
        ErrorCase{"name~=.*", "filters: parse error: [name~= >|.|< *]: expected value or quoted"},
        ErrorCase{"   ", "filters: parse error: [   ]: expected field or quoted"},
        ErrorCase{",", "filters: parse error: [ >|,|< ]: expected field or quoted"},
        ErrorCase{R"(labels."\g")",
                  R"(filters: parse error: [labels. >|"|< \g"]: illegal escape sequence)"},
        ErrorCase{R"(labels."\xaz")",
                  R"(filters: parse error: [labels. >|"|< \xaz"]: illegal numeric escape sequence)"},
        ErrorCase{"labels.\"a\nb\"==c",
                  "filters: parse error: [labels. >|\"|< a\nb\"==c]: quoted literal not terminated"},
        ErrorCase{R"(labels."\777")",
                  R"(filters: parse error: [labels. >|"|< \777"]: unquoting failed: quote syntax error)"},
        ErrorCase{R"(labels."\'")",
                  R"(filters: parse error: [labels. >|"|< \'"]: illegal escape sequence)"},
        ErrorCase{"foo\0bar"s, "filters: parse error: [foo >|\0|< bar]: unexpected null"s},
        ErrorCase{"name==a\0"s, "filters: parse error: [name==a >|\0|< ]: unexpected input: \uFFFD"s},
        ErrorCase{"labels.\"a\0\""s,
                  "filters: parse error: [labels. >|\"|< a\0\"]: unexpected null"s},
        ErrorCase{"name==\xff", "filters: parse error: [name== >|\xff|< ]: rune error"}),
    CaseName<ErrorCase>);

INSTANTIATE_TEST_SUITE_P(
    Alternatives, FiltersErrorTest,
    testing::Values(
        ErrorCase{"name==alpine|", "filters: parse error: [name==alpine|]: expected field or quoted"},
        ErrorCase{"name==a,|b", "filters: parse error: [name==a, >|||< b]: quoted literal not terminated"},
        ErrorCase{"|name", "filters: parse error: [ >|||< name]: quoted literal not terminated"},
        ErrorCase{"a==1 |b==2", "filters: parse error: [a==1 >| |< |b==2]: unexpected input:  "}),
    CaseName<ErrorCase>);

TEST(FiltersParseTest, InvalidRegexpIsAParseError) {
  Result<FilterPtr> filter = Parse("name~=(unclosed");
  ASSERT_FALSE(filter.ok());
  EXPECT_EQ(filter.status().code(), Errc::kInvalidArgument);
  EXPECT_TRUE(filter.status().message().starts_with(
      R"(filters: parse error: [name~= >|(|< unclosed]: invalid regexp "(unclosed": )"))
      << filter.status().message();
}

// Syntax of std::regex's ECMAScript grammar that Go (RE2) does not have.
TEST(FiltersParseTest, NonRe2SyntaxIsAParseError) {
  for (const char* input : {R"(name~=(a)\1)", "name~=a(?=b)", "name~=a(?!b)", "name~=(?<=a)b",
                            "name~=(?<n>a)"}) {
    Result<FilterPtr> filter = Parse(input);
    ASSERT_FALSE(filter.ok()) << input;
    EXPECT_EQ(filter.status().code(), Errc::kInvalidArgument) << input;
    EXPECT_TRUE(filter.status().message().starts_with("filters: parse error: [name~= >|"))
        << filter.status().message();
    EXPECT_TRUE(filter.status().message().find("]: invalid regexp \"") != std::string::npos)
        << filter.status().message();
  }
}

// RE2 matches in linear time: a pattern that makes a backtracking engine take exponential
// time (or overflow its stack) on a near-miss finishes at once.
TEST(FiltersSemanticsTest, PathologicalRegexpIsLinear) {
  const std::string value = std::string(100000, 'a') + "b";
  FuncAdaptor adaptor([&](const std::vector<std::string>&) -> std::optional<std::string> {
    return value;
  });
  for (const char* input : {"x~=(a+)+$", "x~=^(a|aa)+$", "x~=(a*)*c"}) {
    Result<FilterPtr> filter = Parse(input);
    ASSERT_TRUE(filter.ok()) << input << ": " << filter.status().ToString();
    auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE((*filter)->Match(adaptor)) << input;
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5)) << input;
  }
  Result<FilterPtr> filter = Parse("x~=(a+)+b$");
  ASSERT_TRUE(filter.ok()) << filter.status().ToString();
  EXPECT_TRUE((*filter)->Match(adaptor));
}

// A parsed filter (and its compiled regexp) is shared between threads.
TEST(FiltersSemanticsTest, RegexpFilterIsSharedAcrossThreads) {
  Result<FilterPtr> parsed = Parse("name~=^(?i)REDIS\\d?$");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  FilterPtr filter = *parsed;
  std::vector<std::vector<int>> results(4);
  std::vector<std::thread> threads;
  for (auto& result : results) {
    threads.emplace_back([filter, &result] {
      for (int i = 0; i < 100; ++i) result = Select(*filter);
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& result : results) EXPECT_EQ(result, (std::vector<int>{6, 7}));
}

TEST(FiltersParseTest, UnicodeValuesAndEscapes) {
  std::map<std::string, std::string> fields = {{"name", "牛"}, {"key", "AAé😀"}};
  FuncAdaptor adaptor([&](const std::vector<std::string>& path) -> std::optional<std::string> {
    if (path.size() != 1 || !fields.contains(path[0])) return std::nullopt;
    return fields[path[0]];
  });
  for (const char* input : {"name~=牛", "name~=|牛|", "name==牛", R"(name=="\u725b")",
                            R"(key=="\x41\101\u00e9\U0001F600")", "key~=^AAé",
                            R"(name~=^\pL$)", R"(key~=^AA.\p{So}$)"}) {
    Result<FilterPtr> filter = Parse(input);
    ASSERT_TRUE(filter.ok()) << input << ": " << filter.status().ToString();
    EXPECT_TRUE((*filter)->Match(adaptor)) << input;
  }
}

TEST(FiltersParseTest, ControlEscapes) {
  FuncAdaptor adaptor([](const std::vector<std::string>&) -> std::optional<std::string> {
    return std::string("a\tb\nc\\d/e");
  });
  Result<FilterPtr> filter = Parse(R"(x=="a\tb\nc\\d/e")");
  ASSERT_TRUE(filter.ok()) << filter.status().ToString();
  EXPECT_TRUE((*filter)->Match(adaptor));
  // In /.../ a slash is escaped; the regexp then sees a plain '/'.
  filter = Parse(R"(x~=/d\/e$/)");
  ASSERT_TRUE(filter.ok()) << filter.status().ToString();
  EXPECT_TRUE((*filter)->Match(adaptor));
}

TEST(FiltersParseTest, QuirksKeptFromContainerd) {
  // Backquotes and single quotes are not quotes to containerd's scanner: part of the value.
  FuncAdaptor adaptor([](const std::vector<std::string>&) -> std::optional<std::string> {
    return std::string("`x`");
  });
  Result<FilterPtr> filter = Parse("f==`x`");
  ASSERT_TRUE(filter.ok()) << filter.status().ToString();
  EXPECT_TRUE((*filter)->Match(adaptor));
  EXPECT_FALSE(Parse("`f`==x").ok());
  // A field may start with a digit.
  EXPECT_TRUE(Parse("0abc==1").ok());
}

TEST(FiltersSemanticsTest, OperatorsOnPresentAndAbsentFields) {
  FuncAdaptor adaptor([](const std::vector<std::string>& path) -> std::optional<std::string> {
    if (path == std::vector<std::string>{"set"}) return std::string("v");
    if (path == std::vector<std::string>{"empty"}) return std::string();
    return std::nullopt;
  });
  auto matches = [&](const char* input) {
    Result<FilterPtr> filter = Parse(input);
    EXPECT_TRUE(filter.ok()) << input << ": " << filter.status().ToString();
    return filter.ok() && (*filter)->Match(adaptor);
  };
  EXPECT_TRUE(matches("set"));
  EXPECT_TRUE(matches("empty"));  // present, with an empty value
  EXPECT_FALSE(matches("absent"));
  EXPECT_TRUE(matches("set==v"));
  EXPECT_FALSE(matches("set!=v"));
  EXPECT_TRUE(matches(R"(empty=="")"));
  EXPECT_FALSE(matches(R"(absent=="")"));  // == needs presence
  EXPECT_FALSE(matches(R"(absent!="")"));  // != compares an absent field as ""
  EXPECT_TRUE(matches("absent!=v"));
  EXPECT_TRUE(matches("absent~=/.*/"));
  EXPECT_FALSE(matches("absent~=/./"));
}

TEST(FiltersParseAllTest, OrOfFilters) {
  Result<FilterPtr> filter = ParseAll({"name==alpine,labels.env==prod", "name==redis"});
  ASSERT_TRUE(filter.ok()) << filter.status().ToString();
  EXPECT_EQ(Select(**filter), (std::vector<int>{0, 6}));
}

TEST(FiltersParseAllTest, NoFiltersMatchEverything) {
  Result<FilterPtr> filter = ParseAll(std::vector<std::string>{});
  ASSERT_TRUE(filter.ok());
  EXPECT_EQ(Select(**filter), kAll);
}

TEST(FiltersParseAllTest, EmptyStringMatchesEverything) {
  Result<FilterPtr> filter = ParseAll({"name==nothing", ""});
  ASSERT_TRUE(filter.ok());
  EXPECT_EQ(Select(**filter), kAll);
}

TEST(FiltersParseAllTest, AnyBadFilterIsInvalidArgument) {
  Result<FilterPtr> filter = ParseAll({"name==alpine", "name=="});
  ASSERT_FALSE(filter.ok());
  EXPECT_EQ(filter.status().code(), Errc::kInvalidArgument);
  // containerd: "<parse error>: invalid argument".
  EXPECT_EQ(filter.status().ToString(),
            "filters: parse error: [name==]: expected value or quoted: invalid argument");
}

TEST(FiltersParseAllTest, AcceptsRepeatedProtoField) {
  google::protobuf::RepeatedPtrField<std::string> filters;
  filters.Add("name==busybox");
  filters.Add("labels.a.b");
  Result<FilterPtr> filter = ParseAll(filters);
  ASSERT_TRUE(filter.ok()) << filter.status().ToString();
  EXPECT_EQ(Select(**filter), (std::vector<int>{1, 3, 8}));
}

TEST(FiltersCombinatorTest, AlwaysAnyAll) {
  FuncAdaptor nothing(nullptr);
  EXPECT_TRUE(Always()->Match(nothing));
  EXPECT_FALSE(AnyOf({})->Match(nothing));
  EXPECT_TRUE(AllOf({})->Match(nothing));
  EXPECT_TRUE(AnyOf({AllOf({}), AnyOf({})})->Match(nothing));
  EXPECT_FALSE(AllOf({AllOf({}), AnyOf({})})->Match(nothing));
  EXPECT_EQ(nothing.Field({"x"}), std::nullopt);
}

TEST(FiltersHelpersTest, LabelField) {
  std::map<std::string, std::string> labels = {{"a.b", "c"}, {"k", ""}, {"", "root"}};
  EXPECT_EQ(LabelField(labels, {"a", "b"}), "c");
  EXPECT_EQ(LabelField(labels, {"a.b"}), "c");
  EXPECT_EQ(LabelField(labels, {"k"}), "");  // present, empty
  EXPECT_EQ(LabelField(labels, {"a"}), std::nullopt);
  EXPECT_EQ(LabelField(labels, {}), "root");  // `labels` alone names key ""
  EXPECT_EQ(LabelField({}, {}), std::nullopt);
  EXPECT_EQ(StringField(""), std::nullopt);
  EXPECT_EQ(StringField("x"), "x");
  EXPECT_EQ(Rest({"labels", "a", "b"}), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Rest({}), std::vector<std::string>{});
}

}  // namespace
}  // namespace berth::filters

// ---------------------------------------------------------------------------------------
// ProtoAdaptor on generated API types.

namespace berth {
namespace {

bool Matches(const std::string& input, const google::protobuf::Message& message) {
  Result<filters::FilterPtr> filter = filters::Parse(input);
  EXPECT_TRUE(filter.ok()) << input << ": " << filter.status().ToString();
  return filter.ok() && (*filter)->Match(ProtoAdaptor(message));
}

containerd::services::events::v1::Envelope NamespaceCreateEnvelope(const std::string& type_url) {
  containerd::events::NamespaceCreate event;
  event.set_name("n1");
  (*event.mutable_labels())["a.b"] = "c";
  (*event.mutable_labels())["empty"] = "";
  containerd::services::events::v1::Envelope envelope;
  envelope.set_namespace_("default");
  envelope.set_topic("/namespaces/create");
  envelope.mutable_timestamp()->set_seconds(1700000000);
  envelope.mutable_event()->set_type_url(type_url);
  envelope.mutable_event()->set_value(event.SerializeAsString());
  return envelope;
}

TEST(FiltersProtoAdaptorTest, EnvelopeFields) {
  auto envelope = NamespaceCreateEnvelope("containerd.events.NamespaceCreate");
  EXPECT_TRUE(Matches(R"(topic=="/namespaces/create")", envelope));
  EXPECT_TRUE(Matches(R"(topic~=^/namespaces/)", envelope));
  EXPECT_TRUE(Matches("namespace==default", envelope));
  EXPECT_FALSE(Matches("namespace==other", envelope));
  EXPECT_TRUE(Matches(R"(namespace==default,topic~="create$")", envelope));
  EXPECT_FALSE(Matches("timestamp", envelope));            // not a string/bool/message path
  EXPECT_FALSE(Matches("timestamp.seconds", envelope));    // numbers are not exposed
  EXPECT_FALSE(Matches("nosuchfield", envelope));
  EXPECT_TRUE(Matches("nosuchfield!=x", envelope));
}

TEST(FiltersProtoAdaptorTest, EnvelopeEventIsUnpacked) {
  auto envelope = NamespaceCreateEnvelope("containerd.events.NamespaceCreate");
  EXPECT_TRUE(Matches("event.name==n1", envelope));
  EXPECT_FALSE(Matches("event.name==n2", envelope));
  EXPECT_TRUE(Matches(R"(event.labels."a.b"==c)", envelope));
  EXPECT_TRUE(Matches("event.labels.a.b==c", envelope));
  EXPECT_TRUE(Matches("event.labels.empty", envelope));
  EXPECT_FALSE(Matches("event.labels.a", envelope));
  EXPECT_FALSE(Matches("event", envelope));  // the event itself has no value
  EXPECT_FALSE(Matches("event.nosuchfield", envelope));
  EXPECT_TRUE(Matches(R"(namespace==default,event.name==n1|topic=="/other")", envelope));

  ProtoAdaptor adaptor(envelope);
  EXPECT_EQ(adaptor.Field({"event", "name"}), "n1");
  EXPECT_EQ(adaptor.Field({"topic"}), "/namespaces/create");
  EXPECT_EQ(adaptor.Field({}), std::nullopt);
}

TEST(FiltersProtoAdaptorTest, AnyTypeUrlWithPrefix) {
  auto envelope =
      NamespaceCreateEnvelope("type.googleapis.com/containerd.events.NamespaceCreate");
  EXPECT_TRUE(Matches("event.name==n1", envelope));

  containerd::events::NamespaceCreate event;
  event.set_name("packed");
  envelope.mutable_event()->PackFrom(event);
  EXPECT_TRUE(Matches("event.name==packed", envelope));
}

TEST(FiltersProtoAdaptorTest, UnusableAnyIsAbsent) {
  auto unknown = NamespaceCreateEnvelope("containerd.events.NoSuchEvent");
  EXPECT_FALSE(Matches("event.name", unknown));
  EXPECT_TRUE(Matches("namespace==default", unknown));

  auto garbage = NamespaceCreateEnvelope("containerd.events.NamespaceCreate");
  garbage.mutable_event()->set_value("\xff\xff\xff");
  EXPECT_FALSE(Matches("event.name", garbage));

  containerd::services::events::v1::Envelope no_event;
  no_event.set_topic("/x");
  EXPECT_FALSE(Matches("event.name", no_event));
}

TEST(FiltersProtoAdaptorTest, EventTypes) {
  containerd::events::TaskCreate create;
  create.set_container_id("c1");
  create.set_pid(42);
  EXPECT_TRUE(Matches("container_id==c1", create));
  EXPECT_FALSE(Matches("pid", create));       // numbers are not exposed, as in containerd
  EXPECT_FALSE(Matches("io.terminal", create));  // unset message
  EXPECT_FALSE(Matches("rootfs", create));    // repeated
  create.mutable_io()->set_stdout("/run/out");
  EXPECT_TRUE(Matches("io.terminal==false", create));  // bools are always present
  EXPECT_TRUE(Matches(R"(io.stdout=="/run/out")", create));
  EXPECT_FALSE(Matches("io.stdin", create));  // empty string
  EXPECT_FALSE(Matches("io", create));
  create.mutable_io()->set_terminal(true);
  EXPECT_TRUE(Matches("io.terminal==true", create));
  // Like containerd's generated code a scalar answers for a longer path too.
  EXPECT_EQ(ProtoAdaptor(create).Field({"container_id", "x"}), "c1");
}

TEST(FiltersProtoAdaptorTest, IntrospectionPlugin) {
  containerd::services::introspection::v1::Plugin plugin;
  plugin.set_type("io.containerd.grpc.v1");
  plugin.set_id("version");
  plugin.add_requires_ids("io.containerd.service.v1");
  plugin.add_capabilities("cap");
  EXPECT_TRUE(Matches("type==io.containerd.grpc.v1", plugin));
  EXPECT_TRUE(Matches("id==version", plugin));
  EXPECT_TRUE(Matches("type==io.containerd.grpc.v1,id==version", plugin));
  EXPECT_FALSE(Matches("type==io.containerd.grpc.v1,id==tasks", plugin));
  EXPECT_TRUE(Matches(R"(type~=^io\.containerd\.grpc\.)", plugin));
  EXPECT_FALSE(filters::Parse(R"(type~="^io\.containerd")").ok());  // "\." is no Go escape
  EXPECT_TRUE(Matches("id==tasks|id==version", plugin));
  EXPECT_FALSE(Matches("requires_ids", plugin));
  EXPECT_FALSE(Matches("capabilities", plugin));
  EXPECT_FALSE(Matches("exports.root", plugin));  // empty map
  EXPECT_FALSE(Matches("init_err.message", plugin));

  (*plugin.mutable_exports())["root"] = "/var/lib/berth";
  plugin.mutable_init_err()->set_message("no btrfs");
  EXPECT_TRUE(Matches(R"(exports.root=="/var/lib/berth")", plugin));
  EXPECT_TRUE(Matches("init_err.message~=btrfs", plugin));
  EXPECT_FALSE(Matches("init_err.code", plugin));

  Result<filters::FilterPtr> filter =
      filters::ParseAll({"type==io.containerd.snapshotter.v1", "id==version"});
  ASSERT_TRUE(filter.ok());
  EXPECT_TRUE((*filter)->Match(ProtoAdaptor(plugin)));
}

}  // namespace
}  // namespace berth
