// The task graph of one training step: the schedule's pipeline tasks priced from the stage costs,
// each expanded with its communication (TP all-gathers / reduce-scatters and EP all-to-all per
// micro-batch chunk, DP gradient reduction per rank and chunk), on the GPUs of one pipeline replica.
//
// Placement (Megatron's order tp, cp, dp, pp): TP rank t of CP rank c of pipeline rank r in data-
// parallel replica d runs on GPU r * dp * cp * tp + d * cp * tp + c * tp + t (a stage's replicas are
// consecutive GPUs, so an EP group of ep replicas shares nodes); its TP group is tp consecutive GPUs
// (one node), its CP group TP rank t of cp consecutive TP groups, its gradient group every CP rank of
// every replica. The graph holds TP rank 0 of CP rank 0 of each replica: the other ranks run the same
// tasks in lockstep on their own GPUs and NICs (pipeline sends of their own tokens, EP all-to-all
// among the TP ranks with the same index, their own CP ring), like the other replicas. Only replica 0's
// compute is in the graph; its collectives span their whole groups (the other replicas' GPUs move
// in lockstep with it, so one collective node stands for the group's operation). Other replicas'
// pipeline transfers use their own GPUs' NICs and are not simulated: exact while the fabric is not
// oversubscribed (a leaf's uplinks then never limit a flow).
//
// Each compute node carries its kernels' demands (sm_share, hbm_bytes: task_graph.h), summed over the
// chunk: one node per chunk keeps the activity count that of the schedule, and the mean over its
// kernels is what a kernel beside it meets on average (its GEMMs and memory-bound kernels alternate
// at the scale of tens of microseconds, its co-runners span the whole chunk).
//
// Overlap: a DualPipe FB pair runs its compute and its all-to-all side by side (the schedule's
// purpose: one micro-batch's communication hides behind the other's compute), and with the
// high-priority stream on, its FFN post-res kernels run on that stream beside the compute. Every
// other task runs its all-to-all after its compute, exposed. A pair's pipeline sends wait for its
// compute (and post-res kernels, TP collectives), not for its all-to-all: each half's dispatch and
// combine hide behind the other half's compute, so the chunk it sends is ready when its compute ends;
// the rank's next task waits for the all-to-all too. TP collectives are blocking (they hold
// up the GEMM that follows them): a chain after the task's compute, before its successors; only the
// weight gradients' input re-gathers run beside the compute (Megatron overlaps them).
//
// Context parallelism (cp > 1): each task's attention cores are a node of their own after the rest
// of its compute, with the K/V exchange of its layers over the CP group (category "cp") beside them
// (cp_comm "p2p": the ring hides behind the attention, the task ends when both have) or in front of
// them (cp_comm "all_gather"; the backward's gradient reduce-scatter after them).
//
// ZeRO-3 (zero_stage 3, dp x cp > 1) as FSDP2 runs it in torchtitan: each forward and full backward is
// split into its transformer blocks (equal shares of the task's compute, TaskNode::unit), each
// waiting for its own bf16 parameter all-gather over the DP group, the gathers one after another
// on their own stream and at most one ahead of the compute (FSDP2's prefetch); each block's backward
// is followed by its fp32 gradient reduce-scatter; the optimizer waits for them instead of a DP
// all-reduce; the task's TP collectives are spread evenly over its blocks (each block's share blocks the
// next block). Category "fsdp". Which units are gathered again for the backward follows
// parallelism.fsdp_reshard_after_forward (step_graph.cpp fsdp_plan cites torchtitan and FSDP2).
// ZeRO-1/2 keep one gradient reduction per stage (reduce-scatter + parameter all-gather, priced as
// the all-reduce of the same volume).
#pragma once

#include <vector>

#include "cost/stage_costs.h"
#include "graph/dag.h"
#include "scenario/scenario.h"
#include "schedule/schedule.h"

namespace mhc {

struct StepLayout {
  std::vector<int> gpu_of_rank;                  // replica 0
  std::vector<std::vector<int>> dp_group;        // per rank: GPUs holding the same stage(s)
};
StepLayout step_layout(const Scenario& s, const Schedule& schedule);

struct StepGraph {
  TaskGraph graph;
  StepLayout layout;
  int ranks = 0;
};

struct StepGraphOptions {
  bool with_collectives = true;  // false: pipeline only (compute + transfers), for checks
  // true: every data-parallel replica's pipeline on its own GPUs, each collective joined across its
  // members (the unfolded graph that proves the folded one exact on small cases).
  bool all_replicas = false;
};

StepGraph build_step_graph(const Scenario& s, const Schedule& schedule, const PipelineCostTable& costs,
                           const StepGraphOptions& options = {});

// Seconds of a schedule task's compute from the stage costs (FB: forward of one stage + full backward
// of another), without any communication.
double task_compute_seconds(const PipelineCostTable& costs, const ScheduledTask& t);
// What the same kernels demand of the GPU (SM-seconds and DRAM bytes; cost/kernel_demand.h).
GpuDemand task_demand(const PipelineCostTable& costs, const ScheduledTask& t);

}  // namespace mhc
