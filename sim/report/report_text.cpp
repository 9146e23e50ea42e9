// Text form of the run report, rendered from its JSON so both say the same thing.
#include <cstdio>
#include <sstream>

#include "report/report.h"
#include "report/text_format.h"

namespace mhc {

namespace {

using nlohmann::json;

std::string gib(double b) { return fmt("%.2f GiB", b / double(1ull << 30)); }
std::string gb(double b) { return fmt("%.2f GB", b / 1e9); }
double num(const json& j, const char* key) { return j.contains(key) ? j[key].get<double>() : 0.0; }

}  // namespace

std::string report_text(const json& j) {
  std::ostringstream os;
  const auto& sc = j["scenario"];
  const auto& lay = sc["layout"];
  os << "mhcsim run: " << sc["name"].get<std::string>() << "\n"
     << "  " << sc["file"].get<std::string>() << ": " << sc["cluster"]["gpus"].get<int>() << " x "
     << sc["cluster"]["gpu"].get<std::string>() << ", TP" << lay["tp"]
     << (lay.value("cp", 1) > 1 ? " CP" + std::to_string(lay["cp"].get<int>()) : std::string()) << " PP" << lay["pp"]
     << " EP" << lay["ep"]
     << (lay.value("etp", 1) > 1 ? " ETP" + std::to_string(lay["etp"].get<int>()) : std::string())
     << " DP" << lay["dp"] << " ZeRO-" << lay["zero_stage"] << ", " << sc["schedule"].get<std::string>() << ", "
     << lay["micro_batches"] << " micro-batches of " << lay["tokens_per_micro_batch"].get<double>() << " tokens\n"
     << "  profile " << j["profile"]["file"].get<std::string>() << " (" << j["profile"]["kind"].get<std::string>() << ")\n";
  for (const auto& part : j["profile"]["published_parts"])
    os << "    + published part " << part["file"].get<std::string>() << "\n";
  if (sc.contains("model")) {
    const auto& md = sc["model"];
    os << "  model " << md["name"].get<std::string>() << ": " << md["layers"] << " layers, C = " << md["hidden"] << ", "
       << fmt("%.2f", md["parameters"].get<double>() / 1e9) << "B parameters, "
       << fmt("%.2f", md["active_parameters"].get<double>() / 1e9) << "B active per token (counted from the model file"
       << (md["mtp_depth"].get<int>() > 0 ? "; MTP modules not included" : "") << ")\n";
  }
  const auto& prec = sc["precision"];
  os << "  precision " << prec["name"].get<std::string>() << " (GEMMs " << prec["gemm"].get<std::string>()
     << ", MoE dispatch " << prec["moe_dispatch"].get<std::string>() << ")\n";
  if (j.contains("what_if"))
    for (const auto& w : j["what_if"]) os << "  WHAT-IF " << w.get<std::string>() << "\n";
  if (j["profile"]["kind"] == "reference")
    os << "  note: a reference profile holds measured device ceilings only; every op is priced by roofline on\n"
          "        them (a lower bound on kernel time) until a measured profile exists for this GPU\n";

  const std::string variant = sc["variant"].get<std::string>() + " n=" + std::to_string(sc["n"].get<int>()) +
                              (sc["fused"].get<bool>() ? ", fused" : ", unfused") +
                              (sc["recompute"].get<bool>() ? ", recompute" : "") +
                              (sc["high_priority_stream"].get<bool>() ? ", high-priority stream" : "");
  os << "\nStep time\n"
     << "  " << variant << std::string(variant.size() < 44 ? 44 - variant.size() : 1, ' ')
     << fmt("%10.4f s", j["step_time_s"]) << "\n"
     << "  plain residual (baseline)                   " << fmt("%10.4f s", j["baseline_step_time_s"]) << "\n"
     << "  overhead                                    " << fmt("%+9.2f %%", j["overhead_pct"]) << "\n";

  const auto& br = j["overhead_breakdown"];
  const auto& k = br["mhc_kernels_s"];
  os << "\nWhere the extra time goes (rank " << br["rank"] << ", the busiest; the parts add up)\n"
     << "  mHC kernels, forward                        " << fmt("%+10.4f s", k["forward"]) << "\n"
     << "  mHC kernels, backward                       " << fmt("%+10.4f s", k["backward"]) << "\n"
     << "  mHC recomputation                           " << fmt("%+10.4f s", k["recompute"]) << "\n"
     << "  other compute                               " << fmt("%+10.4f s", br["other_compute_s"]) << "\n"
     << "  compute slowed by communication             " << fmt("%+10.4f s", br["compute_slowed_by_comm_s"]) << "\n"
     << "  mHC kernels hidden under other kernels      " << fmt("%+10.4f s", br["mhc_hidden_under_other_kernels_s"])
     << "\n"
     << "  bubble (waiting on the pipeline and comm)   " << fmt("%+10.4f s", br["bubble_s"]) << "\n"
     << "  step time difference                        " << fmt("%+10.4f s", br["delta_step_s"]) << "\n"
     << "  how: " << br["mechanisms"]["compute_slowed_by_comm_s"].get<std::string>() << ".\n"
     << "       " << br["mechanisms"]["mhc_hidden_under_other_kernels_s"].get<std::string>() << ".\n"
     << "  SMs of memory-bound kernels: " << j["gpu_model"]["sm_demand_of_memory_bound_kernels"].get<std::string>()
     << "\n"
     << "  pipeline transfer per micro-batch: " << gb(br["pp_bytes_per_micro_batch"]["mhc"]) << " (mHC) vs "
     << gb(br["pp_bytes_per_micro_batch"]["baseline"]) << " (baseline)";
  // Boundaries beside a layer-less end stage carry one stream (model.h boundary_streams).
  const auto& per_boundary = br["pp_bytes_per_boundary"]["mhc"];
  for (size_t i = 0; i < per_boundary.size(); ++i)
    if (per_boundary[i].get<double>() != br["pp_bytes_per_micro_batch"]["mhc"].get<double>())
      os << "; stage " << i << "->" << i + 1 << " " << gb(per_boundary[i]) << " (one stream: a layer-less end stage)";
  os << "\n"
     << "  exposed communication, mean per pipeline GPU:";
  for (const char* cat : {"tp", "cp", "pp", "ep", "dp", "fsdp"})
    os << "  " << cat << " " << fmt("%.4f", num(br["exposed_comm_s_mean_per_gpu"]["mhc"], cat)) << " s vs "
       << fmt("%.4f", num(br["exposed_comm_s_mean_per_gpu"]["baseline"], cat));
  os << "\n";

  os << "\nBubble per pipeline rank (mHC | baseline)\n"
     << "  rank     busy s   bubble s  fraction  peak act. |   busy s   bubble s  fraction\n";
  for (size_t i = 0; i < j["bubble"]["mhc"].size(); ++i) {
    const auto& m = j["bubble"]["mhc"][i];
    const auto& b = j["bubble"]["baseline"][i];
    os << fmt("  %4.0f", m["rank"]) << fmt(" %10.4f", m["busy_s"]) << fmt(" %10.4f", m["bubble_s"])
       << fmt(" %8.1f%%", 100 * m["bubble_fraction"].get<double>()) << fmt(" %10.0f", m["peak_activations"]) << " |"
       << fmt(" %8.4f", b["busy_s"]) << fmt(" %10.4f", b["bubble_s"])
       << fmt(" %8.1f%%", 100 * b["bubble_fraction"].get<double>()) << "\n";
  }

  // DualPipe's pairs: is a rank's overlapped chunk bound by its compute or by its all-to-all?
  for (const char* variant : {"mhc", "baseline"}) {
    const auto& pairs = j[variant]["overlapped_pairs"];
    if (pairs.empty()) continue;
    os << "\nOverlapped pairs per pipeline rank, " << (std::string(variant) == "mhc" ? "mHC" : "baseline")
       << " (a pair's compute beside the all-to-all it launches)\n"
       << "  rank  pairs  compute ms/pair  all-to-all ms/pair  a2a-bound  a2a past compute s\n";
    for (const auto& p : pairs)
      os << fmt("  %4.0f", p["rank"]) << fmt(" %6.0f", p["pairs"]) << fmt(" %16.2f", 1e3 * p["compute_s_per_pair"].get<double>())
         << fmt(" %19.2f", 1e3 * p["all_to_all_s_per_pair"].get<double>()) << fmt(" %10.0f", p["all_to_all_bound_pairs"])
         << fmt(" %19.4f", p["all_to_all_beyond_compute_s"]) << "\n";
  }

  const auto& mem = j["memory"];
  size_t peak_rank = 0;
  for (size_t i = 0; i < mem["per_rank"].size(); ++i)
    if (mem["per_rank"][i]["total_bytes"] > mem["per_rank"][peak_rank]["total_bytes"]) peak_rank = i;
  const auto& pr = mem["per_rank"][peak_rank];
  os << "\nMemory per GPU (rank " << pr["rank"] << ", the largest; capacity " << gb(mem["capacity_bytes"]) << ")\n";
  for (const auto& it : pr["items"])
    os << "  " << it["name"].get<std::string>() << std::string(22 - std::min<size_t>(21, it["name"].get<std::string>().size()), ' ')
       << fmt("%10.2f GiB", it["bytes"].get<double>() / double(1ull << 30)) << "  " << it["formula"].get<std::string>() << "\n";
  os << "  total                 " << fmt("%9.2f GiB", pr["total_bytes"].get<double>() / double(1ull << 30))
     << (mem["fits"].get<bool>() ? "  fits" : "  DOES NOT FIT") << " (baseline peak " << gib(mem["baseline_peak_bytes"])
     << ")\n";
  if (pr.contains("savings") && !pr["savings"].empty()) {
    os << "  saved by the run's memory techniques (the total without each, less the total with it):\n";
    for (const auto& it : pr["savings"])
      os << "    " << it["name"].get<std::string>()
         << std::string(20 - std::min<size_t>(19, it["name"].get<std::string>().size()), ' ')
         << fmt("%9.2f GiB", it["bytes"].get<double>() / double(1ull << 30)) << "  " << it["formula"].get<std::string>()
         << "\n";
  }
  if (sc["variant"] != "residual")
    os << "  mHC residual stream: " << gib(pr["mhc_residual_stream_without_recompute_bytes"]) << " without recomputation, "
       << gib(pr["mhc_residual_stream_with_recompute_bytes"]) << " with it (incl. one block being rebuilt)\n";

  const auto& io = j["io_per_token"]["variants"];
  os << "\nResidual-stream memory I/O per token, forward (paper Table 2; `mhcsim io` for every op)\n";
  for (const char* v : {"residual", "hc", "mhc_unfused", "mhc_fused"})
    os << "  " << v << std::string(14 - std::string(v).size(), ' ') << fmt("%10.0f B read", io[v]["read_bytes"])
       << fmt("  %10.0f B written", io[v]["write_bytes"]) << "\n";

  os << "\nNetwork bytes per step                   mHC        baseline\n"
     << "  (dp: every replica; pp, tp: pipeline replica 0; ep: its EP group; all TP ranks)\n";
  for (const auto& [cat, bytes] : j["network_bytes"]["mhc"]["by_category"].items())
    os << "  " << cat << std::string(cat.size() < 38 ? 38 - cat.size() : 1, ' ') << gb(bytes) << "   "
       << gb(num(j["network_bytes"]["baseline"]["by_category"], cat.c_str())) << "\n";
  for (const auto& [cls, bytes] : j["network_bytes"]["mhc"]["by_link_class"].items())
    os << "  over " << cls << std::string(cls.size() < 33 ? 33 - cls.size() : 1, ' ') << gb(bytes) << "   "
       << gb(num(j["network_bytes"]["baseline"]["by_link_class"], cls.c_str())) << "\n";

  os << "\nMFU " << fmt("%.1f%%", 100 * j["mfu"]["mhc"].get<double>()) << " (baseline "
     << fmt("%.1f%%", 100 * j["mfu"]["baseline"].get<double>()) << "): " << j["mfu"]["convention"].get<std::string>()
     << "\n";
  const auto& pricing = j["pricing"];
  auto count = [&](const char* m) { return pricing["by_method"].contains(m) ? pricing["by_method"][m].get<int>() : 0; };
  os << "Pricing: " << j["priced_ops"].size() << " distinct ops: " << count("measured") << " measured, "
     << count("interpolated") << " interpolated, " << count("published") << " from published kernel data, "
     << count("bandwidth") << " at the measured copy bandwidth (" << fmt("%.1f%%", 100 * pricing["bandwidth_share_of_step"].get<double>())
     << " of the step), " << count("roofline") << " roofline (--json lists each with its source)\n";
  if (!pricing["roofline_over_1pct_of_step"].empty()) {
    os << "WARNING: roofline-priced ops (a lower bound, no kernel data) above 1% of the step:";
    for (const auto& w : pricing["roofline_over_1pct_of_step"])
      os << " " << w["op"].get<std::string>() << fmt(" (%.1f%%)", 100 * w["share_of_step"].get<double>());
    os << "\n";
  }
  os << "Clocks: the profile was " << j["profile"]["clocks"].get<std::string>() << "\n"
     << "Engine: " << fmt("%.2f s", j["mhc"]["engine"]["wall_s"]) << " + " << fmt("%.2f s", j["baseline"]["engine"]["wall_s"])
     << " wall, " << j["mhc"]["engine"]["activities"].get<long>() + j["baseline"]["engine"]["activities"].get<long>()
     << " SimGrid activities\n";
  return os.str();
}

}  // namespace mhc
