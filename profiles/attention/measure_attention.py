#!/usr/bin/env python3
"""Measures causal attention, forward and backward, through PyTorch SDPA on the local GPU, and writes a
measured mhcsim profile (profiles/SCHEMA.md) to merge with mhc-profile's (`mhcsim profile-merge`).

    python3 profiles/attention/measure_attention.py --out FILE [--models scenarios/models/*.json] [--runs N]

The shapes are the attention ops sim/model/model_layer.cpp builds for the given model files (query heads per
GPU, head dims, seq; MLA: head_dim_qk = head_dim + rope_dim), at 1, 2 and 4 whole sequences. Times are
the sums of the GPU kernel durations of one call, from torch.profiler's CUPTI activity records.

Everything above the "GPU side" line is plain Python (no torch), so the unit tests next to this file
check it on any machine.
"""

import argparse
import datetime
import glob
import json
import math
import os
import shlex
import socket
import statistics
import subprocess
import sys

SEQUENCES = (1, 2, 4)  # tokens = these many whole sequences: the cost model's line along tokens
BF16_BYTES = 2
MARKER = "spin_kernel"  # torch.cuda._sleep's kernel, launched before each timed call to split them
MAX_INPUT_SETS = 16


# --- shapes and the simulator's model of them -----------------------------------------------------

class InputError(ValueError):
    """Bad input: one line naming the file, the JSON path and what was expected."""


def field(doc, pointer, path, minimum=None, choices=None):
    """The value at `pointer` ("/attention/heads") of a model file: an integer >= minimum, or one of
    `choices`."""
    value = doc
    for key in pointer.strip("/").split("/"):
        if not isinstance(value, dict) or key not in value:
            raise InputError(f"{path}: {pointer}: missing required key")
        value = value[key]
    if choices is not None and value not in choices:
        raise InputError(f"{path}: {pointer}: expected one of {', '.join(choices)}, got {json.dumps(value)}")
    if minimum is not None and (not isinstance(value, int) or isinstance(value, bool) or value < minimum):
        raise InputError(f"{path}: {pointer}: expected an integer >= {minimum}, got {json.dumps(value)}")
    return value


