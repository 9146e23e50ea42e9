#include "cost/cost.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "cost/attention_rates.h"

namespace mhc {

const char* to_string(PriceMethod m) {
  switch (m) {
    case PriceMethod::measured: return "measured";
    case PriceMethod::interpolated: return "interpolated";
    case PriceMethod::published: return "published";
    case PriceMethod::bandwidth: return "bandwidth";
    default: return "roofline";
  }
}

namespace {

std::string fmt(double v) {
  std::ostringstream s;
  s.precision(4);
  s << v;
  return s.str();
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

DType compute_dtype_of(const std::string& kernel, KernelFamily family, DType gemm_dtype) {
  if (family == KernelFamily::gemm) return gemm_dtype;
  if (family == KernelFamily::attention) return DType::bf16;
  if (starts_with(kernel, "mhc_fused.norm_proj") || starts_with(kernel, "mhc_unfused.compute_h")) return DType::tf32;
  return DType::fp32;
}

PriceQuery query_for_op(const Op& op, double tokens) {
  PriceQuery q;
  q.kernel = op.kernel;
  q.family = kernel_family(op.kernel);
  q.bytes = (op.read_bytes + op.write_bytes) * tokens;
  q.flops = op.flops * tokens;
  const int64_t t = std::llround(tokens);
  ProfileShape& s = q.shape;
  const KernelFamily family = q.family.value_or(KernelFamily::elementwise);
  switch (family) {
    case KernelFamily::gemm: {
      // The problem the op's role runs: forward, dX = dY W^T, or dW = X^T dY (reduction over tokens).
      const GemmProblemDims d = gemm_problem(op.gemm, tokens);
      s.m = d.m;
      s.gemm_n = d.n;
      s.k = d.k;
      s.groups = op.gemm.groups;
      s.dtype = op.gemm.dtype;
      break;
    }
    case KernelFamily::attention:
      s.tokens = t;
      s.seq = op.attention.seq;
      s.heads = op.attention.heads;
      s.head_dim_qk = op.attention.head_dim_qk;
      s.head_dim_v = op.attention.head_dim_v;
      s.causal = op.attention.causal;
      s.window = op.attention.window;
      s.sparse_topk = op.attention.sparse_topk;
      s.compress_ratio = op.attention.compress_ratio;
      s.compressed_topk = op.attention.compressed_topk;
      break;
    case KernelFamily::mhc:
      s.n = op.n;
      if (is_sinkhorn_kernel(op.kernel)) s.sinkhorn_iters = op.sinkhorn_iters;
      [[fallthrough]];
    default:
      s.C = op.C;
      s.tokens = std::llround(tokens * op.rows_per_token);  // rows: an expert op's routed rows
      break;
  }
  q.compute_dtype = compute_dtype_of(op.kernel, family, op.gemm.dtype);
  return q;
}

PriceQuery query_for_entry(const ProfileEntry& e) {
  PriceQuery q;
  q.kernel = e.kernel;
  q.family = e.family;
  q.shape = e.shape;
  q.bytes = e.model_read_bytes + e.model_write_bytes;
  q.flops = e.model_flops;
  q.compute_dtype = compute_dtype_of(e.kernel, e.family, e.shape.dtype);
  return q;
}

CostModel::CostModel(Profile profile, PricingPolicy policy) : profile_(std::move(profile)), policy_(policy) {}

double CostModel::peak_flops(DType dtype) const {
  auto it = profile_.ceilings.peak_flops.find(dtype);
  return it == profile_.ceilings.peak_flops.end() ? 0.0 : it->second.value;
}

double CostModel::launch_overhead_s() const {
  return profile_.ceilings.launch_overhead_s ? profile_.ceilings.launch_overhead_s->value : 0.0;
}

double CostModel::roofline_floor(double bytes, double flops, DType dtype) const {
  const double peak = peak_flops(dtype);
  const double t_flops = peak > 0 ? flops / peak : 0.0;
  return std::max(bytes / copy_bandwidth_Bps(), t_flops);
}

std::string CostModel::where(const ProfileEntry& e) const {
  const std::string file = !e.file.empty() ? e.file : profile_.file.empty() ? std::string("profile") : profile_.file;
  std::string out = file + " " + e.pointer + " " + e.label();
  if (e.published()) out += " [" + fmt(e.published_flops_per_s / 1e12) + " TFLOP/s, " + e.published_source + "]";
  return out;
}

PricedOp CostModel::roofline(const PriceQuery& q) const {
  const double bw = copy_bandwidth_Bps();
  const double peak = peak_flops(q.compute_dtype);
  const double t_bytes = q.bytes / bw;
  const double t_flops = peak > 0 ? q.flops / peak : 0.0;
  const double launch = launch_overhead_s();
  PricedOp out;
  out.method = PriceMethod::roofline;
  out.seconds = std::max(t_bytes, t_flops) + launch;
  std::ostringstream s;
  s << "roofline on " << (profile_.file.empty() ? std::string("profile") : profile_.file) << " ceilings: max("
    << fmt(q.bytes) << " B / " << fmt(bw) << " B/s copy, ";
  if (peak > 0) s << fmt(q.flops) << " FLOP / " << fmt(peak) << " FLOP/s " << to_string(q.compute_dtype) << " peak)";
  else s << "no " << to_string(q.compute_dtype) << " peak in profile, FLOPs not bounded)";
  s << " = " << (t_flops > t_bytes ? "compute" : "memory") << " bound";
  if (launch > 0) s << " + " << fmt(launch) << " s measured launch overhead";
  else s << ", no launch overhead (none measured)";
  out.source = s.str();
  return out;
}

// Along a scaling coordinate (tokens; a GEMM's m or k), between entries that share every other shape
// key: linear in time between the two bracketing entries, and linear extrapolation beyond the range
// through the two nearest. A GEMM can lie on an m line and a k line: the line whose two entries lie
// closest to it (smallest log range spanned by them and the query) prices it, and a line that brackets
// it beats any that does not; nearer measurements leave less room for an algorithm switch in between.
// (Beyond the range, the straight line beat carrying the nearest end's efficiency on an H100 GEMM
// sweep: median error at the ends of the m and k ranges 4.4% against 7.6%.)
std::optional<PricedOp> CostModel::along_scaling_line(const PriceQuery& q,
                                                      const std::vector<const ProfileEntry*>& same) const {
  using Axis = ProfileShape::Axis;
  struct Candidate {
    Axis axis;
    const ProfileEntry* a;
    const ProfileEntry* b;
    bool brackets;
    double log_range;  // log(max / min) over the query's and both entries' coordinates
  };
  std::optional<Candidate> best;
  size_t lines = 0;
  for (Axis axis : ProfileShape::scaling_axes(*q.family)) {
    std::vector<const ProfileEntry*> line;
    for (const ProfileEntry* e : same)
      if (e->shape.same_except(q.shape, axis)) line.push_back(e);
    if (line.size() < 2) continue;
    ++lines;
    auto x_of = [axis](const ProfileEntry* e) { return e->shape.coordinate(axis); };
    std::sort(line.begin(), line.end(),
              [&](const ProfileEntry* a, const ProfileEntry* b) { return x_of(a) < x_of(b); });
    const double x = q.shape.coordinate(axis);
    const bool brackets = x >= x_of(line.front()) && x <= x_of(line.back());
    size_t hi = 1;  // the pair: bracketing, else the two nearest to the end beyond which x lies
    if (brackets || x > x_of(line.back()))
      while (hi + 1 < line.size() && x_of(line[hi]) < x) ++hi;
    const Candidate c{axis, line[hi - 1], line[hi], brackets,
                      std::log(std::max(x, x_of(line[hi])) / std::min(x, x_of(line[hi - 1])))};
    if (!best || (c.brackets && !best->brackets) || (c.brackets == best->brackets && c.log_range < best->log_range))
      best = c;
  }
  if (!best) return std::nullopt;
  const ProfileEntry& a = *best->a;
  const ProfileEntry& b = *best->b;
  const double xa = a.shape.coordinate(best->axis), xb = b.shape.coordinate(best->axis);
  const double t = a.seconds + (b.seconds - a.seconds) * (q.shape.coordinate(best->axis) - xa) / (xb - xa);
  const double floor = roofline_floor(q.bytes, q.flops, q.compute_dtype);
  PricedOp out{std::max(t, floor), PriceMethod::interpolated,
               std::string(best->brackets ? "interpolated linearly in " : "extrapolated linearly in ") +
                   ProfileShape::axis_name(best->axis) + (best->brackets ? " between " : " from ") + where(a) +
                   " and " + where(b)};
  if (lines > 1) out.source += " (the closest of " + std::to_string(lines) + " measured lines through this shape)";
  if (t < floor) out.source += "; raised to the roofline floor " + fmt(floor) + " s";
  return out;
}

namespace {

// Distance between two shapes of one family in log space; mismatched discrete keys count heavily.
double shape_distance(const ProfileShape& a, const ProfileShape& b, KernelFamily family) {
  auto d = [](double x, double y) { return (x > 0 && y > 0) ? std::fabs(std::log(x / y)) : 0.0; };
  constexpr double mismatch = 100.0;
  switch (family) {
    case KernelFamily::gemm:
      return d(a.m, b.m) + d(a.gemm_n, b.gemm_n) + d(a.k, b.k) + d(a.groups, b.groups) +
             (a.dtype != b.dtype ? mismatch : 0.0);
    case KernelFamily::attention:
      return d(a.tokens, b.tokens) + d(a.seq, b.seq) + d(a.heads, b.heads) + d(a.head_dim_qk, b.head_dim_qk) +
             d(a.head_dim_v, b.head_dim_v) + (a.causal != b.causal ? mismatch : 0.0);
    default:
      return d(a.n, b.n) + d(a.C, b.C) + d(a.tokens, b.tokens) +
             (a.sinkhorn_iters != b.sinkhorn_iters ? d(a.sinkhorn_iters, b.sinkhorn_iters) : 0.0);
  }
}

}  // namespace

// The roofline time of the query scaled by the efficiency (time / roofline) measured at the nearest
// entry of the same kernel: the measured fraction of the ceilings carries over to a nearby shape.
std::optional<PricedOp> CostModel::scaled_from_nearest(const PriceQuery& q,
                                                       const std::vector<const ProfileEntry*>& same) const {
  const ProfileEntry* best = nullptr;
  double best_d = std::numeric_limits<double>::infinity();
  for (const ProfileEntry* e : same) {
    if (roofline_floor(e->model_read_bytes + e->model_write_bytes, e->model_flops,
                       compute_dtype_of(e->kernel, e->family, e->shape.dtype)) <= 0)
      continue;
    const double dist = shape_distance(q.shape, e->shape, *q.family);
    if (dist < best_d) best_d = dist, best = e;
  }
  const double floor_q = roofline_floor(q.bytes, q.flops, q.compute_dtype);
  if (!best || floor_q <= 0) return std::nullopt;
  const double floor_e = roofline_floor(best->model_read_bytes + best->model_write_bytes, best->model_flops,
                                        compute_dtype_of(best->kernel, best->family, best->shape.dtype));
  const double efficiency = best->seconds / floor_e;  // >= 1 unless the entry beat the ceilings
  PricedOp out;
  out.method = PriceMethod::interpolated;
  out.seconds = floor_q * efficiency;
  out.source = "roofline " + fmt(floor_q) + " s x measured time/roofline " + fmt(efficiency) + " of nearest entry " +
               where(*best);
  return out;
}

std::optional<PricedOp> CostModel::by_attention_rate(const PriceQuery& q,
                                                     const std::vector<const ProfileEntry*>& same) const {
  auto rate = attention_rate(q.shape, same);
  if (!rate || q.flops <= 0) return std::nullopt;
  const double t_flops = q.flops / rate->flops_per_s, t_bytes = q.bytes / copy_bandwidth_Bps();
  PricedOp out;
  out.method = PriceMethod::interpolated;
  out.seconds = std::max(t_flops, t_bytes);
  out.source = fmt(q.flops) + " FLOP at " + rate->how;
  if (t_bytes > t_flops) out.source += "; memory-bound: " + fmt(q.bytes) + " B at the measured copy bandwidth";
  return out;
}

std::optional<PricedOp> CostModel::from_entries(const PriceQuery& q, const std::vector<const ProfileEntry*>& same) const {
  if (same.empty()) return std::nullopt;
  if (auto line = along_scaling_line(q, same)) return line;
  if (*q.family == KernelFamily::attention) return by_attention_rate(q, same);
  return scaled_from_nearest(q, same);
}

PricedOp CostModel::at_copy_bandwidth(const PriceQuery& q) const {
  const double bw = copy_bandwidth_Bps(), launch = launch_overhead_s();
  PricedOp out;
  out.method = PriceMethod::bandwidth;
  out.seconds = q.bytes / bw + launch;
  out.source = "no entry for \"" + q.kernel + "\": memory-bound, " + fmt(q.bytes) + " B at the measured copy bandwidth " +
               fmt(bw) + " B/s of " + (profile_.file.empty() ? std::string("profile") : profile_.file) +
               (launch > 0 ? " + " + fmt(launch) + " s measured launch overhead" : ", no launch overhead (none measured)");
  return out;
}

PricedOp CostModel::price(const PriceQuery& q) const {
  if (!q.family) {
    PricedOp r = roofline(q);
    r.source = "kernel \"" + q.kernel + "\" is not one a profile measures; " + r.source;
    return r;
  }
  if (policy_.mhc_at_floor && *q.family == KernelFamily::mhc) {
    PricedOp r = roofline(q);
    r.source = "what-if --mhc-at-floor (measurements set aside): " + r.source;
    return r;
  }
  // Measured entries first (this GPU, this software), then published ones (each names its source).
  std::vector<const ProfileEntry*> measured, published;
  for (const ProfileEntry& e : profile_.entries)
    if (e.kernel == q.kernel) (e.published() ? published : measured).push_back(&e);
  for (const ProfileEntry* e : measured)
    if (e->shape == q.shape) return PricedOp{e->seconds, PriceMethod::measured, "measured: " + where(*e)};
  for (const ProfileEntry* e : published)
    if (e->shape == q.shape) return PricedOp{e->seconds, PriceMethod::published, "published: " + where(*e)};
  if (auto p = from_entries(q, measured)) return *p;
  if (auto p = from_entries(q, published)) {
    p->method = PriceMethod::published;
    p->source = "from published entries: " + p->source;
    return *p;
  }
  // Nothing measured or published: a memory-bound kernel moves its bytes at the measured copy
  // bandwidth; a GEMM or attention gets the roofline's lower bound (the report warns about it).
  const KernelFamily family = *q.family;
  if (family != KernelFamily::gemm && family != KernelFamily::attention) return at_copy_bandwidth(q);
  PricedOp r = roofline(q);
  std::string why = measured.empty() && published.empty() ? "no entry for \"" + q.kernel + "\"; "
                                                           : std::string("no usable entry; ");
  if (family == KernelFamily::attention)
    why += "attention neither measured nor published in this profile: its FLOPs at the dense GEMM peak bound it "
           "from below (fused attention reaches less than a GEMM); ";
  r.source = why + r.source;
  return r;
}

PricedOp CostModel::price(const Op& op, double tokens) const { return price(query_for_op(op, tokens)); }

std::vector<LeaveOneOutResult> leave_one_out(const Profile& profile) {
  std::vector<LeaveOneOutResult> out;
  for (size_t i = 0; i < profile.entries.size(); ++i) {
    Profile without = profile;
    without.entries.erase(without.entries.begin() + static_cast<std::ptrdiff_t>(i));
    CostModel model(std::move(without));
    LeaveOneOutResult r;
    r.entry = &profile.entries[i];
    r.measured_s = profile.entries[i].seconds;
    r.predicted = model.price(query_for_entry(profile.entries[i]));
    const ProfileEntry& e = profile.entries[i];
    for (ProfileShape::Axis axis : ProfileShape::scaling_axes(e.family)) {
      bool below = false, above = false;
      for (const ProfileEntry& o : profile.entries) {
        if (&o == &e || o.kernel != e.kernel || !o.shape.same_except(e.shape, axis)) continue;
        below |= o.shape.coordinate(axis) < e.shape.coordinate(axis);
        above |= o.shape.coordinate(axis) > e.shape.coordinate(axis);
      }
      r.interior |= below && above;
    }
    out.push_back(r);
  }
  return out;
}

}  // namespace mhc
