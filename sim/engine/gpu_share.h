// One GPU as the two resources its concurrent kernels really share: SMs and HBM bandwidth.
//
// A kernel k (in the engine: one compute task, a chunk's kernels; graph/task_graph.h) runs at a speed
// x_k in [0, 1] relative to its time alone: while x_k holds, a task of t seconds alone advances by
// x_k seconds of its own work per second. At full speed it occupies a_k SMs and draws h_k bytes/s of
// HBM (read + written; the same unit as the profile's copy bandwidth). Its time alone stays what the
// profile measured; a_k and h_k only decide how it shares.
//
// Sharing, given S SMs and B bytes/s:
//  0. Communication kernels that are moving data hold their SMs and their HBM traffic first (their
//     CTAs are resident for the whole collective, and the network decides their pace: the GPU model
//     never slows the network, so SimGrid's flow times stay exact). What is left: S', B'.
//  1. SMs, as the block scheduler hands them out: high-priority kernels first (CUDA stream priority
//     orders which pending blocks are scheduled next; CUDA Programming Guide, "Stream Priorities"),
//     max-min fair on SM counts among kernels of one priority; each asks for at most a_k.
//  2. HBM, max-min fair on bytes/s among all kernels (memory requests carry no stream priority);
//     each asks for what its SMs let it draw, h_k * sigma_k / a_k.
//  3. x_k = min(sigma_k / a_k, beta_k / h_k): the scarcer resource limits progress (roofline). A kernel
//     slowed by HBM keeps its SMs: its blocks stay resident, waiting on memory.
// Priority never preempts running blocks: a high-priority kernel launched while another kernel's
// blocks fill the SMs waits for those blocks to end. That wait is not modelled (engine/README.md
// bounds it: at most one GEMM tile's time per launch, while the other kernel keeps running, so the
// GPU does the same work in the same time and only the high-priority kernel's own end moves).
#pragma once

#include <cstddef>
#include <vector>

namespace mhc {

struct KernelLoad {
  double sms = 0.0;      // a_k: SMs occupied at full speed (> 0, at most the GPU's)
  double hbm_Bps = 0.0;  // h_k: HBM bytes/s drawn at full speed
  bool high_priority = false;
};

struct KernelShare {
  double speed = 0.0;    // x_k
  double sms = 0.0;      // sigma_k: SMs held
  double hbm_Bps = 0.0;  // HBM bytes/s drawn (x_k h_k)
};

struct GpuCapacity {
  double sms = 0.0;
  double hbm_Bps = 0.0;  // 0: HBM not modelled (unlimited)
};

// Max-min fair allocation of `capacity` to `demands` (water filling): each gets min(demand, level).
std::vector<double> water_fill(double capacity, const std::vector<double>& demands);

// Steps 0 to 3 above: the share of every kernel while communication holds comm_sms SMs and draws
// comm_hbm_Bps of HBM.
std::vector<KernelShare> share_gpu(const GpuCapacity& gpu, double comm_sms, double comm_hbm_Bps,
                                   const std::vector<KernelLoad>& kernels);

// One GPU over time: the kernels in flight with their remaining work, the communication holding
// resources, and where each kernel's extra time went. The engine advances it to the simulated clock
// before every change; speeds are constant between changes.
class GpuTimeline {
 public:
  // Time lost by a kernel: wall time beyond its time alone, split by cause. Over each interval at
  // speed x, (1 - x) dt is lost; (x_free - x) dt of it to communication, where x_free is the speed
  // the same kernels would get with no communication holding SMs or HBM, the rest to the other
  // kernels it co-runs with.
  struct Segment {
    double start = 0.0;  // the share holds from here to the next segment (or the kernel's end)
    double sms = 0.0;
    double hbm_Bps = 0.0;
  };
  struct Finished {
    size_t id = 0;
    double lost_to_comm_s = 0.0;
    double lost_to_corun_s = 0.0;
    double sm_seconds = 0.0;  // SMs held x time
    std::vector<Segment> segments;  // only when recording
  };

  GpuTimeline(GpuCapacity capacity, bool record_segments);

  void advance(double now);  // progresses every kernel to `now` at the current speeds
  // Call advance(now) first. `id` names the kernel in Finished; `seconds` is its time alone.
  void add(size_t id, double seconds, const KernelLoad& load, double now);
  void set_comm(double sms, double hbm_Bps, double now);
  // Kernels whose work is done (after advance); removes them and re-shares the GPU.
  std::vector<Finished> take_finished(double now);
  // When the next kernel ends at the current speeds (infinity if none, or none progresses).
  double next_finish() const;
  bool idle() const { return jobs_.empty(); }
  double comm_sms() const { return comm_sms_; }
  double comm_hbm_Bps() const { return comm_hbm_; }
  const std::vector<Segment>& comm_segments() const { return comm_segments_; }

 private:
  struct Job {
    size_t id;
    double seconds, remaining;
    KernelLoad load;
    KernelShare share;
    double free_speed = 1.0;
    Finished acc;
  };
  void reshare(double now);

  GpuCapacity cap_;
  bool record_;
  std::vector<Job> jobs_;
  double comm_sms_ = 0.0, comm_hbm_ = 0.0;
  double last_ = 0.0;
  std::vector<Segment> comm_segments_;
};

}  // namespace mhc