def attention_shape(model, tp=1, path="model"):
    """The attention op of one model file as sim/model/model_layer.cpp builds it, with the K/V heads a GQA
    kernel really reads (the profile shape carries query heads only, as the simulator does)."""
    kind = field(model, "/attention/kind", path, choices=("mha", "gqa", "mla"))
    heads = field(model, "/attention/heads", path, minimum=1)
    if heads % tp:
        raise InputError(f"{path}: /attention/heads: {heads} heads do not split over --tp {tp}")
    head_dim = field(model, "/attention/head_dim", path, minimum=1)
    rope_dim = field(model, "/attention/rope_dim", path, minimum=0) if kind == "mla" else 0
    kv_heads = max(field(model, "/attention/kv_heads", path, minimum=1) // tp, 1) if kind == "gqa" else heads // tp
    return {"seq": field(model, "/seq_len", path, minimum=1), "heads": heads // tp, "head_dim_qk": head_dim + rope_dim,
            "head_dim_v": head_dim, "causal": True, "kv_heads": kv_heads}


def profile_shape(shape, tokens):
    """The entry's `shape` object (SCHEMA.md, attention family)."""
    return {"tokens": tokens, "seq": shape["seq"], "heads": shape["heads"], "head_dim_qk": shape["head_dim_qk"],
            "head_dim_v": shape["head_dim_v"], "causal": shape["causal"]}


def shapes_from_models(paths, tp=1):
    """Unique attention shapes of the model files (as the profile keys them: K/V heads are measured
    as the first model needing the shape has them), each with the files that need it."""
    shapes = []
    for path in paths:
        try:
            with open(path) as f:
                model = json.load(f)
        except (OSError, ValueError) as err:
            raise InputError(f"{path}: cannot read a model file: {err}")
        shape = attention_shape(model, tp, path)
        same = [s for s in shapes if profile_shape(s["shape"], 0) == profile_shape(shape, 0)]
        if same:
            same[0]["models"].append(os.path.basename(path))
        else:
            shapes.append({"shape": shape, "models": [os.path.basename(path)]})
    return shapes


def model_counts(kernel, shape, tokens):
    """`model` of an entry: the simulator's bytes and FLOPs for the op (sim/model/model_layer.cpp), so a
    measured efficiency carries to other shapes. Causal: a token attends to (seq + 1) / 2 keys."""
    h, dqk, dv = shape["heads"], shape["head_dim_qk"], shape["head_dim_v"]
    kv = shape.get("kv_heads", h)
    forward_flops = 2.0 * h * (shape["seq"] + 1.0) / 2.0 * (dqk + dv)
    qkv, o = h * dqk + kv * (dqk + dv), h * dv  # values per token: K and V once per K/V head
    if kernel == "attention_fwd":
        read, write, flops = qkv, o, forward_flops
    else:  # backward: reads q, k, v, o, do; writes dq, dk, dv; five matmuls against two
        read, write, flops = qkv + 2 * o, qkv, 2.5 * forward_flops
    return {"read_bytes": read * BF16_BYTES * tokens, "write_bytes": write * BF16_BYTES * tokens,
            "flops": flops * tokens}


# --- timing records and the profile document -----------------------------------------------------

def per_call_seconds(activity, calls, counts):
    """Splits GPU activity (name, start_us, duration_us) at the marker kernels launched before each
    call and sums, per call, the durations of the activity `counts` accepts."""
    sums = []
    for name, _, duration_us in sorted(activity, key=lambda a: a[1]):
        if MARKER in name:
            sums.append(0.0)
        elif not sums:
            raise RuntimeError(f"GPU activity before the first marker: {name}")
        elif counts(name):
            sums[-1] += duration_us * 1e-6
    if len(sums) != calls:
        raise RuntimeError(f"found {len(sums)} marker kernels for {calls} timed calls")
    return sums


def time_stats(seconds, warmup, input_sets):
    """`time_s` of an entry: median, min, max over the timed calls."""
    if not seconds or min(seconds) <= 0:
        raise RuntimeError("a timed call ran no GPU kernel")
    return {"median": statistics.median(seconds), "min": min(seconds), "max": max(seconds), "runs": len(seconds),
            "warmup": warmup, "input_sets": input_sets}


def make_entry(kernel, shape, tokens, time_s, implementation):
    return {"kernel": kernel, "shape": profile_shape(shape, tokens), "time_s": time_s,
            "model": model_counts(kernel, shape, tokens), "implementation": implementation}


def sourced(value, source):
    return {"value": value, "source": source}


def profile_document(provenance, ceilings, entries):
    """A measured profile, schema version 1 (a single run; profile-merge makes version 2)."""
    return {"schema": "mhcsim-profile", "schema_version": 1, "kind": "measured", "provenance": provenance,
            "ceilings": ceilings, "kernels": entries}


def write_json(path, document):
    with open(path, "w") as f:
        json.dump(document, f, indent=2)
        f.write("\n")


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def input_sets_for(bytes_per_set, l2_bytes):
    """Enough input sets that one rotation spans four L2 caches, so the cache does not flatter."""
    return max(2, min(MAX_INPUT_SETS, math.ceil(4 * l2_bytes / bytes_per_set)))


# --- GPU side (torch) -----------------------------------------------------------------------------

def gpu_activity(prof):
    """(name, start_us, duration_us) of every GPU activity torch.profiler recorded (CUPTI records)."""
    from torch.autograd import DeviceType
    return [(e.name, e.time_range.start, e.time_range.elapsed_us()) for e in prof.events()
            if e.device_type == DeviceType.CUDA and not getattr(e, "is_user_annotation", False)]


def is_kernel(name):
    return not name.startswith(("Memcpy", "Memset"))


def time_calls(torch, call, runs, warmup, counts=is_kernel):
    """Seconds of GPU activity per call of `call(i)`, over `runs` calls after `warmup` untimed ones."""
    for i in range(warmup):
        call(i)
    torch.cuda.synchronize()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU,
                                            torch.profiler.ProfilerActivity.CUDA]) as prof:
        for i in range(runs):
            torch.cuda._sleep(1)
            call(i)
        torch.cuda.synchronize()
    activity = gpu_activity(prof)
    return per_call_seconds(activity, runs, counts), activity


