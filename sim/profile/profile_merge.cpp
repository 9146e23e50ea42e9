#include "profile/profile_merge.h"

#include <cmath>
#include <optional>
#include <sstream>

#include "core/json_input.h"

namespace mhc {

namespace {

std::string name_of(const Profile& p) { return p.file.empty() ? std::string("profile") : p.file; }

std::string num(double v) {
  std::ostringstream s;
  s.precision(4);
  s << v;
  return s.str();
}

void check_same_gpu(const Profile& p, const Profile& first) {
  if (p.kind != ProfileKind::measured)
    throw InputError(name_of(p), "/kind",
                     "profile-merge merges measured profiles only, got \"reference\" (a reference profile holds "
                     "compiled ceilings, no measurements)");
  if (p.provenance.gpu != first.provenance.gpu)
    throw InputError(name_of(p), "/provenance/gpu",
                     "\"" + p.provenance.gpu + "\" differs from \"" + first.provenance.gpu + "\" of " +
                         name_of(first) + " (merge profiles of one GPU only)");
  if (p.provenance.sm_count != first.provenance.sm_count)
    throw InputError(name_of(p), "/provenance/sm_count",
                     std::to_string(p.provenance.sm_count) + " differs from " +
                         std::to_string(first.provenance.sm_count) + " of " + name_of(first) +
                         " (merge profiles of one GPU only)");
}

// The runs an input contributes: its own parts when it was merged already, else itself.
std::vector<ProfilePart> parts_of(const Profile& p) {
  if (!p.parts.empty()) return p.parts;
  return {ProfilePart{name_of(p), p.provenance}};
}

// One ceiling as each input has it, in input order.
struct Candidate {
  const Profile* from;
  SourcedValue value;
};

// The first input's value, its source naming that input; a later input further than
// kCeilingDisagreement from it is a warning (the parts were measured on one GPU, so they should agree).
std::optional<SourcedValue> first_ceiling(const std::vector<Candidate>& candidates, const std::string& pointer,
                                          std::vector<std::string>& warnings) {
  if (candidates.empty()) return std::nullopt;
  const Candidate& kept = candidates.front();
  for (size_t i = 1; i < candidates.size(); ++i) {
    const Candidate& other = candidates[i];
    const double gap = std::fabs(other.value.value - kept.value.value) / kept.value.value;
    if (gap > kCeilingDisagreement)
      warnings.push_back(name_of(*other.from) + ": " + pointer + ": " + num(other.value.value) + " differs from " +
                         num(kept.value.value) + " of " + name_of(*kept.from) + " by " + num(100 * gap) +
                         "%; the merged profile keeps " + name_of(*kept.from) + "'s");
  }
  SourcedValue out = kept.value;
  // A merged input's sources already name their part.
  if (kept.from->parts.empty()) out.source = "from " + name_of(*kept.from) + ": " + out.source;
  return out;
}

ProfileCeilings merge_ceilings(const std::vector<Profile>& inputs, std::vector<std::string>& warnings) {
  std::vector<Candidate> copy, launch;
  std::map<DType, std::vector<Candidate>> peaks;
  for (const Profile& p : inputs) {
    copy.push_back({&p, p.ceilings.copy_bandwidth_Bps});
    if (p.ceilings.launch_overhead_s) launch.push_back({&p, *p.ceilings.launch_overhead_s});
    for (const auto& [dtype, v] : p.ceilings.peak_flops) peaks[dtype].push_back({&p, v});
  }
  ProfileCeilings c;
  c.copy_bandwidth_Bps = *first_ceiling(copy, "/ceilings/copy_bandwidth_Bps", warnings);
  for (const auto& [dtype, list] : peaks)
    c.peak_flops[dtype] = *first_ceiling(list, std::string("/ceilings/peak_flops/") + to_string(dtype), warnings);
  c.launch_overhead_s = first_ceiling(launch, "/ceilings/launch_overhead_s", warnings);
  return c;
}

bool has_datasheet(const ProfileDatasheet& d) {
  return d.sm_count || d.memory_bytes || d.dram_bandwidth_Bps || !d.peak_flops.empty();
}

}  // namespace

MergedProfile merge_profiles(const std::vector<Profile>& inputs, const std::string& command, const std::string& date) {
  if (inputs.size() < 2) throw InputError("mhcsim profile-merge", "", "needs at least two profiles to merge");
  const Profile& first = inputs.front();
  for (const Profile& p : inputs) check_same_gpu(p, first);

  MergedProfile out;
  Profile& m = out.profile;
  m.kind = ProfileKind::measured;
  for (const Profile& p : inputs) {
    const int offset = static_cast<int>(m.parts.size());
    for (const ProfilePart& part : parts_of(p)) m.parts.push_back(part);
    // The co-run measurement of the first input that has one (one run measures it).
    if (p.corun && !m.corun) {
      m.corun = p.corun;
      m.corun->part = offset + (p.parts.empty() ? 0 : p.corun->part);
    } else if (p.corun) {
      out.warnings.push_back(name_of(p) + ": its corun section is ignored; " + m.parts[m.corun->part].file +
                             "'s is kept");
    }
    for (const ProfileEntry& e : p.entries) {
      ProfileEntry merged = e;
      merged.part = offset + (p.parts.empty() ? 0 : e.part);
      m.entries.push_back(merged);
    }
  }
  // Duplicates across inputs (the reader already refused them within one input).
  for (size_t i = 1; i < inputs.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      for (const ProfileEntry& a : inputs[i].entries)
        for (const ProfileEntry& b : inputs[j].entries)
          if (a.kernel == b.kernel && a.shape == b.shape)
            throw InputError(name_of(inputs[i]), a.pointer,
                             "duplicate entry " + a.label() + ": " + name_of(inputs[j]) + " " + b.pointer +
                                 " has the same kernel and shape (measure each shape in one part only)");

  m.ceilings = merge_ceilings(inputs, out.warnings);
  for (const Profile& p : inputs)
    if (has_datasheet(p.datasheet)) {
      m.datasheet = p.datasheet;
      break;
    }

  // The file's provenance is the merge's; the device facts (the same GPU throughout) are part 0's.
  m.provenance = m.parts.front().provenance;
  m.provenance.command = command;
  m.provenance.date = date;
  m.provenance.notes = "merged by mhcsim profile-merge from " + std::to_string(m.parts.size()) +
                       " parts (see /parts; each entry's \"part\" names its run); clocks, memory, driver, CUDA, "
                       "CUPTI and library versions here are part 0's (" + m.parts.front().file + ")";
  return out;
}

}  // namespace mhc
