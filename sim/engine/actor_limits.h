// How many SimGrid actors (one per simulated GPU) this process can hold. SimGrid gives every actor
// its own stack, and each stack takes 2 memory mappings: the stack and its guard page (measured with
// SimGrid 3.32, raw and thread contexts alike: 2.0 mappings per actor from 100 to 2000 actors).
// Linux caps a process's mappings at vm.max_map_count (65530 by default), so a run that simulates
// about 32,000 GPUs or more would die in SimGrid ("Failed to protect stack"); it is refused before
// SimGrid starts, with the limit and how to raise it.
#pragma once

#include <optional>
#include <string>

#include "scenario/cluster.h"

namespace mhc {

inline constexpr long kMappingsPerActor = 2;
// Beside the stacks: SimGrid's own mappings as the run grows (maestro, mailboxes, large vectors).
inline constexpr long kMappingHeadroom = 1024;

// vm.max_map_count, and the mappings this process holds now; nullopt where Linux does not say.
std::optional<long> max_map_count();
std::optional<long> mappings_in_use();

// The problem with simulating `gpus` GPUs (an actor each, plus the engine's "main") next to `in_use`
// mappings under `limit`, or nullopt if they fit (the message names the limit and how to raise it).
std::optional<std::string> actor_capacity_problem(long gpus, long in_use, long limit);

// Throws InputError against the cluster's /nodes when this process cannot simulate `gpus` GPUs.
void check_actor_capacity(long gpus, const ClusterSpec& cluster);

}  // namespace mhc
