#!/usr/bin/env python3
"""Writes the published profile parts (profiles/SCHEMA.md, kind "published") from kernel figures that
papers and repositories published, each entry with its source.

    python3 profiles/published/make_published_parts.py            # rewrites the three files here

- h100-flashattention3.json, h100-cudnn-attention.json: FlashAttention-3 and cuDNN attention on an
  H100 80GB SXM5, BF16 (Shah et al. 2024, "FlashAttention-3", arXiv 2407.08608, Figures 5 and 6; the
  forward figure is also assets/flash3_fp16_fwd.png of Dao-AILab/flash-attention at commit
  7ef24848cf2f855077cef88fe122775b727dcd74). The paper's setting (section 4.1): 16k tokens in
  batch x seqlen, hidden 2048, so 2048 / head_dim heads; forward FLOPs 4 seqlen^2 head_dim heads
  batch, halved with a causal mask; backward 2.5 x forward. The values are the labels printed above
  the bars. The paper shows backward without a causal mask only; the causal backward entries are
  derived (each says so): the non-causal backward rate times the causal / non-causal forward ratio
  at the same sequence length and head dim.
- h800-deepgemm-fp8.json: DeepGEMM's block-scaled FP8 GEMMs (1x128 activation, 128x128 weight
  scaling) on an H800 SXM5 (NVCC 12.8), deepseek-ai/DeepGEMM README.md at commit
  327ec92f6977e7fee022cb76a8f273b75483c3d8 (2025-04-09, the last README with the tables): the
  dense table and the contiguous grouped (MoE) table. The masked grouped table (decoding) is left
  out. Each row's published memory bandwidth is checked against the bytes counted here (A and B in
  FP8, D in BF16, read/written once) to catch a transcription error.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
SEQS = [512, 1024, 2048, 4096, 8192, 16384]
TOKENS = 16384  # FA3 section 4.1: batch x seqlen = 16k
HIDDEN = 2048   # FA3 section 4.1: heads = 2048 / head_dim

FA3_PAPER = "FlashAttention-3 (Shah et al. 2024, arXiv 2407.08608)"
# (head_dim, causal, pass) -> TFLOP/s at SEQS; None where the figure's label cannot be read.
FA3 = {
    (64, False, "fwd"): [333, 392, 460, 476, 496, 497],      # Figure 5(a)
    (64, True, "fwd"): [197, 265, 371, 420, 460, 473],       # Figure 5(b)
    (128, False, "fwd"): [467, 565, 625, 638, 646, 648],     # Figure 5(c)
    (128, True, "fwd"): [292, 423, 521, 579, 602, 616],      # Figure 5(d)
    (256, False, "fwd"): [482, None, 707, 736, 746, 756],    # Figure 5(e): the 1k label is under the legend
    (256, True, "fwd"): [286, 427, 537, 612, 628, 642],      # Figure 5(f)
    (64, False, "bwd"): [272, 363, 422, 453, 472, 474],      # Figure 6(a)
    (128, False, "bwd"): [316, 424, 501, 542, 559, 561],     # Figure 6(b)
}
CUDNN = {
    (64, False, "fwd"): [None, 373, 395, 408, 412, 413],     # Figure 5(a): the 512 label overlaps its neighbours
    (64, True, "fwd"): [225, 288, 334, 363, 379, 388],       # Figure 5(b)
    (128, False, "fwd"): [497, 574, 617, 609, 600, 595],     # Figure 5(c)
    (128, True, "fwd"): [315, 410, 484, 518, 529, 539],      # Figure 5(d)
    (256, False, "fwd"): [470, 546, 580, 581, 580, 581],     # Figure 5(e)
    (256, True, "fwd"): [308, 391, 450, 483, 497, 509],      # Figure 5(f)
    (64, False, "bwd"): [266, 348, 395, 417, 432, 433],      # Figure 6(a)
    (128, False, "bwd"): [305, 408, 465, 499, 518, 516],     # Figure 6(b)
}
FIGURE = {
    (64, False, "fwd"): "Figure 5(a), forward without causal mask, head dim 64",
    (64, True, "fwd"): "Figure 5(b), forward with causal mask, head dim 64",
    (128, False, "fwd"): "Figure 5(c), forward without causal mask, head dim 128",
    (128, True, "fwd"): "Figure 5(d), forward with causal mask, head dim 128",
    (256, False, "fwd"): "Figure 5(e), forward without causal mask, head dim 256",
    (256, True, "fwd"): "Figure 5(f), forward with causal mask, head dim 256",
    (64, False, "bwd"): "Figure 6(a), backward, head dim 64",
    (128, False, "bwd"): "Figure 6(b), backward, head dim 128",
}


def seq_label(seq):
    return "512" if seq == 512 else f"{seq // 1024}k"


def attention_entry(impl, hd, seq, causal, pas, tflops, source):
    heads = HIDDEN // hd
    batch = TOKENS // seq
    fwd = 4.0 * seq * seq * hd * heads * batch / (2.0 if causal else 1.0)
    flops = fwd if pas == "fwd" else 2.5 * fwd
    values = TOKENS * heads * hd  # one of q, k, v, o (and their gradients), bf16
    read, write = (3 * values * 2, values * 2) if pas == "fwd" else (5 * values * 2, 3 * values * 2)
    return {
        "kernel": "attention_" + pas,
        "shape": {"tokens": TOKENS, "seq": seq, "heads": heads, "head_dim_qk": hd, "head_dim_v": hd,
                  "causal": causal},
        "model": {"read_bytes": read, "write_bytes": write, "flops": flops},
        "implementation": impl + ", BF16, H100 80GB SXM5",
        "published": {"flops_per_s": tflops * 1e12, "source": source},
    }


def attention_part(table, name, impl):
    entries = []
    for (hd, causal, pas), rates in sorted(table.items()):
        for seq, r in zip(SEQS, rates):
            if r is None:
                continue
            src = f"{FA3_PAPER} {FIGURE[(hd, causal, pas)]} ({name} bar), seq {seq_label(seq)}: {r} TFLOP/s"
            entries.append(attention_entry(impl, hd, seq, causal, pas, r, src))
    # Causal backward, derived: the paper plots backward without a causal mask only.
    for (hd, causal, pas), bwd in sorted(table.items()):
        if pas != "bwd" or causal:
            continue
        full, masked = table.get((hd, False, "fwd")), table.get((hd, True, "fwd"))
        for i, seq in enumerate(SEQS):
            if bwd[i] is None or full is None or masked is None or full[i] is None or masked[i] is None:
                continue
            r = bwd[i] * masked[i] / full[i]
            src = (f"derived, not published: {FA3_PAPER} {FIGURE[(hd, False, 'bwd')]} ({name}) {bwd[i]} TFLOP/s x the "
                   f"causal/non-causal forward ratio {masked[i]}/{full[i]} of Figures {FIGURE[(hd, True, 'fwd')][7:11]}/"
                   f"{FIGURE[(hd, False, 'fwd')][7:11]} at seq {seq_label(seq)} (the paper shows no causal backward)")
            entries.append(attention_entry(impl, hd, seq, True, "bwd", round(r, 3), src))
    return entries


DEEPGEMM_COMMIT = "327ec92f6977e7fee022cb76a8f273b75483c3d8"
DEEPGEMM = f"deepseek-ai/DeepGEMM README.md at commit {DEEPGEMM_COMMIT} (H800 SXM5, NVCC 12.8)"
# Normal GEMMs for dense models: M, N, K, TFLOPS, GB/s.
DENSE = [
    (64, 2112, 7168, 206, 1688), (64, 24576, 1536, 289, 2455), (64, 32768, 512, 219, 2143),
    (64, 7168, 16384, 336, 2668), (64, 4096, 7168, 287, 2320), (64, 7168, 2048, 295, 2470),
    (128, 2112, 7168, 352, 1509), (128, 24576, 1536, 535, 2448), (128, 32768, 512, 358, 2103),
    (128, 7168, 16384, 645, 2604), (128, 4096, 7168, 533, 2221), (128, 7168, 2048, 510, 2277),
    (4096, 2112, 7168, 1127, 562), (4096, 24576, 1536, 1212, 962), (4096, 32768, 512, 775, 1620),
    (4096, 7168, 16384, 1520, 384), (4096, 4096, 7168, 1410, 541), (4096, 7168, 2048, 1168, 794),
]
# Grouped GEMMs for MoE models, contiguous layout: groups, M per group, N, K, TFLOPS, GB/s.
GROUPED = [
    (4, 8192, 4096, 7168, 1346, 434), (4, 8192, 7168, 2048, 1214, 752),
    (8, 4096, 4096, 7168, 1346, 516), (8, 4096, 7168, 2048, 1214, 826),
]


def gemm_entry(groups, m, n, k, tflops, gbps, table):
    flops = 2.0 * groups * m * n * k
    read, write = groups * (m * k + n * k), groups * m * n * 2
    seconds = flops / (tflops * 1e12)
    achieved = (read + write) / seconds / 1e9
    assert abs(achieved - gbps) / gbps < 0.02, (groups, m, n, k, achieved, gbps)
    row = f"M {m} N {n} K {k}" if groups == 1 else f"{groups} groups x M {m} N {n} K {k}"
    return {
        "kernel": "gemm_fp8_block",
        "shape": {"m": m, "n": n, "k": k, "groups": groups, "dtype": "fp8"},
        "model": {"read_bytes": read, "write_bytes": write, "flops": flops},
        "implementation": "DeepGEMM FP8, 1x128 / 128x128 block scaling" + (", grouped contiguous" if groups > 1 else ""),
        "published": {"flops_per_s": tflops * 1e12,
                      "source": f"{DEEPGEMM}, table '{table}', {row}: {tflops} TFLOPS ({gbps} GB/s)"},
    }


def part(gpu, date, compiled_from, notes, entries):
    return {
        "schema": "mhcsim-profile", "schema_version": 3, "kind": "published",
        "provenance": {"gpu": gpu, "date": date, "compiled_from": compiled_from, "notes": notes},
        "kernels": entries,
    }


def main():
    script = "profiles/published/make_published_parts.py"
    fa_notes = ("Rates against sequence length (512 to 16k), head dim 64/128/256 and mask, at 16k tokens and "
                "2048 / head_dim heads; the simulator interpolates the FLOP rate in log2(seq) and in head dim "
                "(sim/cost/attention_rates.h). Causal backward entries are derived (their source says how).")
    files = {
        "h100-flashattention3.json": part(
            "NVIDIA H100 80GB SXM5", "2024-07-11", f"{script}: {FA3_PAPER}, Figures 5 and 6 (FlashAttention-3 bars)",
            fa_notes, attention_part(FA3, "FlashAttention-3", "FlashAttention-3")),
        "h100-cudnn-attention.json": part(
            "NVIDIA H100 80GB SXM5", "2024-07-11", f"{script}: {FA3_PAPER}, Figures 5 and 6 (cuDNN bars)",
            fa_notes, attention_part(CUDNN, "cuDNN", "cuDNN fused attention (as benchmarked in the FA3 paper)")),
        "h800-deepgemm-fp8.json": part(
            "NVIDIA H800 SXM5", "2025-04-09", f"{script}: {DEEPGEMM}",
            "Block-scaled FP8 GEMMs as DeepSeek-V3 trains them (an H800 has the H100 SXM's SMs and HBM). "
            "Forward (NT) shapes of DeepSeek-V3 inference; training's gradient GEMMs are priced from the "
            "nearest entry's efficiency and say so.",
            [gemm_entry(1, m, n, k, t, b, "Normal GEMMs for dense models") for m, n, k, t, b in DENSE] +
            [gemm_entry(g, m, n, k, t, b, "Grouped GEMMs for MoE models (contiguous layout)")
             for g, m, n, k, t, b in GROUPED]),
    }
    for name, doc in files.items():
        with open(os.path.join(HERE, name), "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
        print(f"wrote {name}: {len(doc['kernels'])} entries")


if __name__ == "__main__":
    main()
