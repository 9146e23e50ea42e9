// What a layer's forward pass leaves for its backward: each tensor its ops keep (one copy when several
// ops keep the same tensor), in its storage format, and whether it stays in memory until the backward
// or the backward rebuilds it by re-running the ops that wrote it (the run's recomputation, mHC's).
// Memory (cost/memory.h) sums what stays; the recomputed ops are priced again in the backward from the
// same op lists (OpPlan::recompute).
#pragma once

#include <string>
#include <vector>

#include "model/model.h"

namespace mhc {

struct KeptTensor {
  std::string id;        // "attn.norm", "ffn.experts_up_gate", "attn.core.lse", "attn.input"
  std::string producer;  // the op that writes it ("" for the sublayer's input)
  std::string role;      // its storage role, if the run may choose its format
  std::string format;    // "bf16", "fp8", "e5m6", ...
  double bytes = 0;      // per token of the micro-batch on this GPU (token and kept shares applied)
  std::vector<std::string> kept_by;  // the ops whose backward reads it (or whose recomputation does)
  bool stored = true;    // false: rebuilt in the backward
  std::string rebuilt_by;  // what recomputes its producer (a module name, "mhc", "full")
};

struct ActivationAccount {
  std::vector<KeptTensor> tensors;  // in the order the forward first keeps them
  double stored = 0;   // bytes per token kept until the backward
  // Bytes per token the backward rebuilds (present only while their layer runs backward): by the run's
  // recomputation, and by mHC's (whose transient cost/memory.h counts per recompute block).
  double rebuilt = 0;
  double rebuilt_by_mhc = 0;
  double stored_by(const std::string& op) const;  // bytes per token of what `op` keeps and stays stored
};

// The account of `forward` (one layer, or the head or MTP ops; residual-stream kernels are skipped:
// cost/memory.h counts the n-stream by paper 4.3.2). `rebuilt_inputs`: tensors from outside the list
// that the backward rebuilds (mHC's recomputation rebuilds each sublayer's input H_pre x_l).
//  - a tensor written by an op that is not recomputed stays;
//  - one written by an op that discards its output is rebuilt;
//  - one written inside a checkpointed group stays only if an op outside the group keeps it;
//  - a recomputed op needs its inputs, which stay unless they are rebuilt themselves.
ActivationAccount account_activations(const std::vector<Op>& forward, const std::vector<std::string>& rebuilt_inputs);

// The sublayer inputs the backward rebuilds in a layer of `s`: with mHC's recomputation, "attn.input"
// and "ffn.input" (H_pre x_l, rebuilt from x_{l0}); none otherwise.
std::vector<std::string> rebuilt_sublayer_inputs(const Scenario& s);

}  // namespace mhc
