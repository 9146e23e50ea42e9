// The inputs issue 20 found crashing, hanging or silently accepted (about 16,000 mutated files and
// command lines), each with what mhcsim must do now. test_crash_cases runs every one through the
// mhcsim binary; fuzz_inputs starts from them as its seed corpus.
#pragma once

#include <string>
#include <vector>

#include "input_workspace.h"

namespace mhc::fuzz {

struct CrashCase {
  std::string name;
  std::string scenario;            // the shipped scenario the workspace starts from
  std::vector<TextEdit> edits;     // set_raw: (pointer, raw JSON); replace: (from, to); append: text
  std::vector<std::string> args;   // after "mhcsim"; {scenario} / {cluster} / {dir} name workspace paths
  int exit_code = 2;               // 0: runs; 2: one line naming file and path
  std::string message;             // must appear in that line ("" for exit 0)
};

// `text` as a JSON string (plain characters only).
inline std::string quoted(std::string text) {
  text.insert(text.begin(), '"');
  text.push_back('"');
  return text;
}

inline std::vector<CrashCase> crash_cases() {
  using K = TextEdit::Kind;
  const std::string dense = "scenarios/dense-gpt-13b-h100-1f1b.json";
  const std::string small = "scenarios/small.json";
  const std::string paper = "scenarios/paper-27b-h800-dualpipe.json";
  const std::string two32 = "4294967296";
  auto set = [](File f, std::string pointer, std::string raw) { return TextEdit{K::set_raw, f, pointer, raw, 0}; };
  auto validate = std::vector<std::string>{"validate", "{scenario}"};
  std::vector<CrashCase> c;
  // A rail-optimised fabric whose nodes all sit under one leaf: heap overflow in the engine.
  c.push_back({"rail fabric, one leaf group: run", dense, {},
               {"run", "{scenario}", "--set", "/cluster/nodes=16", "--set", "/parallelism/dp=16", "--set",
                "/parallelism/global_batch=512"},
               0, ""});
  c.push_back({"rail fabric, one leaf group: collective", dense, {set(File::cluster, "/nodes", "2")},
               {"collective", "--op", "all_reduce", "--cluster", "{cluster}", "--gpus", "16", "--max", "1M"}, 0, ""});
  // 32-bit narrowing: 2^32 became 0 (SIGFPE in the divisibility checks) or ran silently.
  for (const char* key : {"pp", "tp", "ep", "dp"})
    c.push_back({std::string("2^32 in /parallelism/") + key, small, {set(File::scenario, std::string("/parallelism/") + key, two32)},
                 validate, 2, std::string("/parallelism/") + key + ": must be an integer in 1..8, got 4294967296"});
  c.push_back({"2^32 NICs per node", small, {set(File::cluster, "/nics/per_node", two32)}, validate, 2,
               "/nics/per_node: must be an integer in 1..4, got 4294967296"});
  c.push_back({"2^32 planes", small, {set(File::cluster, "/fabric/planes", two32)}, validate, 2,
               "/fabric/planes: must be an integer in 1..4, got 4294967296"});
  c.push_back({"n = 2^32 (ran as n = 0)", small, {}, {"validate", "{scenario}", "--set", "/mhc/n=4294967296"}, 2,
               "/mhc/n: must be an integer in 1..16, got 4294967296"});
  c.push_back({"zero_stage 2^63-1 (printed ZeRO--1)", small, {set(File::scenario, "/parallelism/zero_stage", "9223372036854775807")},
               validate, 2, "/parallelism/zero_stage: must be an integer in 0..3, got 9223372036854775807"});
  c.push_back({"huge head_dim (signed overflow in attention FLOPs)", dense, {set(File::model, "/attention/head_dim", "1099511627776")},
               validate, 2, "/attention/head_dim: must be an integer in 1..2048"});
  c.push_back({"2^31 nodes (total_gpus wrapped)", small, {set(File::cluster, "/nodes", "2147483648")}, validate, 2,
               "/nodes: must be an integer in 1..65536"});
  c.push_back({"layers near 2^31 (validate looped for 21 s)", dense, {set(File::model, "/layers", "2147483640")},
               validate, 2, "/layers: must be an integer in 1..1024"});
  // Deep nesting where a number is expected: the error message's dump overflowed the stack.
  c.push_back({"arrays 50,000 deep in a file", small, {set(File::model, "/hidden", deep_array(50000))}, validate, 2,
               "nested deeper than 64 levels"});
  c.push_back({"arrays 50,000 deep in --set", small, {}, {"validate", "{scenario}", "--set", "/mhc/n=" + deep_array(50000)},
               2, "--set: /mhc/n: the value at /0/0/0"});
  // nlohmann exceptions that ended as "internal error" (exit 3).
  c.push_back({"1e400 in a file", small, {set(File::model, "/hidden", "1e400")}, validate, 2, "number overflow"});
  c.push_back({"1e400 in --set", small, {}, {"validate", "{scenario}", "--set", "/mhc/n=1e400"}, 2,
               "--set: /mhc/n: the value: not valid JSON at byte 5: number overflow"});
  c.push_back({"invalid UTF-8 in a --set value", small, {}, {"validate", "{scenario}", "--set", "/name=\xff\xfe"}, 2,
               "--set: /name=\\xFF\\xFE: not valid UTF-8"});
  c.push_back({"invalid UTF-8 in a --set pointer", small, {}, {"validate", "{scenario}", "--set", "/na\xc3me=x"}, 2,
               "--set: /na\\xC3me=x: not valid UTF-8"});
  c.push_back({"a 1 MB profile path", small, {set(File::cluster, "/gpu/profile", quoted(std::string(1 << 20, 'p')))},
               validate, 2, "cluster.json: /gpu/profile: profile file not found: "});
  // Absurd values: a 6e39 s step with exit 0, or SimGrid deadlocked (exit 3).
  c.push_back({"copy bandwidth 1e-30", small, {set(File::profile, "/ceilings/copy_bandwidth_Bps/value", "1e-30")}, validate,
               2, "profile.json: /ceilings/copy_bandwidth_Bps/value: must be between 1e+10 and 1e+14, got 1e-30"});
  c.push_back({"copy bandwidth 1e-300 (run)", small, {set(File::profile, "/ceilings/copy_bandwidth_Bps/value", "1e-300")},
               {"run", "{scenario}"}, 2, "/ceilings/copy_bandwidth_Bps/value: must be between 1e+10 and 1e+14"});
  c.push_back({"duplicate key (the last one won)", small, {{K::replace, File::scenario, "\"n\": 4", "\"n\": 4, \"n\": 2", 0}},
               validate, 2, "scenario.json: /mhc/n: duplicate key"});
  c.push_back({"unknown key in /cluster/nvlink", small, {set(File::cluster, "/nvlink/bandwith_GBps", "1")}, validate, 2,
               "cluster.json: /nvlink/bandwith_GBps: unknown key"});
  c.push_back({"a NUL byte ended the file silently", small, {{K::append, File::scenario, std::string("\0}", 2), "", 0}},
               validate, 2, "contains a NUL byte"});
  c.push_back({"validate reads the profile", small, {set(File::profile, "/kernels/0/time_s/median", "-1")}, validate, 2,
               "profile.json: /kernels/0/time_s/median: must be between"});
  // Output that cannot be written: reported before the simulation, naming the flag.
  c.push_back({"unwritable --trace", small, {}, {"run", "{scenario}", "--trace", "{dir}/no/such/folder/t.json"}, 2,
               "mhcsim run: --trace: cannot write"});
  return c;
}

}  // namespace mhc::fuzz
