#!/usr/bin/env python3
"""What a user gets from a straightforward PyTorch mHC, timed on the same GPU as our kernels.

Two peers per shape, each eager and under torch.compile (default mode):
  pre  = RMS norm + projection x phi + gates (sigmoid, 2 sigmoid) + Sinkhorn (20 iterations, columns
         then rows) + H_pre x                      (reads x, writes the C-wide layer input u)
  post = H_res x + H_post^T f                      (reads x and f, writes the n-stream output y)
following the mHC paper's equations (arXiv 2512.24880, section 4; x bf16, phi and every H fp32).
Times are CUDA-event medians over --runs calls after --warmup, inputs rotated over --sets copies so
that the 50-60 MB L2 holds none of them. Each row is set against its HBM floor (bytes that must move /
the device copy bandwidth this script measures) and, when --ours gives bench_kernels' output from
the same machine, against our fused kernels (pre path, post_res_fwd).

Runs where PyTorch and a CUDA device exist (the GPU machine); the pure parts (floors, parsing) are
tested on any machine by test_torch_peers.py.
"""
import argparse
import json
import re
import statistics
import sys

# The shapes of the reference table the project started from (n, C); T tokens each.
DEFAULT_SHAPES = [(4, 2560), (4, 7168), (2, 4096), (8, 4096)]
BF16, FP32 = 2, 4


def pre_floor_bytes(n, C, T):
    """Bytes the pre path must move: read x (n C bf16), write u (C bf16); coefficients are negligible."""
    return T * (n * C + C) * BF16


def post_floor_bytes(n, C, T):
    """Bytes F_post,res must move: read x (n C) and f (C), write y (n C), all bf16: the paper's (n+1)C
    read and nC written per token (section 4.3.1)."""
    return T * ((n + 1) * C + n * C) * BF16


def parse_bench(text):
    """Our times in microseconds from bench_kernels' output: {(n, C): {"pre": us, "post": us}}.

    'pre' is the line "pre path n=N C=C (back-to-back times): X us", 'post' the post_res_fwd row's
    time_us column."""
    ours = {}
    for line in text.splitlines():
        m = re.match(r"\s*pre path n=(\d+) C=(\d+) \(back-to-back times\): ([0-9.]+) us", line)
        if m:
            ours.setdefault((int(m[1]), int(m[2])), {})["pre"] = float(m[3])
            continue
        cols = line.split()
        if len(cols) >= 4 and cols[0] == "mhc_fused.post_res_fwd":
            ours.setdefault((int(cols[1]), int(cols[2])), {})["post"] = float(cols[3])
    return ours


