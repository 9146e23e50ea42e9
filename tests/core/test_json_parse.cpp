// The checked parser and readers of issue 20: duplicate keys, nesting, NUL bytes, number overflow,
// int64 ranges, --set values, and messages that never print an unbounded value.
#include <filesystem>
#include <fstream>
#include <functional>

#include <gtest/gtest.h>

#include "core/json_input.h"

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

TEST(JsonParse, DuplicateKeysAreErrorsWhereverTheyAre) {
  EXPECT_EQ(error_of([] { parse_json_text(R"({"a": 1, "a": 2})", "s.json"); }),
            "s.json: /a: duplicate key (each key may appear once in an object)");
  EXPECT_EQ(error_of([] { parse_json_text(R"({"x": {"b": 1, "c": 2, "b": 3}})", "s.json"); }),
            "s.json: /x/b: duplicate key (each key may appear once in an object)");
  EXPECT_EQ(error_of([] { parse_json_text(R"({"l": [0, {"k~/": 1, "k~/": 1}]})", "s.json"); }),
            "s.json: /l/1/k~0~1: duplicate key (each key may appear once in an object)");
  // The same key in sibling objects is fine.
  EXPECT_EQ(error_of([] { parse_json_text(R"([{"a": 1}, {"a": 2}])", "s.json"); }), "no error");
}

TEST(JsonParse, NestingIsBoundedWithoutRecursion) {
  const std::string deep = std::string(50000, '[') + std::string(50000, ']');
  EXPECT_EQ(error_of([&] { parse_json_text("{\"n\": " + deep + "}", "m.json"); }).substr(0, 52),
            "m.json: /n/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0");
  EXPECT_NE(error_of([&] { parse_json_text(deep, "m.json"); }).find("nested deeper than 64 levels"), std::string::npos);
  // 64 levels are fine, 65 are not.
  EXPECT_EQ(error_of([] { parse_json_text(std::string(64, '[') + std::string(64, ']'), "m.json"); }), "no error");
  EXPECT_NE(error_of([] { parse_json_text(std::string(65, '[') + std::string(65, ']'), "m.json"); }), "no error");
}

TEST(JsonParse, NulByteAndOverflowAreInputErrors) {
  EXPECT_EQ(error_of([] { parse_json_text(std::string("{\"a\": 1}\0garbage", 16), "s.json"); }),
            "s.json: contains a NUL byte at byte 8 (not a JSON text)");
  EXPECT_EQ(error_of([] { parse_json_text(R"({"a": 1e400})", "s.json"); }),
            "s.json: not valid JSON at byte 11: number overflow parsing '1e400'");
  EXPECT_NE(error_of([] { parse_json_text("{\"a\": \"\xff\"}", "s.json"); }).find("s.json: not valid JSON at byte"),
            std::string::npos);
  // A syntax error quotes a bounded prefix of the last token, never the whole input.
  const std::string msg = error_of([] { parse_json_text("\"" + std::string(1 << 20, 'x'), "s.json"); });
  EXPECT_LT(msg.size(), 300u) << msg;
}

TEST(JsonParse, IntegersAreInt64WithExplicitBounds) {
  auto doc = parse_json_text(
      R"({"big": 4294967296, "max": 9223372036854775807, "huge": 18446744073709551615, "f": 1e19, "w": 4.0, "h": 2.5})",
      "c.json");
  auto o = doc.object();
  EXPECT_EQ(error_of([&] { o.required("big").integer(1, 16); }), "c.json: /big: must be an integer in 1..16, got 4294967296");
  EXPECT_EQ(o.required("max").integer(), INT64_MAX);
  EXPECT_EQ(error_of([&] { o.required("huge").integer(); }),
            "c.json: /huge: must be an integer in -9223372036854775808..9223372036854775807, got 18446744073709551615");
  EXPECT_EQ(error_of([&] { o.required("f").integer(0, 100); }), "c.json: /f: must be an integer in 0..100, got 1e+19");
  EXPECT_EQ(o.required("w").integer(1, 8), 4);
  EXPECT_EQ(error_of([&] { o.required("h").integer(1, 8); }), "c.json: /h: expected an integer, got 2.5");
  // The older reader keeps its message and gains an upper bound that fits an int.
  EXPECT_EQ(error_of([&] { o.required("big").integer_at_least(1); }),
            "c.json: /big: must be an integer in 1..2147483647, got 4294967296");
}

