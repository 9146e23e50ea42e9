"""The pure parts of torch_peers.py: the HBM floors and the parsing of bench_kernels' output."""
import unittest

import torch_peers as tp

BENCH = """\
kernel                        n     C    time_us  stream_us   MB_moved      GB/s of_copy
mhc_fused.norm_proj_fwd       4  2560     100.00      90.00      84.18      1897   63.3%
mhc_fused.post_res_fwd        4  2560     280.50     270.00     755.00      2640   88.0%
mhc_unfused.merge_fwd         4  2560      50.42      46.79     125.83      2496   83.2%
  pre path n=4 C=2560 (back-to-back times): 320.25 us, mix + Sinkhorn = 4.0% of it
"""


class Floors(unittest.TestCase):
    def test_floors_match_the_paper_bytes(self):
        # n = 4, C = 2560, T = 16384: pre reads 4C and writes C; post reads 5C and writes 4C (bf16).
        self.assertEqual(tp.pre_floor_bytes(4, 2560, 16384), 16384 * 5 * 2560 * 2)
        self.assertEqual(tp.post_floor_bytes(4, 2560, 16384), 16384 * 9 * 2560 * 2)
        # At 3.0 TB/s these are the 0.140 ms and 0.252 ms floors of the peers' reference table.
        self.assertAlmostEqual(tp.pre_floor_bytes(4, 2560, 16384) / 3.0e12 * 1e3, 0.140, places=3)
        self.assertAlmostEqual(tp.post_floor_bytes(4, 2560, 16384) / 3.0e12 * 1e3, 0.252, places=3)


class Bench(unittest.TestCase):
    def test_parses_pre_path_and_post_res(self):
        ours = tp.parse_bench(BENCH)
        self.assertEqual(ours, {(4, 2560): {"pre": 320.25, "post": 280.5}})

    def test_ratios_only_where_measured(self):
        rows = [{"path": "post", "n": 4, "C": 2560, "eager_ms": 4.59, "compiled_ms": 3.14},
                {"path": "pre", "n": 8, "C": 4096, "eager_ms": 9.58, "compiled_ms": None}]
        out = tp.rows_with_ratios(rows, tp.parse_bench(BENCH))
        self.assertAlmostEqual(out[0]["eager_over_ours"], 4.59 / 0.2805)
        self.assertAlmostEqual(out[0]["compiled_over_ours"], 3.14 / 0.2805)
        self.assertNotIn("ours_ms", out[1])


if __name__ == "__main__":
    unittest.main()
