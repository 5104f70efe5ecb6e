"""Device check for a GPU machine (run by hand where one is lent; CI has no GPU).

    PYTHONPATH=. python .ci/gpu_check.py OUTDIR

1. the SDPA-equality sweep on CUDA: torch executor (both strategies) against a float64 reference
   (SDPA with enable_gqa=True, or the explicit formula for bottom-right/window/softcap) computed on the CPU;
2. gradients w.r.t. q, k, v against SDPA on CUDA in float64;
3. seeded dropout on CUDA is reproducible;
4. `gqa_nb.bench` on CUDA (full shapes), written to OUTDIR/bench_cuda.json and printed as a table.
"""
import os, sys, json, time, platform
import numpy as np, torch, torch.nn.functional as F
from gqa_nb.attention import gqa_attention, reference_attention

out_dir = sys.argv[1] if len(sys.argv) > 1 else "."
dev = torch.device(os.environ.get("GQA_CHECK_DEVICE", "cuda"))  # "cpu" to dry-run the script here
print(f"torch {torch.__version__}, {torch.cuda.get_device_name(0) if dev.type == 'cuda' else platform.processor()}, python {platform.python_version()}", flush=True)

# 1. the sweep (half types: against the float64 reference on the same rounded inputs)
rng = np.random.default_rng(0)
TOL = {torch.float64: 1e-10, torch.float32: 1e-5, torch.bfloat16: 2e-2, torch.float16: 3e-3}  # half types: or within twice SDPA's own error in that dtype
worst, n = {}, 0
t0 = time.time()
for case in range(int(os.environ.get("GQA_CHECK_CASES", 120))):
    Hkv, G = [(1, 1), (2, 1), (1, 2), (2, 3), (1, 4), (2, 7), (1, 8), (3, 4), (8, 4), (1, 71)][case % 10]
    B, L, S, E = int(rng.integers(1, 4)), int(rng.integers(1, 40)), int(rng.integers(1, 70)), int(rng.choice([8, 16, 64, 128]))
    kind = ["none", "causal", "bottom_right", "window", "bool_mask", "float_mask"][case % 6]
    kw = dict(scale=[None, 0.3][case % 2], softcap=[None, None, 20.0][case % 3])
    if kind == "causal": kw["is_causal"] = True
    if kind in ("bottom_right", "window"): kw.update(is_causal=True, causal_alignment="bottom_right", window=int(rng.integers(1, 9)) if kind == "window" else None)
    q, k, v = (torch.from_numpy(rng.standard_normal(s)) for s in ((B, Hkv * G, L, E), (B, Hkv, S, E), (B, Hkv, S, E)))
    if kind in ("bool_mask", "float_mask"):
        m = torch.from_numpy(rng.random((B, 1, L, S)) > 0.3)
        kw["attn_mask"] = m if kind == "bool_mask" else torch.where(m, torch.from_numpy(rng.standard_normal((B, 1, L, S))), torch.tensor(float("-inf"), dtype=torch.float64))
    for dtype, tol in TOL.items():
        rounded = lambda x: x.to(dtype).double() if x.is_floating_point() else x   # the reference sees the same rounded inputs
        ref = reference_attention(rounded(q), rounded(k), rounded(v), **{a: rounded(x) if isinstance(x, torch.Tensor) else x for a, x in kw.items()})
        cast = lambda x: x.to(dev, dtype) if x.is_floating_point() else x.to(dev)
        dkw = {a: cast(x) if isinstance(x, torch.Tensor) else x for a, x in kw.items()}
        for strategy in ("grouped", "repeat"):
            o = gqa_attention(cast(q), cast(k), cast(v), strategy=strategy, **dkw)
            assert o.device.type == dev.type and o.dtype == dtype
            err = (o.double().cpu() - ref).abs().max().item()
            if dtype in (torch.bfloat16, torch.float16):  # or within 8x the reference's own error in this dtype (CPU), computed on the same rounded inputs
                half = lambda x: x.to(dtype) if x.is_floating_point() else x
                rival = reference_attention(half(q), half(k), half(v), **{a: half(x) if isinstance(x, torch.Tensor) else x for a, x in kw.items()})
                tol = max(tol, 8 * (rival.double() - ref).abs().max().item())
            worst[str(dtype), strategy] = max(worst.get((str(dtype), strategy), 0.0), err)
            assert err < tol, f"case {case} {kind} {dtype} {strategy}: error {err:.2e} >= {tol:.0e}"
            n += 1
print(f"1. sweep: {n} runs on {dev.type} equal the reference ({time.time() - t0:.1f} s); worst errors:", flush=True)
for (dt, s), e in sorted(worst.items()): print(f"   {dt:15s} {s:8s} {e:.2e}  (tolerance {TOL[getattr(torch, dt.split('.')[1])]:.0e}{', or 8x the reference in that dtype' if 'float16' in dt else ''})")

# 2. gradients
torch.manual_seed(0)
q, k, v = (torch.randn(*s, dtype=torch.float64, device=dev) for s in ((2, 32, 33, 64), (2, 8, 47, 64), (2, 8, 47, 64)))
mask = torch.rand(2, 1, 33, 47, device=dev) > 0.2
for kw in (dict(is_causal=True), dict(attn_mask=mask)):
    def grads(f):
        xs = [x.clone().requires_grad_() for x in (q, k, v)]
        f(*xs).pow(2).sum().backward(); return [x.grad for x in xs]
    ref = grads(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, enable_gqa=True, **kw))
    for strategy in ("grouped", "repeat"):
        got = grads(lambda a, b, c: gqa_attention(a, b, c, strategy=strategy, **kw))
        err = max((x - y).abs().max().item() for x, y in zip(got, ref))
        assert err < 1e-10, (kw.keys(), strategy, err)
print(f"2. gradients w.r.t. q, k, v equal SDPA's on {dev.type} in float64 (causal and masked, both strategies)", flush=True)

# 3. dropout
a = gqa_attention(q, k, v, dropout_p=0.3, generator=torch.Generator(device=dev).manual_seed(5))
b = gqa_attention(q, k, v, dropout_p=0.3, generator=torch.Generator(device=dev).manual_seed(5))
assert torch.equal(a, b) and not torch.equal(a, gqa_attention(q, k, v, dropout_p=0.3, generator=torch.Generator(device=dev).manual_seed(6)))
print(f"3. seeded dropout on {dev.type} is reproducible", flush=True)

# 4. bench
from gqa_nb import bench
res = bench.run_bench(device=dev.type, quick=dev.type != "cuda", log=lambda s: print(s, flush=True))
json.dump(res, open(f"{out_dir}/bench_{dev.type}.json", "w"), indent=1)
print(f"4. bench on {dev.type}:\n" + bench.format_table(res), flush=True)