TEST(JsonParse, NumbersAreFiniteAndInRange) {
  auto doc = parse_json_text(R"({"bw": 1e-30, "x": 450})", "c.json");
  auto o = doc.object();
  EXPECT_EQ(error_of([&] { o.required("bw").number(0.1, 1e4); }), "c.json: /bw: must be between 0.1 and 10000, got 1e-30");
  EXPECT_DOUBLE_EQ(o.required("x").number(0.1, 1e4), 450.0);
}

TEST(JsonParse, BoundedText) {
  EXPECT_EQ(mhc::bounded("plain"), "plain");
  EXPECT_EQ(mhc::bounded("a\nb\x01\x7f"), "a\\x0Ab\\x01\\x7F");
  EXPECT_EQ(mhc::bounded("\xff\xc3"), "\\xFF\\xC3");
  EXPECT_EQ(mhc::bounded("h\xc3\xa9llo"), "h\xc3\xa9llo");  // valid UTF-8 stays
  EXPECT_EQ(mhc::bounded(std::string(100, 'x'), 10), "xxxxxxxxxx... (100 bytes)");
  // Never cuts a character in half.
  EXPECT_EQ(mhc::bounded("ab\xc3\xa9", 3), "ab... (4 bytes)");
  EXPECT_TRUE(mhc::is_valid_utf8("h\xc3\xa9"));
  EXPECT_FALSE(mhc::is_valid_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(mhc::is_valid_utf8("\xed\xa0\x80"));      // a surrogate
  EXPECT_FALSE(mhc::is_valid_utf8("\xf4\x90\x80\x80"));  // beyond U+10FFFF
}

TEST(JsonParse, ErrorsBoundFileAndPath) {
  const std::string long_name(1 << 20, 'p');
  const std::string msg = error_of([&] { mhc::load_json_file(long_name); });
  EXPECT_LT(msg.size(), 400u);
  EXPECT_NE(msg.find("... (1048576 bytes): cannot open file"), std::string::npos) << msg;
  auto doc = parse_json_text("{\"" + std::string(5000, 'k') + "\": 1}", "s.json");
  auto o = doc.object();
  EXPECT_LT(error_of([&] { o.finish(); }).size(), 400u);
}

TEST(JsonParse, FilesThatAreNotDocuments) {
  EXPECT_EQ(error_of([] { mhc::load_json_file("/"); }), "/: not a file but a directory");
  EXPECT_EQ(error_of([] { mhc::load_json_file(""); }), "input: cannot open file");
  // A device that never ends is read up to the size limit, not forever.
  if (std::filesystem::exists("/dev/zero")) {
    EXPECT_EQ(error_of([] { mhc::load_json_file("/dev/zero"); }), "/dev/zero: larger than the 64 MiB any mhcsim input may be");
  }
}

TEST(JsonParse, FlagValues) {
  EXPECT_EQ(mhc::json_from_flag("8", "--set", "/mhc/n"), nlohmann::json(8));
  EXPECT_EQ(mhc::json_from_flag("dualpipe", "--set", "/schedule/kind"), nlohmann::json("dualpipe"));
  EXPECT_EQ(mhc::json_from_flag("[1, 2]", "--set", "/x"), nlohmann::json::array({1, 2}));
  EXPECT_EQ(error_of([] { mhc::json_from_flag("1e400", "--set", "/mhc/n"); }),
            "--set: /mhc/n: the value: not valid JSON at byte 5: number overflow parsing '1e400'");
  EXPECT_EQ(error_of([] { mhc::json_from_flag("\xc3(", "--set", "/name"); }),
            "--set: /name: the value is not valid UTF-8: \\xC3(");
}
