// The NCCL collectives the simulator knows. The cost stage lists which ones a stage issues, the task
// graph carries them and the engine runs them.
#pragma once

namespace mhc {

enum class CollectiveOp { all_reduce, reduce_scatter, all_gather, all_to_all };

inline const char* to_string(CollectiveOp op) {
  switch (op) {
    case CollectiveOp::all_reduce: return "all_reduce";
    case CollectiveOp::reduce_scatter: return "reduce_scatter";
    case CollectiveOp::all_gather: return "all_gather";
    default: return "all_to_all";
  }
}

}  // namespace mhc
