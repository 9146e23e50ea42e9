#include "accuracy/collective_bench.h"

#include <algorithm>

#include "engine/engine.h"
#include "engine/nccl_model.h"
#include "engine/platform.h"
#include "graph/task_graph.h"

namespace mhc {

bool parse_bench_op(const std::string& text, CollectiveBenchRequest& request) {
  request.sendrecv = text == "sendrecv";
  if (request.sendrecv) return true;
  for (CollectiveOp op : {CollectiveOp::all_reduce, CollectiveOp::reduce_scatter, CollectiveOp::all_gather,
                          CollectiveOp::all_to_all})
    if (text == to_string(op)) {
      request.op = op;
      return true;
    }
  return false;
}

CollectiveBenchResult bench_collective(const ClusterSpec& cluster, const CollectiveBenchRequest& req) {
  const std::vector<int> group = first_gpus(cluster, req.gpus);
  const Topology topology(cluster);
  const std::string op_name = req.sendrecv ? "sendrecv" : to_string(req.op);
  if (!req.sendrecv && !req.sizes.empty())  // NCCL's rules for the overrides, before anything runs
    plan_collective(topology, req.op, group, req.sizes.front(), req.options);

  // One graph: each size after the previous one, between a start and an end marker (zero-time tasks
  // on the first GPU), so every operation has the network to itself.
  TaskGraph g;
  std::vector<TaskId> starts;
  TaskId prev = static_cast<TaskId>(-1);
  for (double bytes : req.sizes) {
    TaskNode marker;
    marker.name = "size " + std::to_string(static_cast<long long>(bytes));
    marker.gpu = group[0];
    const TaskId start = boost::add_vertex(marker, g);
    if (prev != static_cast<TaskId>(-1)) boost::add_edge(prev, start, g);
    TaskNode end_marker = marker;
    end_marker.name += " end";
    const TaskId end = boost::add_vertex(end_marker, g);
    auto add = [&](TaskNode t) {
      t.stream = Stream::comm;
      t.bytes = bytes;
      t.category = op_name;
      const TaskId v = boost::add_vertex(t, g);
      boost::add_edge(start, v, g);
      boost::add_edge(v, end, g);
    };
    if (req.sendrecv) {
      for (size_t i = 0; i < group.size(); ++i) {
        TaskNode t;
        t.name = marker.name + " send " + std::to_string(i);
        t.kind = NodeKind::transfer;
        t.src_gpu = group[i];
        t.dst_gpu = group[(i + 1) % group.size()];
        add(t);
      }
    } else {
      TaskNode t;
      t.name = marker.name + " " + op_name;
      t.kind = NodeKind::collective;
      t.op = req.op;
      t.group = group;
      if (req.rail_per_byte.set()) {
        t.rail_network_bytes = req.rail_per_byte.network * bytes;
        t.rail_nvlink_bytes = req.rail_per_byte.nvlink * bytes;
        t.rail_network_efficiency = req.rail_per_byte.network_efficiency;
        t.rail_nvlink_efficiency = req.rail_per_byte.nvlink_efficiency;
      }
      add(t);
    }
    starts.push_back(start);
    prev = end;
  }
  EngineOptions options;
  options.collective = req.options;
  const EngineResult r = simulate(cluster, g, options);

  CollectiveBenchResult out;
  const CommGroupShape shape = group_shape(cluster, group);
  out.nodes = shape.nodes;
  out.calibration = req.options.calibration ? *req.options.calibration : topology.nccl_calibration();
  out.simulated_gpus = r.simulated_gpus;
  out.activities = r.activities;
  out.wall_seconds = r.wall_seconds;
  for (size_t i = 0; i < req.sizes.size(); ++i) {
    CollectiveBenchRow row;
    row.bytes = req.sizes[i];
    const TaskId start = starts[i], end = start + 1;
    row.seconds = r.timings[end].end - r.timings[start].end;
    if (req.sendrecv) {
      // The flows pay the wire latency; NCCL's p2p latency beyond it is added, as the engine's
      // collectives do for theirs.
      CollectivePlan p = plan_sendrecv(topology, group[0], group[1 % group.size()], row.bytes, req.options);
      double wire = 0;
      for (size_t k = 0; k < group.size(); ++k)
        wire = std::max(wire, topology.route_latency(group[k], group[(k + 1) % group.size()]));
      row.nccl = p.choice;
      row.seconds += std::max(0.0, row.nccl.latency_s - wire);
      // The closed form of the slowest pair (the one crossing nodes, if any).
      CollectivePlan worst = plan_sendrecv(topology, group.back(), group.front(), row.bytes, req.options);
      if (worst.choice.time_s > row.nccl.time_s) row.nccl = worst.choice;
    } else {
      row.nccl = nccl_select(req.op, shape, row.bytes, req.options.algo ? &*req.options.algo : nullptr,
                             req.options.proto ? &*req.options.proto : nullptr);
    }
    row.algbw_Bps = row.bytes / row.seconds;
    row.busbw_Bps = row.algbw_Bps * (req.sendrecv ? 1.0 : bus_bw_factor(req.op, req.gpus));
    out.rows.push_back(row);
  }
  return out;
}

}  // namespace mhc