def measure_ceilings(torch, runs=20, warmup=3):
    """Copy bandwidth (1 GiB device-to-device Tensor.copy_) and bf16 peak (8192^3 torch.matmul)."""
    how = f"GPU activity durations from torch.profiler (CUPTI), median of {runs} after {warmup} warm-up"
    size = 1 << 30
    src = torch.empty(size, dtype=torch.uint8, device="cuda")
    dst = torch.empty_like(src)
    copy, activity = time_calls(torch, lambda i: dst.copy_(src), runs, warmup, counts=lambda name: True)
    copy_names = sorted({n for n, _, _ in activity if MARKER not in n})
    del src, dst
    n = 8192
    a = torch.randn(n, n, dtype=torch.bfloat16, device="cuda")
    b = torch.randn(n, n, dtype=torch.bfloat16, device="cuda")
    matmul, _ = time_calls(torch, lambda i: torch.matmul(a, b), runs, warmup)
    return {
        "copy_bandwidth_Bps": sourced(2 * size / statistics.median(copy),
                                      f"measured: torch Tensor.copy_ of 1 GiB device to device ({', '.join(copy_names)}), "
                                      f"{how}, counting bytes read + written"),
        "peak_flops": {"bf16": sourced(2.0 * n ** 3 / statistics.median(matmul),
                                       f"measured: torch.matmul {n}^3 bf16 (cuBLAS, torch {torch.__version__}), "
                                       f"kernel {how}")},
    }


def backends(torch):
    from torch.nn.attention import SDPBackend
    return [("cudnn attention", SDPBackend.CUDNN_ATTENTION), ("flash attention", SDPBackend.FLASH_ATTENTION),
            ("efficient attention", SDPBackend.EFFICIENT_ATTENTION)]


def make_inputs(torch, shape, tokens, native_gqa, sets):
    """`sets` input sets (q, k, v, do) in (batch, heads, seq, dim) layout, bf16, requiring grad."""
    b, s, h = tokens // shape["seq"], shape["seq"], shape["heads"]
    kv = shape["kv_heads"] if native_gqa else h
    def t(heads, dim, grad=True):
        return torch.randn(b, heads, s, dim, dtype=torch.bfloat16, device="cuda", requires_grad=grad)
    return [(t(h, shape["head_dim_qk"]), t(kv, shape["head_dim_qk"]), t(kv, shape["head_dim_v"]),
             t(h, shape["head_dim_v"], grad=False)) for _ in range(sets)]


def attention_call(torch, native_gqa):
    from torch.nn.functional import scaled_dot_product_attention as sdpa
    gqa = {"enable_gqa": True} if native_gqa else {}
    return lambda q, k, v: sdpa(q, k, v, is_causal=True, **gqa)


def first_working_backend(torch, shape, tokens):
    """The first backend (cuDNN, Flash, memory-efficient) that runs forward and backward for the shape,
    native GQA before K/V repeated to the query heads; or None and every backend's reason."""
    import warnings
    from torch.nn.attention import sdpa_kernel
    reasons = []
    gqa_modes = (True, False) if shape["kv_heads"] < shape["heads"] else (True,)
    for native_gqa in gqa_modes:
        for name, backend in backends(torch):
            q, k, v, do = make_inputs(torch, shape, tokens, native_gqa, 1)[0]
            caught = []
            try:
                with sdpa_kernel([backend]), warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    attention_call(torch, native_gqa)(q, k, v).backward(do)
                    torch.cuda.synchronize()
                return name, backend, native_gqa, reasons
            except torch.cuda.OutOfMemoryError:
                raise
            except RuntimeError as err:
                why = "; ".join(str(w.message).splitlines()[0] for w in caught) or str(err).splitlines()[0]
                reasons.append(f"{name}{'' if native_gqa else ' (K/V repeated)'}: {why}")
    return None, None, None, reasons


def uncounted_copies(activity, runs):
    """Median seconds per call of memset/memcpy activity, which the entry's time leaves out."""
    return statistics.median(per_call_seconds(activity, runs, lambda name: not is_kernel(name)))


