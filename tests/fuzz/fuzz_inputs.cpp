// fuzz_inputs: mutated scenarios, models, clusters, profiles and --set flags through exactly what
// `mhcsim validate` runs (every reader, the schedule, the profile and the pricing of every op), plus
// the profile-info and collective readers. A case passes when it ends normally or with one bounded
// InputError line (mhcsim's exit code 2). It fails on any other exception (exit code 3), a crash, or
// a case running longer than --hang-seconds.
//
//   fuzz_inputs [--cases N] [--seed S] [--first K] [--hang-seconds T] [--keep]
//
// Case i follows from (S, i) alone: `--first i --cases 1 --keep` replays it and keeps its files.
// Starts from the shipped scenarios and from the crash inputs of tests/fuzz/crash_cases.h.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include "cli/validate_command.h"
#include "core/json_input.h"
#include "crash_cases.h"
#include "fuzz_mutator.h"
#include "profile/profile.h"
#include "report/profile_info.h"
#include "scenario/cluster.h"

namespace fs = std::filesystem;
using namespace mhc::fuzz;

namespace {

// Written before each case, printed if the case crashes or hangs (a signal handler can only write()).
char g_case_line[512];

void on_fatal_signal(int sig) {
  const char* what = sig == SIGALRM ? "HANG (ran past --hang-seconds): " : "CRASH: ";
  (void)!write(2, what, std::strlen(what));
  (void)!write(2, g_case_line, std::strlen(g_case_line));
  if (sig == SIGALRM) _exit(4);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

uint64_t case_seed(uint64_t seed, uint64_t index) {  // splitmix64 of (seed, index)
  uint64_t z = seed * 0x9E3779B97F4A7C15ull + index + 0x632BE59BD9B4E5Bull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

struct Options {
  uint64_t cases = 1000, seed = 1, first = 0;
  unsigned hang_seconds = 30;
  bool keep = false;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&] {
      if (i + 1 >= argc) throw std::invalid_argument(a + " expects a value");
      return std::stoull(argv[++i]);
    };
    if (a == "--cases") o.cases = value();
    else if (a == "--seed") o.seed = value();
    else if (a == "--first") o.first = value();
    else if (a == "--hang-seconds") o.hang_seconds = static_cast<unsigned>(value());
    else if (a == "--keep") o.keep = true;
    else throw std::invalid_argument("unknown argument " + a);
  }
  return o;
}

// What one case came to.
enum class Result { ok, input_error, failure };

struct Totals {
  uint64_t ok = 0, input_errors = 0, failures = 0;
  double slowest_s = 0;
  uint64_t slowest_case = 0;
};

// InputError must be one line, bounded: what mhcsim prints after "error: ".
bool good_error_line(const std::string& what) { return what.find('\n') == std::string::npos && what.size() < 2000; }

// `profile_pristine`: profile.json on disk is the unmutated copy (so it need not be written again).
Result run_case(InputWorkspace& ws, Mutator& rng, const CrashCase* seed_case, bool& profile_pristine,
                std::string& report) {
  Mutation m;
  std::vector<std::string> args{ws.path(File::scenario)};
  if (seed_case) {  // a crash input as the starting point: its edits and its --set flags
    for (const TextEdit& e : seed_case->edits)
      if (e.kind == TextEdit::Kind::set_raw) ws.set_raw(e.file, e.a, e.b);
      else ws.edit(e);
    for (size_t i = 0; i + 1 < seed_case->args.size(); ++i)
      if (seed_case->args[i] == "--set") args.insert(args.end(), {"--set", seed_case->args[i + 1]});
    m.profile_touched = true;
  }
  Mutation more = rng.mutate(ws);
  m.profile_touched = m.profile_touched || more.profile_touched;
  for (const std::string& s : more.set_flags) args.insert(args.end(), {"--set", s});
  for (const std::string& n : more.notes) report += "  " + n + "\n";
  ws.write(profile_pristine && !m.profile_touched);
  profile_pristine = !m.profile_touched;
  std::ostringstream sink;
  try {
    mhc::run_validate_command(args, sink);
    if (rng.chance(0.2)) mhc::write_profile_info(sink, mhc::load_profile(ws.path(File::profile)), {});
    if (rng.chance(0.2)) (void)mhc::load_cluster_file(ws.path(File::cluster));
    return Result::ok;
  } catch (const mhc::InputError& e) {
    if (good_error_line(e.what())) return Result::input_error;
    report += "  input error not one bounded line (" + std::to_string(std::strlen(e.what())) + " bytes): " +
              mhc::bounded(e.what(), 300) + "\n";
  } catch (const std::exception& e) {
    report += "  INTERNAL ERROR (mhcsim exit code 3): " + mhc::bounded(e.what(), 300) + "\n";
  }
  return Result::failure;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  try {
    o = parse(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "fuzz_inputs: " << e.what() << "\n";
    return 2;
  }
  for (int sig : {SIGSEGV, SIGABRT, SIGFPE, SIGBUS, SIGILL, SIGALRM}) std::signal(sig, on_fatal_signal);
  const fs::path root = fs::temp_directory_path() / ("mhcsim_fuzz_" + std::to_string(::getpid()));
  const std::vector<std::string> scenarios = {"scenarios/small.json", "scenarios/dense-gpt-13b-h100-1f1b.json",
                                              "scenarios/dense-gpt-13b-h100-tp2.json", "scenarios/paper-3b-h800-zb1p.json",
                                              "scenarios/paper-27b-h800-dualpipe.json", "scenarios/deepseek-v3-2048-h800.json"};
  const std::vector<CrashCase> crashes = crash_cases();
  std::map<std::string, std::unique_ptr<InputWorkspace>> workspaces;
  std::map<std::string, bool> profile_pristine;  // by workspace; false until first written
  Totals t;
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t i = o.first; i < o.first + o.cases; ++i) {
    Mutator rng(case_seed(o.seed, i));
    const CrashCase* seed_case = rng.chance(0.25) ? &crashes[rng.below(crashes.size())] : nullptr;
    const std::string scenario = seed_case ? seed_case->scenario : scenarios[rng.below(scenarios.size())];
    auto& ws = workspaces[scenario];
    if (!ws) ws = std::make_unique<InputWorkspace>(MHC_SOURCE_DIR, scenario, root / std::to_string(workspaces.size()));
    ws->reset();
    std::snprintf(g_case_line, sizeof g_case_line, "case %llu of seed %llu (replay: fuzz_inputs --seed %llu --first %llu --cases 1 --keep)\n",
                  static_cast<unsigned long long>(i), static_cast<unsigned long long>(o.seed),
                  static_cast<unsigned long long>(o.seed), static_cast<unsigned long long>(i));
    std::string report;
    alarm(o.hang_seconds);
    const auto t0 = std::chrono::steady_clock::now();
    const Result r = run_case(*ws, rng, seed_case, profile_pristine[scenario], report);
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    alarm(0);
    if (took > t.slowest_s) t.slowest_s = took, t.slowest_case = i;
    if (r == Result::ok) ++t.ok;
    if (r == Result::input_error) ++t.input_errors;
    if (r == Result::failure) {
      ++t.failures;
      std::cerr << "FAILURE: " << g_case_line << "  from " << scenario << (seed_case ? " + crash case '" + seed_case->name + "'" : "")
                << "\n" << report;
    }
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!o.keep) fs::remove_all(root);
  else std::cout << "kept the last cases' files under " << root.string() << "\n";
  std::printf("fuzz_inputs: %llu cases (seed %llu, first %llu) in %.1f s: %llu valid, %llu input errors (exit 2), "
              "%llu failures; slowest case %.3f s (case %llu)\n",
              static_cast<unsigned long long>(o.cases), static_cast<unsigned long long>(o.seed),
              static_cast<unsigned long long>(o.first), wall, static_cast<unsigned long long>(t.ok),
              static_cast<unsigned long long>(t.input_errors), static_cast<unsigned long long>(t.failures), t.slowest_s,
              static_cast<unsigned long long>(t.slowest_case));
  return t.failures == 0 ? 0 : 1;
}
