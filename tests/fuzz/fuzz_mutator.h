// The input fuzzer's mutations: what an attacker tries on mhcsim's inputs, applied to a workspace
// (input_workspace.h) as JSON edits, text edits and --set flags. Every case follows from its seed,
// so any one can be replayed alone.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "input_workspace.h"

namespace mhc::fuzz {

struct Mutation {
  std::vector<std::string> set_flags;  // --set values, each "/POINTER=VALUE" (any bytes)
  bool profile_touched = false;        // profile.json differs from the copy
  std::vector<std::string> notes;      // what was done, for a failure's report
};

class Mutator {
 public:
  explicit Mutator(uint64_t seed) : rng_(seed) {}

  // Hostile (7 cases in 10): 1 to 4 mutations of the workspace's files and 0 to 3 --set flags, most
  // of them out of range or malformed. Plausible (3 in 10): 1 to 4 --set flags with values a user
  // might try, so that cases get past the readers into the schedule and the pricing.
  Mutation mutate(InputWorkspace& ws);

  uint64_t below(uint64_t n) { return n == 0 ? 0 : rng_() % n; }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

 private:
  File pick_file();
  std::string pick_pointer(const nlohmann::json& doc, bool leaves_only);
  nlohmann::json interesting_value();
  std::string interesting_raw();  // JSON text, possibly invalid or hostile
  void mutate_file(InputWorkspace& ws, Mutation& m);
  std::string set_flag(InputWorkspace& ws);
  std::string plausible_set_flag();

  std::mt19937_64 rng_;
};

}  // namespace mhc::fuzz
