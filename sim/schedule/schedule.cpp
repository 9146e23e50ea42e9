#include "schedule/schedule.h"

#include <cstdint>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <iterator>

#include "core/json_input.h"
#include "schedule/schedule_generators.h"

namespace mhc {
namespace {

struct KindName {
  const char* name;
  ScheduleKind kind;
};
// The first name of each kind is canonical (to_string); the rest are accepted aliases.
constexpr KindName kKindNames[] = {
    {"gpipe", ScheduleKind::gpipe},
    {"1f1b", ScheduleKind::one_f_one_b},       {"one_f_one_b", ScheduleKind::one_f_one_b},
    {"interleaved", ScheduleKind::interleaved}, {"interleaved-1f1b", ScheduleKind::interleaved},
    {"interleaved_1f1b", ScheduleKind::interleaved}, {"vpp", ScheduleKind::interleaved},
    {"zb1p", ScheduleKind::zb_h1},             {"zb-h1", ScheduleKind::zb_h1},
    {"zbh1", ScheduleKind::zb_h1},             {"zb_h1", ScheduleKind::zb_h1},
    {"zbh2", ScheduleKind::zb_h2},             {"zb-h2", ScheduleKind::zb_h2},
    {"zb_h2", ScheduleKind::zb_h2},
    {"dualpipe", ScheduleKind::dualpipe},
    {"dualpipev", ScheduleKind::dualpipe_v},   {"dualpipe-v", ScheduleKind::dualpipe_v},
    {"dualpipe_v", ScheduleKind::dualpipe_v},
};

}  // namespace

std::string schedule_kind_names() {
  // "gpipe; 1f1b (one_f_one_b); ..." : canonical name, then its aliases in brackets.
  std::string out;
  size_t i = 0, n = std::size(kKindNames);
  while (i < n) {
    if (!out.empty()) out += "; ";
    out += kKindNames[i].name;
    size_t j = i + 1;
    std::string aliases;
    for (; j < n && kKindNames[j].kind == kKindNames[i].kind; ++j) aliases += (aliases.empty() ? "" : ", ") + std::string(kKindNames[j].name);
    if (!aliases.empty()) out += " (" + aliases + ")";
    i = j;
  }
  return out;
}

ScheduleKind parse_schedule_kind(const std::string& name, const std::string& origin, const std::string& path) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& kn : kKindNames)
    if (lower == kn.name) return kn.kind;
  throw InputError(origin, path, "unknown schedule kind '" + name + "' (expected one of: " +
                                     schedule_kind_names() + ")");
}

ScheduleKind parse_schedule_kind(const std::string& name) {
  return parse_schedule_kind(name, "mhcsim schedule", "--kind");
}

const char* to_string(ScheduleKind k) {
  switch (k) {
    case ScheduleKind::gpipe: return "gpipe";
    case ScheduleKind::one_f_one_b: return "1f1b";
    case ScheduleKind::interleaved: return "interleaved";
    case ScheduleKind::zb_h1: return "zb1p";
    case ScheduleKind::zb_h2: return "zbh2";
    case ScheduleKind::dualpipe: return "dualpipe";
    default: return "dualpipev";
  }
}

int model_stages_of(const ScheduleRequest& req) {
  return req.kind == ScheduleKind::interleaved ? req.stages * req.chunks : req.stages;
}

int ranks_of(const ScheduleRequest& req) {
  return req.kind == ScheduleKind::dualpipe_v ? req.stages / 2 : req.stages;
}

void validate_request(const ScheduleRequest& req, const ScheduleRequestSource& src) {
  auto fail = [&](const std::string& path, const std::string& msg) { throw InputError(src.origin, path, msg); };
  const std::string kind = to_string(req.kind);
  if (req.stages < 1) fail(src.stages, "expected at least 1 pipeline stage, got " + std::to_string(req.stages));
  if (req.stages > kMaxScheduleStages)
    fail(src.stages, "expected at most " + std::to_string(kMaxScheduleStages) + " pipeline stages, got " +
                         std::to_string(req.stages));
  if (req.micro < 1) fail(src.micro, "expected at least 1 micro-batch, got " + std::to_string(req.micro));
  if (req.micro > kMaxScheduleMicroBatches)
    fail(src.micro, "expected at most " + std::to_string(kMaxScheduleMicroBatches) + " micro-batches, got " +
                        std::to_string(req.micro));
  if (req.chunks < 1) fail(src.chunks, "expected at least 1 chunk per rank, got " + std::to_string(req.chunks));
  if (req.chunks > kMaxScheduleChunks)
    fail(src.chunks, "expected at most " + std::to_string(kMaxScheduleChunks) + " chunks per rank, got " +
                         std::to_string(req.chunks));

  if (req.kind != ScheduleKind::interleaved && req.chunks != 1)
    fail(src.chunks, kind + " has a fixed number of chunks per rank; only interleaved takes chunks (got " +
                         std::to_string(req.chunks) + ")");
  const std::string P = std::to_string(req.stages), M = std::to_string(req.micro);
  switch (req.kind) {
    case ScheduleKind::gpipe: break;
    case ScheduleKind::one_f_one_b:
    case ScheduleKind::zb_h1:
    case ScheduleKind::zb_h2:
      // Fewer micro-batches than stages never fills the pipeline: the steady phase does not exist.
      if (req.micro < req.stages)
        fail(src.micro, kind + " needs at least as many micro-batches as stages (" + P + "), got " + M);
      break;
    case ScheduleKind::interleaved:
      // Megatron's interleaved schedule walks micro-batches in groups of `stages`.
      if (req.micro < req.stages || req.micro % req.stages != 0)
        fail(src.micro, "interleaved needs micro-batches to be a positive multiple of the stages (" + P +
                            "), got " + M);
      break;
    case ScheduleKind::dualpipe:
      // dualpipe.py asserts an even rank count and an even chunk count >= 2 x ranks.
      if (req.stages % 2 != 0) fail(src.stages, "dualpipe needs an even number of stages, got " + P);
      if (req.micro % 2 != 0 || req.micro < 2 * req.stages)
        fail(src.micro, "dualpipe needs an even number of micro-batches >= 2 x stages (" +
                            std::to_string(2 * req.stages) + "), got " + M);
      break;
    case ScheduleKind::dualpipe_v:
      // P model stages on P/2 devices; the V needs micro-batches >= 2 x devices.
      if (req.stages % 2 != 0)
        fail(src.stages, "dualpipev folds the stages onto stages/2 devices and needs an even number, got " + P);
      if (req.micro < req.stages)
        fail(src.micro, "dualpipev needs at least as many micro-batches as stages (" + P + "), got " + M);
      break;
  }
  int64_t tasks = int64_t{3} * req.micro * model_stages_of(req);
  if (tasks > kMaxScheduleTasks)
    fail(src.micro,
         "schedule too large: " + std::to_string(tasks) + " tasks (limit " + std::to_string(kMaxScheduleTasks) + ")");
}