def measure_shape(torch, shape, tokens, runs, warmup, l2_bytes):
    """attention_fwd and attention_bwd entries of one shape, the reasons of the backends that refused
    it before one ran, and remarks for the notes."""
    from torch.nn.attention import sdpa_kernel
    name, backend, native_gqa, reasons = first_working_backend(torch, shape, tokens)
    if backend is None:
        return [], reasons, []
    implementation = f"torch SDPA {name}"
    if shape["kv_heads"] < shape["heads"]:
        implementation += (f", native GQA ({shape['kv_heads']} K/V heads)" if native_gqa else
                           f", K/V repeated from {shape['kv_heads']} to {shape['heads']} heads (no GQA kernel)")
    one = make_inputs(torch, shape, tokens, native_gqa, 1)[0]
    sets = input_sets_for(sum(x.numel() * x.element_size() for x in one), l2_bytes)
    del one
    inputs = make_inputs(torch, shape, tokens, native_gqa, sets)
    attend = attention_call(torch, native_gqa)
    with sdpa_kernel([backend]):
        forward, forward_activity = time_calls(torch, lambda i: attend(*inputs[i % sets][:3]), runs, warmup)
        outputs = [attend(q, k, v) for q, k, v, _ in inputs]  # graphs kept: backward alone is timed
        backward, backward_activity = time_calls(torch, lambda i: torch.autograd.grad(
            outputs[i % sets], inputs[i % sets][:3], inputs[i % sets][3], retain_graph=True), runs, warmup)
    del outputs, inputs
    entries = [make_entry("attention_fwd", shape, tokens, time_stats(forward, warmup, sets), implementation),
               make_entry("attention_bwd", shape, tokens, time_stats(backward, warmup, sets), implementation)]
    remarks = [f"{e['kernel']} tokens={tokens} also ran {copies * 1e6:.1f} us of memset/memcpy per call, not counted"
               for e, copies in zip(entries, (uncounted_copies(forward_activity, runs),
                                              uncounted_copies(backward_activity, runs))) if copies > 0]
    return entries, reasons, remarks


def clocks_and_driver():
    """Current SM and memory clocks (MHz) and the driver version, from NVML (pynvml) or nvidia-smi."""
    try:
        import pynvml
        pynvml.nvmlInit()
        h = pynvml.nvmlDeviceGetHandleByIndex(0)
        driver = pynvml.nvmlSystemGetDriverVersion()
        return (pynvml.nvmlDeviceGetClockInfo(h, pynvml.NVML_CLOCK_SM),
                pynvml.nvmlDeviceGetClockInfo(h, pynvml.NVML_CLOCK_MEM),
                driver.decode() if isinstance(driver, bytes) else driver, "NVML (pynvml)")
    except Exception as nvml_error:  # no pynvml: ask nvidia-smi
        try:
            out = subprocess.run(["nvidia-smi", "-i", "0", "--query-gpu=clocks.sm,clocks.mem,driver_version",
                                  "--format=csv,noheader,nounits"], capture_output=True, text=True, check=True)
            sm, mem, driver = (x.strip() for x in out.stdout.strip().split(","))
            return float(sm), float(mem), driver, "nvidia-smi"
        except (OSError, ValueError, subprocess.CalledProcessError) as smi_error:
            raise RuntimeError(f"cannot read the clocks the profile must record: pynvml: {nvml_error}; "
                               f"nvidia-smi: {smi_error}")


def cupti_version():
    """cuptiGetVersion of the libcupti torch.profiler loaded, with its path; else say it is unknown."""
    import ctypes
    try:
        with open("/proc/self/maps") as f:
            paths = sorted({line.split()[-1] for line in f if "libcupti" in line})
        for path in paths:
            version = ctypes.c_uint32()
            if ctypes.CDLL(path).cuptiGetVersion(ctypes.byref(version)) == 0:
                return f"{version.value} (cuptiGetVersion of {path}, loaded by torch.profiler)"
    except (OSError, AttributeError) as err:
        return f"unknown: torch.profiler records CUPTI activity; asking libcupti its version failed: {err}"
    return "unknown: torch.profiler records CUPTI activity, but no libcupti was found loaded in this process"


