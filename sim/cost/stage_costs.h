// The cost stage applied to a pipeline: every op of every model stage priced for one micro-batch,
// summed per phase (F, B, W) with a breakdown by class, plus the bytes the stage's communication
// moves (EP all-to-all per micro-batch, gradients per step). Every priced op is kept with how it was
// priced, so any time the report prints can be traced to a profile entry or a formula.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/collective_op.h"
#include "cost/cost.h"
#include "cost/moe_traffic.h"
#include "model/model.h"
#include "scenario/scenario.h"

namespace mhc {

// What a run of kernels demands of the GPU besides its time (cost/kernel_demand.h): SMs x seconds at
// the priced pace, in units of the whole GPU (a kernel filling the GPU for 1 s adds 1), and DRAM bytes.
struct GpuDemand {
  double sm_seconds = 0;
  double hbm_bytes = 0;
  void add(double seconds, double sm_share, double bytes) {
    sm_seconds += seconds * sm_share;
    hbm_bytes += bytes;
  }
};

// Seconds of one phase of one micro-batch on one stage, and where they go.
struct PhaseCost {
  double seconds = 0;
  // "mhc" (mHC/HC/residual-stream kernels), "mhc_recompute" (their re-run in backward, with the
  // sublayer norms they feed), "recompute" (the run's own recomputation: training.recompute), "layer"
  // (everything else: GEMMs, attention, norms, elementwise).
  std::map<std::string, double> by_class;
  double high_priority_seconds = 0;  // FFN post-res kernels, which may run on the high-priority stream
  GpuDemand demand;                  // of all `seconds`
  GpuDemand high_priority_demand;    // of the high_priority_seconds part
  // The fused attention core kernels (forward, backward, recomputed forward): what context
  // parallelism's key/value exchange runs beside or before (graph/step_graph.cpp).
  double attention_seconds = 0;
  GpuDemand attention_demand;
  void add(const std::string& cls, double s) {
    seconds += s;
    by_class[cls] += s;
  }
};

struct StageCost {
  int stage = 0;
  int64_t layers = 0;
  int64_t moe_layers = 0;
  PhaseCost F, B, W;  // B = input gradient (incl. recomputation), W = weight gradient
  // EP all-to-all per micro-batch, per GPU send buffer (NCCL's count): dispatch and combine for each
  // MoE layer, forward; their gradients backward.
  double a2a_bytes_forward = 0;
  double a2a_bytes_backward = 0;
  int a2a_count_forward = 0;  // collectives the bytes are spread over
  // The same bytes by link class (cost/moe_traffic.h): what the engine's rail all-to-all moves.
  LinkBytes a2a_links_forward, a2a_links_backward;
  // What they cost the links in link-rate bytes: rail (DeepEP) divides each kernel's bytes on each
  // link class by the efficiency the cluster's DeepEP figures give (cost/deepep_calibration.h);
  // otherwise the same as the data.
  LinkBytes a2a_wire_forward, a2a_wire_backward;
  // Tensor-parallel collectives of one micro-batch over the stage's TP group (sequence parallelism),
  // in the order they block the compute. Forward, per TP-split sublayer (attention; dense FFN, not
  // MoE): all-gather of the C-wide input before the column-parallel GEMM, reduce-scatter after the
  // row-parallel one; the first stage adds the vocab-parallel embedding's reduce-scatter, the last the
  // LM head's all-gather. Backward (B) the mirror on the gradients; W has none.
  // Each with its buffer as NCCL counts it: the gathered T x C bf16 (tp_bytes_per_collective), or
  // with expert TP the routed rows of the MoE layer, T x top_k x C (the gather in the dispatch dtype).
  struct TpCollective {
    CollectiveOp op = CollectiveOp::all_gather;
    double bytes = 0;
  };
  std::vector<TpCollective> tp_forward, tp_backward;
  // All-gathers that overlap the weight-gradient compute (W, or the whole backward): each
  // column-parallel GEMM (and the LM head) kept only its T/tp input shard and re-gathers it for its
  // weight gradient (Megatron's sequence parallelism overlaps this with the input-gradient GEMM).
  int tp_backward_regathers = 0;
  // Context parallelism (cp > 1): one exchange of the sequence's keys and values per attention core,
  // each an all-gather buffer (as NCCL counts it) of cp_kv_bytes: every token's K and V on this TP
  // rank, bf16. Forward: one all-gather per attention core. Backward: one per recomputed core and
  // one per core's backward, and a reduce-scatter of the K/V gradients per core's backward (the p2p
  // ring moves the same bytes: K/V forward, K/V and their gradients backward).
  double cp_kv_bytes = 0;
  int cp_gathers_forward = 0, cp_gathers_backward = 0, cp_scatters_backward = 0;
  double grad_bytes_replicated = 0;  // gradients reduced over the data-parallel group per step
  double grad_bytes_experts = 0;     // expert gradients, reduced over the expert data-parallel group
  // The replicated gradients by where the backward produces them (DP buckets, graph/step_graph.cpp):
  // each transformer layer's in layer order, and the last stage's head and MTP modules' (first in
  // the backward); the rest of grad_bytes_replicated is the first stage's embedding (last in it).
  std::vector<double> grad_bytes_layers;
  double grad_bytes_head = 0;
  // FSDP units (ZeRO-3; graph/step_graph.h): parameters on this GPU (its TP shard, before the DP
  // sharding) of each transformer block in layer order, and of the stage's root unit (what is not in
  // a block: embedding, final norm, head, MTP), as torchtitan wraps them (one fully_shard per block,
  // one on the model).
  std::vector<double> fsdp_block_params;
  double fsdp_root_params = 0;
  // The optimizer step over the parameters this GPU updates for the stage (ZeRO-1 and up: its 1/DP
  // shard), once per step after the gradient reduction; memory-bound (see optimizer_step_query).
  double optimizer_seconds = 0;
  double optimizer_params = 0;  // parameters it updates
  GpuDemand optimizer_demand;   // what the optimizer step demands of the GPU (kernel_demand.h)
};

// One distinct priced op (same op on every layer of a kind is priced once).
struct PricedOpRecord {
  std::string op;      // "moe layer attn.q_proj forward"
  std::string kernel;
  std::string pass;
  double seconds = 0;  // per micro-batch, one launch (the optimizer: per step)
  std::string method;
  std::string source;
  double flops = 0, bytes = 0;  // of one launch, as the model counts them (achieved rates in the report)
  // Launches on all model stages together: per micro-batch (each micro-batch runs every stage once), or
  // per step for the optimizer.
  int launches = 0;
  bool per_step = false;
  double dram_bytes = 0;  // what one launch moves (kernel_demand.h)
  double sm_share = 1;    // of the GPU's SMs at its priced pace
  bool memory_bound = false;
};

// The optimizer step over `params` parameters, memory-bound: it reads the main gradient, the master
// weight (or the weight itself without one) and the moments, writes the last two back and the weights
// in their dtype (Megatron's bf16 AdamW: 4 + 2 x (4 + 8) + 2 = 30 B per parameter) and does about 12
// FLOPs per parameter. Muon's Newton-Schulz iterations (GEMMs on each gathered matrix) are not priced:
// its step is priced as its memory traffic only.
double optimizer_step_bytes_per_param(const OptimizerSpec& optimizer);
PriceQuery optimizer_step_query(double params, const OptimizerSpec& optimizer);

struct PipelineCostTable {
  double tokens_per_microbatch = 0;  // on one CP rank (Scenario::tokens_per_microbatch)
  // Activation (or its gradient) between stages, per GPU: n x C per token on T/tp tokens (sequence
  // parallelism: each TP rank sends its own shard of the n-stream residual).
  double pp_bytes_per_microbatch = 0;
  // What each boundary really carries (model stage st to st + 1, both directions): the n streams,
  // or one beside a layer-less end stage (model.h boundary_streams).
  std::vector<double> pp_bytes_after_stage;
  // Each TP collective's buffer as NCCL counts it (the gathered T x C bf16): independent of n, since
  // the n-stream residual never crosses the TP group.
  double tp_bytes_per_collective = 0;
  std::vector<StageCost> stages;
  std::vector<PricedOpRecord> priced;  // distinct ops, for the report's traceability section
  std::string sm_demand_source;        // where memory-bound kernels' SM demand comes from
};

PipelineCostTable price_pipeline(const Scenario& s, const CostModel& cost);

}  // namespace mhc