void validate_layers(const ScheduleRequest& req, int layers, const ScheduleRequestSource& src) {
  const int stages = model_stages_of(req);
  if (layers < 1) throw InputError(src.origin, src.layers, "expected at least 1 layer, got " + std::to_string(layers));
  if (layers % stages != 0) {
    std::string what = req.kind == ScheduleKind::interleaved
                           ? std::to_string(req.stages) + " stages x " + std::to_string(req.chunks) + " chunks"
                           : std::to_string(stages) + " model stages";
    throw InputError(src.origin, req.kind == ScheduleKind::interleaved ? src.chunks : src.stages,
                     std::to_string(layers) + " layers do not split evenly over " + what);
  }
}

void validate_layers(const ScheduleRequest& req, int layers) { validate_layers(req, layers, ScheduleRequestSource{}); }

size_t Schedule::task_count() const {
  size_t n = 0;
  for (const auto& r : per_rank) n += r.size();
  return n;
}

Schedule generate_schedule(const ScheduleRequest& req, const ScheduleRequestSource& src) {
  validate_request(req, src);
  Schedule s;
  s.request = req;
  s.ranks = ranks_of(req);
  s.model_stages = model_stages_of(req);
  s.per_rank.resize(s.ranks);
  s.stage_of_chunk.assign(s.ranks, {});
  switch (req.kind) {
    case ScheduleKind::interleaved:
      s.chunks_per_rank = req.chunks;
      for (int r = 0; r < s.ranks; ++r)
        for (int c = 0; c < req.chunks; ++c) s.stage_of_chunk[r].push_back(c * req.stages + r);
      break;
    case ScheduleKind::dualpipe:
    case ScheduleKind::dualpipe_v:
      // Both: rank r holds stage r (chunk 0) and its mirror stage P-1-r (chunk 1).
      s.chunks_per_rank = 2;
      s.params_per_rank = 2;
      for (int r = 0; r < s.ranks; ++r) s.stage_of_chunk[r] = {r, req.stages - 1 - r};
      break;
    default:
      for (int r = 0; r < s.ranks; ++r) s.stage_of_chunk[r] = {r};
  }
  switch (req.kind) {
    case ScheduleKind::gpipe: detail::generate_gpipe(s); break;
    case ScheduleKind::one_f_one_b: detail::generate_one_f_one_b(s); break;
    case ScheduleKind::interleaved: detail::generate_interleaved(s); break;
    case ScheduleKind::zb_h1: detail::generate_zb_h1(s); break;
    case ScheduleKind::zb_h2: detail::generate_zb_h2(s); break;
    case ScheduleKind::dualpipe: detail::generate_dualpipe(s); break;
    case ScheduleKind::dualpipe_v: detail::generate_dualpipe_v(s); break;
  }
  return s;
}

Schedule generate_schedule(const ScheduleRequest& req) { return generate_schedule(req, ScheduleRequestSource{}); }

double PhaseTimes::seconds(Phase p) const {
  switch (p) {
    case Phase::F: return F;
    case Phase::B: return B - W;
    case Phase::W: return W;
    case Phase::BW: return B;
    case Phase::FB: return FB;
    default: return 0.0;
  }
}

void validate_phase_times(const PhaseTimes& t, const std::string& origin, const std::string& path) {
  auto text = [](double v) {
    std::ostringstream os;
    os << v;
    return os.str();
  };
  auto check = [&](const char* name, double v) {
    if (!(v >= 0.0) || !std::isfinite(v))
      throw InputError(origin, path, std::string(name) + " must be a finite time >= 0, got " + text(v));
  };
  check("F", t.F);
  check("B", t.B);
  check("W", t.W);
  check("FB", t.FB);
  if (t.W > t.B)
    throw InputError(origin, path, "W (" + text(t.W) + ") must not exceed B (" + text(t.B) +
                                       "): B is the full backward, the input-gradient part costs B - W");
}

std::string task_name(int rank, const ScheduledTask& t) {
  char buf[128];
  int n = std::snprintf(buf, sizeof buf, "r%d %s mb%d c%d s%d", rank, to_string(t.phase), t.micro, t.chunk, t.stage);
  if (t.phase == Phase::FB && n > 0 && n < static_cast<int>(sizeof buf))
    std::snprintf(buf + n, sizeof buf - n, " + mb%d c%d s%d", t.micro2, t.chunk2, t.stage2);
  return buf;
}

}  // namespace mhc
