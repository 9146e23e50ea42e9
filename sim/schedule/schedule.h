// Pipeline schedules as data: for every pipeline rank, the ordered list of compute tasks (F, B, W,
// BW, FB) with the micro-batch, model chunk and model stage each one works on. Nothing here knows
// about time; dag.h turns a Schedule into a TaskGraph and evaluator.h prices it.
//
// Conventions (shared by every kind):
// - Model stages 0..model_stages-1 are the pieces of the model in forward order; every micro-batch
//   passes through all of them. `chunk` says which of the rank's parameter blocks a task uses
//   (stage_of_chunk[rank][chunk] gives the model stage).
// - Phase::BW is a full backward (input and weight gradient), Phase::B the input-gradient part only,
//   Phase::W the weight-gradient part, Phase::FB DualPipe's overlapped pair: forward of
//   (micro, chunk, stage) together with the full backward of (micro2, chunk2, stage2).
// - DualPipe: micro-batches 0..N/2-1 enter at rank 0 (chunk 0 = stage r on rank r), N/2..N-1 enter
//   at rank P-1 (chunk 1 = stage P-1-r on rank r). DualPipeV: P/2 devices, device d holds stages d
//   (chunk 0) and P-1-d (chunk 1); all micro-batches go down chunk 0 and back up chunk 1.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "schedule/phase.h"

namespace mhc {

enum class ScheduleKind { gpipe, one_f_one_b, interleaved, zb_h1, zb_h2, dualpipe, dualpipe_v };

// Accepts the canonical names "gpipe", "1f1b", "interleaved", "zb1p", "zbh2", "dualpipe",
// "dualpipev" and the aliases listed in schedule_kind_names(); InputError otherwise.
ScheduleKind parse_schedule_kind(const std::string& name);
ScheduleKind parse_schedule_kind(const std::string& name, const std::string& origin, const std::string& path);
const char* to_string(ScheduleKind);
// One line listing the canonical names and their aliases (for usage texts and error messages).
std::string schedule_kind_names();

// The largest request validate_request() accepts. Real pipelines have 4 to 64 stages, 8 to a few
// hundred micro-batches and 2 to 8 chunks per rank; beyond these a request is a typo, and its
// schedule and task graph would take minutes and gigabytes to build (3 x 2^20 tasks, F, B and W of
// every micro-batch on every model stage, generate in about a second here).
inline constexpr int kMaxScheduleStages = 4096;
inline constexpr int kMaxScheduleMicroBatches = 16384;
inline constexpr int kMaxScheduleChunks = 1024;
inline constexpr int64_t kMaxScheduleTasks = int64_t{3} << 20;

struct ScheduleRequest {
  ScheduleKind kind = ScheduleKind::one_f_one_b;
  int stages = 0;  // pipeline stages PP (DualPipeV: model stages; it runs them on PP/2 devices)
  int micro = 0;   // micro-batches per step (DualPipe: both directions together)
  int chunks = 1;  // virtual stages per rank (interleaved only)
};

// Where a request came from, so errors name the user's file/command and field/flag.
struct ScheduleRequestSource {
  std::string origin = "mhcsim schedule";
  std::string kind = "--kind";
  std::string stages = "--stages";
  std::string micro = "--micro";
  std::string chunks = "--chunks";
  std::string layers = "--layers";
};

struct ScheduledTask {
  Phase phase = Phase::none;
  int micro = -1, chunk = -1, micro2 = -1, chunk2 = -1;
  int stage = -1;   // model stage of (rank, chunk)
  int stage2 = -1;  // FB only: model stage of the backward half (rank, chunk2)
};

struct Schedule {
  ScheduleRequest request;
  int ranks = 0;         // devices in the pipeline (DualPipeV: stages / 2)
  int model_stages = 0;  // stages of the model every micro-batch passes through
  int chunks_per_rank = 1;
  // stage_of_chunk[rank][chunk]: the model stage whose parameters the rank holds as `chunk`.
  std::vector<std::vector<int>> stage_of_chunk;
  // Parameters held per rank in units of (model parameters / request.stages): 2 for DualPipe and
  // DualPipeV (two stages per device: the deepseek-ai/DualPipe README's comparison table), 1 otherwise.
  int params_per_rank = 1;
  std::vector<std::vector<ScheduledTask>> per_rank;

  size_t task_count() const;
};

// Throws InputError (naming src.origin and the field) for invalid requests: unknown sizes, too few
// micro-batches for the kind, DualPipe with odd stages or odd micro-batches, interleaved with
// micro-batches not a multiple of the stages, ...
Schedule generate_schedule(const ScheduleRequest& req);
Schedule generate_schedule(const ScheduleRequest& req, const ScheduleRequestSource& src);
void validate_request(const ScheduleRequest& req, const ScheduleRequestSource& src = {});
// The model's layers must split evenly over the model stages (stages x chunks; DualPipeV: stages).
void validate_layers(const ScheduleRequest& req, int layers);
void validate_layers(const ScheduleRequest& req, int layers, const ScheduleRequestSource& src);
int model_stages_of(const ScheduleRequest& req);
int ranks_of(const ScheduleRequest& req);

// Unit-free task times for tests and `mhcsim schedule`. B is the FULL backward (input + weight
// gradient, as in the DualPipe README table); a split input-gradient task costs B - W.
// FB (overlapped forward + backward pair) defaults to F + B, i.e. no overlap gain.
struct PhaseTimes {
  double F = 1.0, B = 2.0, W = 1.0, FB = 3.0;
  double seconds(Phase p) const;  // F, B-W (Phase::B), W, B (Phase::BW), FB
};
// Negative times, W > B and FB < 0 are InputErrors naming origin and path (the --times flag).
void validate_phase_times(const PhaseTimes& t, const std::string& origin, const std::string& path);

// Readable task name: "r3 F mb7 c0 s3", "r0 FB mb4 c0 s0 + mb9 c1 s7".
std::string task_name(int rank, const ScheduledTask& t);

}  // namespace mhc
