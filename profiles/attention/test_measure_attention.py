"""Unit tests of measure_attention.py's plain-Python parts (no torch, no GPU): the shapes it derives from
the shipped model files, the simulator's FLOP and byte counts, splitting profiler records per call, and
the profile it writes, which `mhcsim profile-info` and `profile-merge` must accept (when the ctest gives
the mhcsim binary in $MHCSIM). The timings here are made up for the test and never committed."""

import json
import os
import subprocess
import tempfile
import unittest

import measure_attention as ma

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODELS = os.path.join(REPO, "scenarios", "models")
MHCSIM = os.environ.get("MHCSIM")


def model_path(name):
    return os.path.join(MODELS, name + ".json")


class Shapes(unittest.TestCase):
    def shape(self, name, tp=1):
        with open(model_path(name)) as f:
            return ma.attention_shape(json.load(f), tp, model_path(name))

    def test_mla_attends_with_rope_dims_added_to_qk(self):
        self.assertEqual(self.shape("deepseek-v3"), {"seq": 4096, "heads": 128, "head_dim_qk": 192, "head_dim_v": 128,
                                                     "causal": True, "kv_heads": 128})
        self.assertEqual(self.shape("paper-3b")["heads"], 16)
        self.assertEqual(self.shape("deepseek-v3", tp=8)["heads"], 16)

    def test_gqa_keeps_its_kv_heads_and_mha_has_one_per_query_head(self):
        self.assertEqual(self.shape("small-moe"), {"seq": 2048, "heads": 8, "head_dim_qk": 128, "head_dim_v": 128,
                                                   "causal": True, "kv_heads": 2})
        self.assertEqual(self.shape("dense-gpt-13b")["kv_heads"], 40)

    def test_shipped_models_give_six_distinct_shapes(self):
        paths = [model_path(n) for n in ("deepseek-v3", "dense-gpt-13b", "paper-27b", "paper-3b", "paper-9b",
                                         "small-moe", "paper-3b")]
        shapes = ma.shapes_from_models(paths)
        self.assertEqual([s["shape"]["heads"] for s in shapes], [128, 40, 32, 16, 24, 8])
        self.assertEqual(shapes[3]["models"], ["paper-3b.json", "paper-3b.json"])

    def test_bad_model_file_is_one_line_naming_file_and_path(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "bad.json")
            with open(model_path("small-moe")) as f:
                model = json.load(f)
            del model["attention"]["kv_heads"]
            with open(path, "w") as f:
                json.dump(model, f)
            with self.assertRaisesRegex(ma.InputError, "^" + path + ": /attention/kv_heads: missing required key$"):
                ma.shapes_from_models([path])
            model["attention"]["kind"] = "linear"
            with open(path, "w") as f:
                json.dump(model, f)
            with self.assertRaisesRegex(ma.InputError, ": /attention/kind: expected one of mha, gqa, mla"):
                ma.shapes_from_models([path])
            with self.assertRaises(SystemExit) as exit_:
                ma.main(["measure_attention.py", "--out", os.path.join(tmp, "x.json"), "--models", path])
            self.assertIn(path + ": /attention/kind", str(exit_.exception.code))
        with self.assertRaisesRegex(ma.InputError, "do not split over --tp 3"):
            ma.shapes_from_models([model_path("small-moe")], tp=3)


class ModelCounts(unittest.TestCase):
    # By hand from sim/model/model_layer.cpp for DeepSeek-V3 (128 heads, 192/128, seq 4096), per token:
    # forward 2 * 128 * 2048.5 keys * (192 + 128) FLOPs; q, k, v in, o out, bf16.
    def test_forward_matches_the_simulator_op(self):
        shape = ma.attention_shape(json.load(open(model_path("deepseek-v3"))))
        m = ma.model_counts("attention_fwd", shape, 8192)
        self.assertEqual(m["flops"], 167813120.0 * 8192)
        self.assertEqual(m["read_bytes"], 128 * (192 + 192 + 128) * 2 * 8192)
        self.assertEqual(m["write_bytes"], 128 * 128 * 2 * 8192)

    def test_backward_is_two_and_a_half_forwards_reading_o_and_do(self):
        shape = ma.attention_shape(json.load(open(model_path("deepseek-v3"))))
        m = ma.model_counts("attention_bwd", shape, 4096)
        self.assertEqual(m["flops"], 2.5 * 167813120.0 * 4096)
        self.assertEqual(m["read_bytes"], (128 * 512 + 2 * 128 * 128) * 2 * 4096)
        self.assertEqual(m["write_bytes"], 128 * 512 * 2 * 4096)


