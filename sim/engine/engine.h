// Runs a TaskGraph on a simulated cluster in SimGrid and records when every task ran.
//
// Model (details in simgrid_run.cpp):
// - Every GPU has three streams (Stream enum). A task starts as soon as all its predecessors have
//   ended (stream order is expressed by edges), so streams overlap unless the graph orders them.
// - Compute: a task of s seconds is s units of work on the GPU. Kernels running at the same time on
//   one GPU (compute and high-priority streams) share the GPU's rate in proportion to their weight:
//   1 for the compute stream, EngineOptions::high_priority_weight for the high-priority stream
//   (default 1: an even split, the work-conserving reading of two streams competing for SMs).
// - While any communication task (transfer or collective) involving a GPU is active, from the
//   moment it may start until it ends (NCCL's kernel is resident for that whole time), that GPU
//   computes at (1 - ClusterSpec::comm_sm_fraction) of its speed.
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
// returns the result through a pipe; errors in the child come back as exceptions.
#pragma once

#include "engine/engine_result.h"
#include "scenario/cluster.h"

namespace mhc {

EngineResult simulate(const ClusterSpec& cluster, const TaskGraph& graph, const EngineOptions& options);

// The simulation proper, in this process; simulate() calls it in its child.
EngineResult simulate_here(const ClusterSpec& cluster, const TaskGraph& graph, const EngineOptions& options);

}  // namespace mhc