def rows_with_ratios(rows, ours):
    """Adds our time and each peer's slowdown against it where bench_kernels measured the shape."""
    out = []
    for r in rows:
        r = dict(r)
        mine = ours.get((r["n"], r["C"]), {}).get(r["path"])
        if mine is not None:
            r["ours_ms"] = mine / 1000.0
            r["eager_over_ours"] = r["eager_ms"] / r["ours_ms"]
            if r.get("compiled_ms") is not None:
                r["compiled_over_ours"] = r["compiled_ms"] / r["ours_ms"]
        out.append(r)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="JSON file to write")
    ap.add_argument("--T", type=int, default=16384)
    ap.add_argument("--shapes", default=",".join(f"{n}x{c}" for n, c in DEFAULT_SHAPES),
                    help="n x C pairs, e.g. 4x2560,8x4096")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--sets", type=int, default=3)
    ap.add_argument("--iters", type=int, default=20, help="Sinkhorn iterations")
    ap.add_argument("--ours", help="bench_kernels output from the same GPU, for the ratios")
    ap.add_argument("--no-compile", action="store_true", help="eager only (when the compiler is missing)")
    args = ap.parse_args()
    shapes = []
    for item in args.shapes.split(","):
        m = re.fullmatch(r"(\d+)x(\d+)", item.strip())
        if not m:
            sys.exit(f"torch_peers.py: --shapes: expected NxC pairs, got '{item}'")
        shapes.append((int(m[1]), int(m[2])))

    import torch  # only on the GPU machine

    if not torch.cuda.is_available():
        sys.exit("torch_peers.py: no CUDA device")
    torch.backends.cuda.matmul.allow_tf32 = True  # phi is tf32 in the paper
    dev = torch.device("cuda")

    def pre(x, phi, a, b, iters):
        T, n, C = x.shape
        xf = x.float().reshape(T, n * C)
        r = torch.sqrt(xf.pow(2).mean(dim=1, keepdim=True) + 1e-6)
        h = (xf @ phi) / r
        hpre = torch.sigmoid(a[0] * h[:, :n] + b[:n])
        logits = (a[2] * h[:, 2 * n:] + b[2 * n:]).reshape(T, n, n)
        m = torch.exp(logits)
        for _ in range(iters):
            m = m / m.sum(dim=1, keepdim=True)  # columns
            m = m / m.sum(dim=2, keepdim=True)  # rows
        u = torch.einsum("tn,tnc->tc", hpre, x.float()).to(torch.bfloat16)
        return u, m

    def post(x, f, hres, hpost):
        y = torch.einsum("tij,tjc->tic", hres, x.float()) + hpost[:, :, None] * f.float()[:, None, :]
        return y.to(torch.bfloat16)

    def time_ms(fn, inputs):
        for i in range(args.warmup):
            fn(*inputs[i % len(inputs)])
        times = []
        for i in range(args.runs):
            s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            s.record()
            fn(*inputs[i % len(inputs)])
            e.record()
            e.synchronize()
            times.append(s.elapsed_time(e))
        return statistics.median(times)

    # Copy bandwidth of this device (read + write), for the floors.
    buf = torch.empty(1 << 28, dtype=torch.float32, device=dev)
    dst = torch.empty_like(buf)
    copy_ms = time_ms(lambda a, b: b.copy_(a), [(buf, dst)])
    copy_Bps = 2 * buf.numel() * 4 / (copy_ms / 1000)
    del buf, dst

    rows = []
    T = args.T
    for n, C in shapes:
        m = n * n + 2 * n
        g = torch.Generator(device=dev).manual_seed(n * 100003 + C)
        pre_in, post_in = [], []
        for _ in range(args.sets):
            x = torch.rand(T, n, C, device=dev, generator=g).mul_(2).sub_(1).to(torch.bfloat16)
            phi = torch.rand(n * C, m, device=dev, generator=g).sub_(0.5).mul_(0.02)
            a = torch.full((3,), 0.01, device=dev)
            b = torch.zeros(m, device=dev)
            f = torch.rand(T, C, device=dev, generator=g).to(torch.bfloat16)
            hres = torch.rand(T, n, n, device=dev, generator=g)
            hpost = torch.rand(T, n, device=dev, generator=g).mul_(2)
            pre_in.append((x, phi, a, b, args.iters))
            post_in.append((x, f, hres, hpost))
        for path, fn, inputs, floor in (("pre", pre, pre_in, pre_floor_bytes(n, C, T)),
                                        ("post", post, post_in, post_floor_bytes(n, C, T))):
            eager = time_ms(fn, inputs)
            compiled = None
            if not args.no_compile:
                cfn = torch.compile(fn)
                compiled = time_ms(cfn, inputs)
            rows.append({"path": path, "n": n, "C": C, "T": T, "floor_ms": floor / copy_Bps * 1000,
                         "eager_ms": eager, "compiled_ms": compiled})
            print(f"{path:4s} n={n} C={C:5d}: floor {rows[-1]['floor_ms']:.3f} ms, eager {eager:.3f} ms"
                  + (f", compiled {compiled:.3f} ms" if compiled is not None else ""), flush=True)
        del pre_in, post_in
        torch.cuda.empty_cache()

    if args.ours:
        with open(args.ours) as fh:
            rows = rows_with_ratios(rows, parse_bench(fh.read()))
        for r in rows:
            if "ours_ms" in r:
                print(f"{r['path']:4s} n={r['n']} C={r['C']:5d}: ours {r['ours_ms']:.3f} ms, eager / ours "
                      f"{r['eager_over_ours']:.1f}x"
                      + (f", compiled / ours {r['compiled_over_ours']:.1f}x" if "compiled_over_ours" in r else ""))
    with open(args.out, "w") as fh:
        json.dump({"device": torch.cuda.get_device_name(), "torch": torch.__version__,
                   "copy_GBps": copy_Bps / 1e9, "rows": rows}, fh, indent=1)


if __name__ == "__main__":
    main()