def provenance(torch, command, date):
    """The run's provenance; read right after the ceilings ran, so the clocks are those under load and a
    machine whose clocks cannot be read fails before the long part."""
    props = torch.cuda.get_device_properties(0)
    sm_mhz, mem_mhz, driver, clock_source = clocks_and_driver()
    return {
        "gpu": props.name, "date": date, "command": command, "sm_count": props.multi_processor_count,
        "sm_clock_mhz": sm_mhz, "memory_clock_mhz": mem_mhz, "memory_bytes": props.total_memory,
        "driver": driver, "cuda_runtime": torch.version.cuda, "cupti": cupti_version(),
        "cudnn": str(torch.backends.cudnn.version()), "host": socket.gethostname(),
        "notes": f"clocks: {clock_source} current clocks, read right after the bf16 matmul ceiling ran",
    }


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    default_models = sorted(glob.glob(os.path.join(here, "..", "..", "scenarios", "models", "*.json")))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="the profile to write")
    parser.add_argument("--models", nargs="+", default=default_models, help="model files (scenarios/models/*.json)")
    parser.add_argument("--runs", type=int, default=50, help="timed calls per entry (default 50)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed calls first (default 10)")
    parser.add_argument("--tp", type=int, default=1, help="tensor parallel degree: heads per GPU = heads / tp")
    args = parser.parse_args(argv[1:])
    if args.runs < 1 or args.warmup < 0 or args.tp < 1:
        parser.error("--runs and --tp must be >= 1, --warmup >= 0")

    try:
        shapes = shapes_from_models(args.models, args.tp)
    except InputError as err:
        sys.exit(f"measure_attention.py: error: {err}")
    import torch
    if not torch.cuda.is_available():
        sys.exit("measure_attention.py: error: no CUDA device visible to torch")
    command, date = shlex.join([sys.executable] + argv), utc_now()
    l2_bytes = getattr(torch.cuda.get_device_properties(0), "L2_cache_size", 50 << 20)
    ceilings = measure_ceilings(torch)
    try:
        run = provenance(torch, command, date)
    except RuntimeError as err:
        sys.exit(f"measure_attention.py: error: {err}")
    entries, remarks, unmeasured = [], [], []
    for item in shapes:
        shape = item["shape"]
        for n in SEQUENCES:
            measured, reasons, extra = measure_shape(torch, shape, n * shape["seq"], args.runs, args.warmup, l2_bytes)
            label = f"{'/'.join(item['models'])} {profile_shape(shape, n * shape['seq'])}"
            if not measured:
                unmeasured.append(f"{label}: no SDPA backend ran it ({' | '.join(reasons)})")
                print(f"NOT MEASURED: {unmeasured[-1]}", file=sys.stderr)
                continue
            entries += measured
            remarks += [f"{label}: {r}" for r in extra]
            if reasons:  # a backend earlier in the order refused the shape
                remarks.append(f"{label}: {measured[0]['implementation']} ran after {' | '.join(reasons)}")
            print(f"{label}: {measured[0]['implementation']}, fwd {measured[0]['time_s']['median'] * 1e6:.1f} us, "
                  f"bwd {measured[1]['time_s']['median'] * 1e6:.1f} us", file=sys.stderr)
    run["notes"] += (
        f"; attention through torch.nn.functional.scaled_dot_product_attention (torch {torch.__version__}), bf16, "
        f"causal, (batch, heads, seq, dim) inputs; the backend that ran is each entry's implementation; time = the "
        f"sum of the GPU kernel durations of one call (torch.profiler, CUPTI activity records); backward = "
        f"torch.autograd.grad of a retained forward graph, its kernels only; shapes from "
        f"{', '.join(os.path.basename(m) for m in args.models)} at tp {args.tp}")
    for remark in remarks:
        run["notes"] += "; " + remark
    if unmeasured:
        run["notes"] += "; NOT MEASURED: " + "; ".join(unmeasured)
    write_json(args.out, profile_document(run, ceilings, entries))
    print(f"wrote {args.out}: {len(entries)} entries" + (f", {len(unmeasured)} shapes not measured" if unmeasured else ""),
          file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv)