class Timing(unittest.TestCase):
    M = "void at::cuda::(anonymous namespace)::spin_kernel(long)"

    def test_activity_splits_at_markers_and_sums_kernels_only(self):
        activity = [(self.M, 0.0, 1.0), ("flash_fwd", 2.0, 10.0), ("Memset (Device)", 13.0, 3.0),
                    ("flash_fwd_combine", 13.5, 2.0), (self.M, 20.0, 1.0), ("flash_fwd", 22.0, 12.0)]
        def us(seconds):
            return [round(s * 1e6, 9) for s in seconds]
        self.assertEqual(us(ma.per_call_seconds(list(reversed(activity)), 2, ma.is_kernel)), [12.0, 12.0])
        self.assertEqual(us(ma.per_call_seconds(activity, 2, lambda n: not ma.is_kernel(n))), [3.0, 0.0])

    def test_wrong_marker_count_or_stray_activity_fail(self):
        with self.assertRaisesRegex(RuntimeError, "found 1 marker kernels for 2 timed calls"):
            ma.per_call_seconds([(self.M, 0.0, 1.0), ("k", 2.0, 1.0)], 2, ma.is_kernel)
        with self.assertRaisesRegex(RuntimeError, "before the first marker: k"):
            ma.per_call_seconds([("k", 0.0, 1.0), (self.M, 2.0, 1.0)], 1, ma.is_kernel)

    def test_stats_and_input_sets(self):
        self.assertEqual(ma.time_stats([3.0, 1.0, 2.0], 5, 4), {"median": 2.0, "min": 1.0, "max": 3.0, "runs": 3,
                                                                 "warmup": 5, "input_sets": 4})
        with self.assertRaisesRegex(RuntimeError, "ran no GPU kernel"):
            ma.time_stats([1.0, 0.0], 5, 4)
        self.assertEqual(ma.input_sets_for(10 << 20, 50 << 20), 16)
        self.assertEqual(ma.input_sets_for(1 << 30, 50 << 20), 2)
        self.assertEqual(ma.input_sets_for(40 << 20, 50 << 20), 5)


# The models whose shapes the fake profile holds: a fixed list, so that shipping a new model (the
# accuracy suite's published runs add several) does not change the counts asserted below.
FAKE_PROFILE_MODELS = ("deepseek-v3", "dense-gpt-13b", "paper-27b", "paper-3b", "paper-9b", "small-moe")


def fake_profile(gpu="NVIDIA H100 80GB HBM3", sm_count=132):
    """A profile of six shipped models' shapes with made-up times (model FLOPs at 400 TFLOP/s)."""
    entries = []
    for item in ma.shapes_from_models(sorted(model_path(n) for n in FAKE_PROFILE_MODELS)):
        for n in ma.SEQUENCES:
            tokens = n * item["shape"]["seq"]
            for kernel in ("attention_fwd", "attention_bwd"):
                t = ma.model_counts(kernel, item["shape"], tokens)["flops"] / 4e14
                entries.append(ma.make_entry(kernel, item["shape"], tokens, ma.time_stats([t, t * 1.01, t * 0.99], 1, 2),
                                             "torch SDPA cudnn attention"))
    provenance = {"gpu": gpu, "date": ma.utc_now(), "command": "unit test (fake timings)", "sm_count": sm_count,
                  "sm_clock_mhz": 1980.0, "memory_clock_mhz": 2619.0, "memory_bytes": 85e9, "driver": "test",
                  "cuda_runtime": "13.0", "cupti": "test", "cudnn": "91400", "notes": "fake timings, unit test only"}
    ceilings = {"copy_bandwidth_Bps": ma.sourced(3.0e12, "unit test"),
                "peak_flops": {"bf16": ma.sourced(8.0e14, "unit test")}}
    return ma.profile_document(provenance, ceilings, entries)


@unittest.skipUnless(MHCSIM, "set MHCSIM to the mhcsim binary (the ctest does)")
class WrittenProfileLoads(unittest.TestCase):
    def run_mhcsim(self, *args):
        return subprocess.run([MHCSIM, *args], capture_output=True, text=True)

    def test_profile_info_reads_it(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "attention.json")
            ma.write_json(path, fake_profile())
            r = self.run_mhcsim("profile-info", path, "--entries")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("attention_fwd               18   shapes: seq{2048,4096} heads{8,16,24,32,40,128}", r.stdout)
            self.assertIn("attention_bwd{tokens=16384 seq=4096 heads=128 d_qk=192 d_v=128 causal}", r.stdout)

    def test_it_merges_with_the_committed_h100_profile(self):
        with tempfile.TemporaryDirectory() as tmp:
            path, merged = os.path.join(tmp, "attention.json"), os.path.join(tmp, "merged.json")
            ma.write_json(path, fake_profile())
            quick = os.path.join(REPO, "profiles", "measured", "h100-sxm-quick.json")
            r = self.run_mhcsim("profile-merge", "--out", merged, quick, path)
            self.assertEqual(r.returncode, 0, r.stderr)
            r = self.run_mhcsim("profile-info", merged)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("1: " + path + ", 36 entries", r.stdout)
            ma.write_json(path, fake_profile(gpu="NVIDIA H200"))
            r = self.run_mhcsim("profile-merge", "--out", merged, quick, path)
            self.assertEqual(r.returncode, 2)
            self.assertIn(path + ": /provenance/gpu", r.stderr)


if __name__ == "__main__":
    unittest.main()
