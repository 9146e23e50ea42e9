// Runs a TaskGraph on a simulated cluster in SimGrid and records when every task ran.
//
// Model (details in simgrid_run.cpp):
// - Every GPU has three streams (Stream enum). A task starts as soon as all its predecessors have
//   ended (stream order is expressed by edges), so streams overlap unless the graph orders them.
// - Compute: a task of s seconds takes s alone. Kernels running at the same time on one GPU share
//   its SMs (ClusterSpec::sms) and its HBM bandwidth (EngineOptions::gpu.hbm_Bps) by what each
//   demands (TaskNode::sm_share, hbm_bytes): high-priority stream first for SMs, max-min fair
//   otherwise, progress limited by the scarcer resource (gpu_share.h). The GPU model lives in each
//   GPU's actor, not in SimGrid, whose CM02 network stays untouched.
// - Communication kernels: while a flow of a transfer or collective moves data, the kernels at both
//   ends hold their SMs (TaskNode::comm_sms, else ClusterSpec::comm_sms) and draw HBM for it
//   (GpuModelOptions: nccl #1428); during NCCL's latency term they hold nothing. They take their
//   share before the compute kernels and never slow the network.
// - Transfer: one flow src -> dst: route latency + bytes / bandwidth when alone; concurrent flows
//   share links max-min fairly (SimGrid CM02, see platform.h). No NCCL latency is added.
// - Collective: NCCL's latency term, then the algorithm's flows (collectives.h); the task ends when
//   its last flow ends.
// - Network settings: CM02 with crosstraffic 0 (no reverse traffic) and TCP-gamma 1e9 B (the TCP
//   window cap gamma/(2 x latency) lands far above every link; gamma 0 would also remove it but makes
//   SimGrid ignore Comm::set_rate, which LL's bandwidth cap needs), so a lone transfer takes exactly
//   latency + bytes/bandwidth; every route has the same raw latency for SimGrid's sharing weights
//   and its real latency restored per route (CM02 weights a flow's share by its route latency:
//   SimGrid src/kernel/resource/models/network_cm02.cpp, NetworkCm02Model::communicate).
// Each simulate() runs SimGrid in a fork()ed child (SimGrid allows one simulation per process) and
// returns the result through a pipe; errors in the child come back as exceptions. simulate_side_by_side()
// runs several such children at once (a scenario and its baseline on two cores).
#pragma once

#include <vector>

#include "engine/engine_result.h"
#include "scenario/cluster.h"

namespace mhc {

EngineResult simulate(const ClusterSpec& cluster, const TaskGraph& graph, const EngineOptions& options);

// One of several simulations: the caller keeps the cluster and the graph alive.
struct SimulationJob {
  const ClusterSpec* cluster = nullptr;
  const TaskGraph* graph = nullptr;
  EngineOptions options;
};
// The jobs' results in the jobs' order, at most `at_once` simulating at a time (each in its own child;
// in this process, one after the other, where a job's options say in_process). Throws the first
// job's error, in job order.
std::vector<EngineResult> simulate_side_by_side(const std::vector<SimulationJob>& jobs, int at_once);

// The simulation proper, in this process; simulate() calls it in its child.
EngineResult simulate_here(const ClusterSpec& cluster, const TaskGraph& graph, const EngineOptions& options);

}  // namespace mhc
