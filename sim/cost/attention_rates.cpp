#include "cost/attention_rates.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "model/model_ops.h"

namespace mhc {

namespace {

std::string fmt(double v, int precision = 4) {
  std::ostringstream s;
  s.precision(precision);
  s << v;
  return s.str();
}

double rate_of(const ProfileEntry& e) { return e.model_flops / e.seconds; }
double head_dim_of(const ProfileShape& s) { return 0.5 * double(s.head_dim_qk + s.head_dim_v); }

std::string point(const ProfileEntry& e) {
  return "seq " + std::to_string(e.shape.seq) + " d " + std::to_string(e.shape.head_dim_qk) + "/" +
         std::to_string(e.shape.head_dim_v) + ": " + fmt(rate_of(e) / 1e12) + " TFLOP/s (" +
         (e.published() ? e.published_source : e.file + " " + e.pointer) + ")";
}

// The rate of one head dim's entries (sorted by seq) at sequence length x: linear in log2(seq).
double along_seq(const std::vector<const ProfileEntry*>& line, double x, std::vector<const ProfileEntry*>& used,
                 std::string& note) {
  if (x <= double(line.front()->shape.seq) || line.size() == 1) {
    used.push_back(line.front());
    if (x < double(line.front()->shape.seq)) note += "; seq " + fmt(x) + " below the data: the rate at seq " +
                                                     std::to_string(line.front()->shape.seq);
    return rate_of(*line.front());
  }
  if (x >= double(line.back()->shape.seq)) {
    used.push_back(line.back());
    if (x > double(line.back()->shape.seq)) note += "; seq " + fmt(x) + " beyond the data: the rate at seq " +
                                                    std::to_string(line.back()->shape.seq);
    return rate_of(*line.back());
  }
  size_t hi = 1;
  while (double(line[hi]->shape.seq) < x) ++hi;
  const ProfileEntry& a = *line[hi - 1];
  const ProfileEntry& b = *line[hi];
  if (double(b.shape.seq) == x) {
    used.push_back(&b);
    return rate_of(b);
  }
  used.push_back(&a);
  used.push_back(&b);
  const double t = (std::log2(x) - std::log2(double(a.shape.seq))) / (std::log2(double(b.shape.seq)) - std::log2(double(a.shape.seq)));
  return rate_of(a) + t * (rate_of(b) - rate_of(a));
}

}  // namespace

double rate_sequence_length(const ProfileShape& s) {
  if (s.window == 0 && s.sparse_topk == 0 && s.compress_ratio == 0) return double(s.seq);
  AttentionShape a;
  a.seq = s.seq;
  a.causal = s.causal;
  a.window = s.window;
  a.sparse_topk = s.sparse_topk;
  a.compress_ratio = s.compress_ratio;
  a.compressed_topk = s.compressed_topk;
  return 2.0 * mean_keys_per_query(a) - 1.0;
}

std::optional<AttentionRate> attention_rate(const ProfileShape& q, const std::vector<const ProfileEntry*>& entries) {
  // Full-attention entries with the query's mask, by head dim, each sorted by sequence length.
  std::map<double, std::vector<const ProfileEntry*>> by_head_dim;
  for (const ProfileEntry* e : entries)
    if (e->shape.causal == q.causal && e->shape.window == 0 && e->shape.sparse_topk == 0 && e->shape.compress_ratio == 0 &&
        e->seconds > 0 &&
        e->model_flops > 0)
      by_head_dim[head_dim_of(e->shape)].push_back(e);
  if (by_head_dim.empty()) return std::nullopt;
  for (auto& [h, line] : by_head_dim) {
    std::sort(line.begin(), line.end(), [](const ProfileEntry* a, const ProfileEntry* b) { return a->shape.seq < b->shape.seq; });
    // Several entries at one sequence length (other token or head counts): keep the first.
    line.erase(std::unique(line.begin(), line.end(),
                           [](const ProfileEntry* a, const ProfileEntry* b) { return a->shape.seq == b->shape.seq; }),
               line.end());
  }
  const double x = rate_sequence_length(q), h = head_dim_of(q);
  AttentionRate out;
  std::string note;
  if (q.window || q.sparse_topk || q.compress_ratio) {
    std::string mask = q.window ? "sliding window " + std::to_string(q.window) : "sparse top-" + std::to_string(q.sparse_topk);
    if (q.compress_ratio)
      mask += " + KV compressed 1/" + std::to_string(q.compress_ratio) +
              (q.compressed_topk ? " (top-" + std::to_string(q.compressed_topk) + ")" : std::string());
    note += "; " + mask + ": at the causal rate of seq " + fmt(x) + " (the same mean keys per query)";
  }
  auto lo = by_head_dim.lower_bound(h);  // first head dim >= h
  double rate = 0.0;
  if (lo != by_head_dim.end() && lo->first == h) {
    rate = along_seq(lo->second, x, out.used, note);
  } else if (lo == by_head_dim.begin() || lo == by_head_dim.end()) {
    const auto& nearest = lo == by_head_dim.end() ? *by_head_dim.rbegin() : *lo;
    rate = along_seq(nearest.second, x, out.used, note);
    note += "; head dim " + std::to_string(q.head_dim_qk) + "/" + std::to_string(q.head_dim_v) +
            " (mean " + fmt(h) + ") outside the data: the rate of head dim " + fmt(nearest.first) + " (not extrapolated)";
  } else {
    auto below = std::prev(lo);
    const double ra = along_seq(below->second, x, out.used, note), rb = along_seq(lo->second, x, out.used, note);
    const double t = (h - below->first) / (lo->first - below->first);
    rate = ra + t * (rb - ra);
    note += "; head dim " + std::to_string(q.head_dim_qk) + "/" + std::to_string(q.head_dim_v) +
            " not in the data: rate interpolated linearly in the mean head dim " + fmt(h) + " between " +
            fmt(below->first) + " (" + fmt(ra / 1e12) + ") and " + fmt(lo->first) + " (" + fmt(rb / 1e12) + " TFLOP/s)";
  }
  out.flops_per_s = rate;
  std::string points;
  for (const ProfileEntry* e : out.used) points += (points.empty() ? "" : "; ") + point(*e);
  out.how = fmt(rate / 1e12) + " TFLOP/s " + (q.causal ? "causal" : "non-causal") + " from [" + points + "]" + note;
  return out;
}

}  // namespace mhc
