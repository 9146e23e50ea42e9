#include "core/json_input.h"

#include <gtest/gtest.h>

using mhc::InputError;
using mhc::parse_json_text;

namespace {
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}
}  // namespace

TEST(JsonInput, MissingKeyNamesFileAndPath) {
  auto doc = parse_json_text(R"({"model": {"layers": 4}})", "s.json");
  auto msg = error_of([&] { doc.object().required("model").object().required("hidden"); });
  EXPECT_EQ(msg, "s.json: /model: missing required key \"hidden\"");
}

TEST(JsonInput, WrongTypeSaysWhatWasExpected) {
  auto doc = parse_json_text(R"({"pp": "four"})", "s.json");
  auto msg = error_of([&] { doc.object().required("pp").integer(); });
  EXPECT_EQ(msg, "s.json: /pp: expected an integer, got a string \"four\"");
}

TEST(JsonInput, UnknownKeyIsAnError) {
  auto doc = parse_json_text(R"({"a": 1, "typo": 2})", "s.json");
  auto obj = doc.object();
  obj.required("a").integer();
  auto msg = error_of([&] { obj.finish(); });
  EXPECT_EQ(msg, "s.json: /typo: unknown key (accepted here: a)");
}

TEST(JsonInput, RangesAndChoices) {
  auto doc = parse_json_text(R"({"bw": -3, "n": 0, "kind": "gpipe2", "x": 1.5, "a~/b": true})", "c.json");
  auto obj = doc.object();
  EXPECT_EQ(error_of([&] { obj.required("bw").positive(); }), "c.json: /bw: must be > 0, got -3");
  EXPECT_EQ(error_of([&] { obj.required("n").integer_at_least(1); }),
            "c.json: /n: must be an integer >= 1, got 0");
  EXPECT_EQ(error_of([&] { obj.required("kind").one_of({"gpipe", "1f1b"}); }),
            "c.json: /kind: expected one of \"gpipe\", \"1f1b\", got \"gpipe2\"");
  EXPECT_EQ(error_of([&] { obj.required("x").integer(); }), "c.json: /x: expected an integer, got 1.5");
  EXPECT_TRUE(obj.required("a~/b").boolean());
  EXPECT_EQ(error_of([&] { obj.required("a~/b").number(); }),
            "c.json: /a~0~1b: expected a number, got a boolean true");
}

TEST(JsonInput, SyntaxErrorAndMissingFile) {
  EXPECT_NE(error_of([] { parse_json_text("{\"a\": ", "bad.json"); }).find("bad.json: not valid JSON"),
            std::string::npos);
  EXPECT_EQ(error_of([] { mhc::load_json_file("/nonexistent/x.json"); }),
            "/nonexistent/x.json: cannot open file");
}

TEST(JsonInput, ArraysCarryIndexInPath) {
  auto doc = parse_json_text(R"({"list": [1, "two"]})", "s.json");
  auto items = doc.object().required("list").array();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].integer(), 1);
  EXPECT_EQ(error_of([&] { items[1].number(); }), "s.json: /list/1: expected a number, got a string \"two\"");
}
