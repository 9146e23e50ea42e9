// The report of `mhcsim run`: step time and overhead of mHC over the plain residual with a breakdown
// of where the extra time goes, bubble per stage, exposed communication, memory per GPU, I/O per
// token, network bytes and MFU. JSON for machines, text for people; both from the same numbers.
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "run/run.h"

namespace mhc {

// Compute seconds of one rank's tasks per step, by class: "mhc_forward", "mhc_backward",
// "mhc_recompute", "layer", "optimizer".
std::map<std::string, double> rank_compute_by_class(const VariantRun& v, int rank);

// How one rank's compute tasks shared their GPU: the time they overlapped one another (busy time beyond
// the time any of them ran) and what they lost, by cause (engine/gpu_share.h).
struct RankSharing {
  double overlap_s = 0;
  double lost_to_comm_s = 0;
  double lost_to_corun_s = 0;
};
RankSharing rank_sharing(const VariantRun& v, int rank);

// The rank whose compute is busiest in the mHC run: the breakdown is given for it, where
// step = busy + bubble holds exactly.
int bottleneck_rank(const VariantRun& v);

nlohmann::json report_json(const RunResult& r);
std::string report_text(const nlohmann::json& report);

}  // namespace mhc
