#include "core/cli_args.h"

#include <gtest/gtest.h>

#include "core/json_input.h"

using mhc::CliArgs;

TEST(CliArgs, ValuesSwitchesAndPositionals) {
  CliArgs a("mhcsim x", {"file.json", "--n", "4", "--C=2560", "--json"}, {"--n", "--C"}, {"--json"});
  EXPECT_EQ(a.integer("--n"), 4);
  EXPECT_EQ(a.positive("--C"), 2560);
  EXPECT_TRUE(a.flag("--json"));
  EXPECT_EQ(a.positional_at(0, "scenario"), "file.json");
}

TEST(CliArgs, MistakesNameTheFlag) {
  auto msg = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const mhc::InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(msg([] { CliArgs("mhcsim io", {"--nn", "3"}, {"--n"}, {}); }).rfind("mhcsim io: --nn: unknown flag", 0),
            0u);
  EXPECT_EQ(msg([] { CliArgs("mhcsim io", {"--n"}, {"--n"}, {}); }), "mhcsim io: --n: expects a value");
  EXPECT_EQ(msg([] { CliArgs("mhcsim io", {"--n", "x"}, {"--n"}, {}).integer("--n"); }),
            "mhcsim io: --n: expected a number, got 'x'");
  EXPECT_EQ(msg([] { CliArgs("mhcsim io", {"--n", "2.5"}, {"--n"}, {}).integer("--n"); }),
            "mhcsim io: --n: expected an integer, got '2.5'");
  auto kv = CliArgs("s", {"--times", "F=1,B=2,W=0.5"}, {"--times"}, {}).key_values("--times");
  EXPECT_DOUBLE_EQ(kv["W"], 0.5);
  EXPECT_EQ(msg([] { CliArgs("s", {"--times", "F1"}, {"--times"}, {}).key_values("--times"); }),
            "s: --times: expected NAME=VALUE items, got 'F1'");
}
