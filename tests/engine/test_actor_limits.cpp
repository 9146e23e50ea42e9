// The largest run this process can hold: one SimGrid actor per GPU, 2 memory mappings each, under
// vm.max_map_count (issue 20: 32,768 GPUs died in SimGrid with "Failed to protect stack").
#include <gtest/gtest.h>

#include "core/json_input.h"
#include "engine/actor_limits.h"
#include "support/engine_test_util.h"

using namespace mhc;

TEST(ActorLimits, ALargeClusterIsRefusedWithTheLimitAndItsFix) {
  // Linux's default vm.max_map_count, 32,768 GPUs (and "main"), 300 mappings in use.
  auto problem = actor_capacity_problem(32768, 300, 65530);
  ASSERT_TRUE(problem.has_value());
  EXPECT_EQ(*problem,
            "this run simulates 32768 GPUs, one SimGrid actor each, whose stacks need 65538 memory mappings beside "
            "the 300 in use: 66862 with headroom, more than vm.max_map_count (65530) allows; raise it (sudo sysctl "
            "-w vm.max_map_count=133724) or simulate fewer GPUs (this limit allows about 32102)");
  // (65530 - 300 - 1024) / 2 actors fit, one of them "main".
  EXPECT_FALSE(actor_capacity_problem(32102, 300, 65530).has_value());
  EXPECT_TRUE(actor_capacity_problem(32103, 300, 65530).has_value());
}

TEST(ActorLimits, ThisProcessCanBeMeasured) {
  auto in_use = mappings_in_use();
  ASSERT_TRUE(in_use.has_value());
  EXPECT_GT(*in_use, 10);  // the executable, its libraries, the heap and stack at least
  auto limit = max_map_count();
  ASSERT_TRUE(limit.has_value());
  // Any Linux refuses a million actors at its default limit; the error names the cluster file.
  ClusterSpec c = test::h100_cluster(2);
  c.file = "clusters/x.json";
  c.pointer = "/cluster";  // inline in a scenario
  if (*limit < 2 * 1000000) {
    try {
      check_actor_capacity(1000000, c);
      FAIL() << "no error";
    } catch (const InputError& e) {
      EXPECT_EQ(e.file(), "clusters/x.json");
      EXPECT_EQ(e.path(), "/cluster/nodes");
    }
  }
  EXPECT_NO_THROW(check_actor_capacity(100, c));
}
