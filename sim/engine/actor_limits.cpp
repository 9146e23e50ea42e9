#include "engine/actor_limits.h"

#include <algorithm>
#include <fstream>
#include <string>

#include "core/json_input.h"

namespace mhc {

std::optional<long> max_map_count() {
  std::ifstream f("/proc/sys/vm/max_map_count");
  long v = 0;
  if (f >> v && v > 0) return v;
  return std::nullopt;
}

std::optional<long> mappings_in_use() {
  std::ifstream f("/proc/self/maps");
  if (!f) return std::nullopt;
  long n = 0;
  for (std::string line; std::getline(f, line);) ++n;
  return n;
}

std::optional<std::string> actor_capacity_problem(long gpus, long in_use, long limit) {
  const long stacks = kMappingsPerActor * (gpus + 1);  // one actor per GPU, and the engine's "main"
  const long need = in_use + stacks + kMappingHeadroom;
  if (need <= limit) return std::nullopt;
  const long largest = std::max(0L, (limit - in_use - kMappingHeadroom) / kMappingsPerActor - 1);
  return "this run simulates " + std::to_string(gpus) + " GPUs, one SimGrid actor each, whose stacks need " +
         std::to_string(stacks) + " memory mappings beside the " + std::to_string(in_use) + " in use: " +
         std::to_string(need) + " with headroom, more than vm.max_map_count (" + std::to_string(limit) +
         ") allows; raise it (sudo sysctl -w vm.max_map_count=" + std::to_string(2 * need) +
         ") or simulate fewer GPUs (this limit allows about " + std::to_string(largest) + ")";
}

void check_actor_capacity(long gpus, const ClusterSpec& cluster) {
  const auto limit = max_map_count();
  const auto in_use = mappings_in_use();
  if (!limit || !in_use) return;  // not Linux: nothing to check against
  if (auto problem = actor_capacity_problem(gpus, *in_use, *limit))
    throw InputError(cluster.file.empty() ? cluster.name : cluster.file, cluster.pointer + "/nodes", *problem);
}

}  // namespace mhc
