"""Device check for a GPU machine (run by hand where one is lent; CI has no GPU).

    PYTHONPATH=. python .ci/gpu_check.py OUTDIR

(GQA_CHECK_CASES, default 40, sets the sweep's size: every new dtype, head dim and mask structure compiles
FlexAttention once, 2.5 minutes for 12 cases on a 2-core CPU dry run with GQA_CHECK_DEVICE=cpu.)

1. the SDPA-equality sweep on CUDA: torch executor (both strategies, both lowerings: FlexAttention and the
   blocked loop) against a float64 reference (SDPA with enable_gqa=True, or the explicit formula for
   bottom-right/window/softcap) computed on the CPU; half types within 1.5x SDPA's own error in that dtype
   on the same device and inputs (plus the dtype's machine epsilon);
2. gradients w.r.t. q, k, v against SDPA's: float64 (blocked loop) and float32 on FlexAttention;
3. seeded dropout on CUDA is reproducible;
4. `gqa_nb.bench` on CUDA: the reference cases in float32 and bfloat16, the long cases in bfloat16, training
   (forward and backward at 2048 and 8192 tokens; FlexAttention's backward among the peers) in both, written to OUTDIR/bench_cuda_*.json and printed as tables.
"""
import os, sys, json, time, platform
import numpy as np, torch, torch.nn.functional as F
from gqa_nb.attention import gqa_attention, reference_attention

out_dir = sys.argv[1] if len(sys.argv) > 1 else "."
torch._dynamo.config.recompile_limit = 256   # the sweep compiles FlexAttention for many dtypes and structures; past the default 8 it would run uncompiled
dev = torch.device(os.environ.get("GQA_CHECK_DEVICE", "cuda"))  # "cpu" to dry-run the script here
print(f"torch {torch.__version__}, {torch.cuda.get_device_name(0) if dev.type == 'cuda' else platform.processor()}, python {platform.python_version()}", flush=True)

# 1. the sweep (half types: against the float64 reference on the same rounded inputs)
rng = np.random.default_rng(0)
TOL = {torch.float64: 1e-10, torch.float32: 1e-5, torch.bfloat16: None, torch.float16: None}  # half types: 1.5x SDPA's own error + eps
worst, n = {}, 0
t0 = time.time()
for case in range(int(os.environ.get("GQA_CHECK_CASES", 40))):
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
        if TOL[dtype] is None:  # SDPA's own error in this dtype, on this device, on the same rounded inputs
            rival = reference_attention(cast(q), cast(k), cast(v), **dkw)
            tol = 1.5 * (rival.double().cpu() - ref).abs().nan_to_num(0.0).max().item() + torch.finfo(dtype).eps   # a NaN of SDPA's loosens nothing
        for strategy in ("grouped", "repeat"):
            for kernel in ("flex", "blocked"):
                o = gqa_attention(cast(q), cast(k), cast(v), strategy=strategy, kernel=kernel, **dkw)
                assert o.device.type == dev.type and o.dtype == dtype
                err = (o.double().cpu() - ref).abs().max().item()
                worst[str(dtype), strategy, kernel] = max(worst.get((str(dtype), strategy, kernel), 0.0), err)
                assert err <= tol, f"case {case} {kind} {dtype} {strategy} {kernel}: error {err:.2e} > {tol:.2e}"
                n += 1
from gqa_nb import flex
assert dev.type != "cuda" or "fn" in flex._FLEX, "kernel='flex' never reached FlexAttention on CUDA"
print(f"1. sweep: {n} runs on {dev.type} equal the reference ({time.time() - t0:.1f} s); worst errors:", flush=True)
for (dt, s, kn), e in sorted(worst.items()):
    t = TOL[getattr(torch, dt.split('.')[1])]
    print(f"   {dt:15s} {s:8s} {kn:8s} {e:.2e}  (tolerance {'1.5x SDPA in that dtype + eps' if t is None else f'{t:.0e}'})")

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
    ref32 = [g.float() for g in ref]
    qf, kf, vf = q.float(), k.float(), v.float()
    for strategy in ("grouped", "repeat"):  # float32 on FlexAttention (where its backward runs: CUDA)
        xs = [t.clone().requires_grad_() for t in (qf, kf, vf)]
        gqa_attention(*xs, strategy=strategy, kernel="flex", **kw).pow(2).sum().backward()
        err = max((x.grad - y).abs().max().item() / y.abs().max().item() for x, y in zip(xs, ref32))
        assert err < 1e-4, (kw.keys(), strategy, "flex float32", err)
print(f"2. gradients w.r.t. q, k, v equal SDPA's on {dev.type}: float64 (blocked loop) and float32 on FlexAttention, relative 1e-4 (causal and masked, both strategies)", flush=True)

# 3. dropout
a = gqa_attention(q, k, v, dropout_p=0.3, generator=torch.Generator(device=dev).manual_seed(5))
b = gqa_attention(q, k, v, dropout_p=0.3, generator=torch.Generator(device=dev).manual_seed(5))
assert torch.equal(a, b) and not torch.equal(a, gqa_attention(q, k, v, dropout_p=0.3, generator=torch.Generator(device=dev).manual_seed(6)))
print(f"3. seeded dropout on {dev.type} is reproducible", flush=True)

# 4. bench
from gqa_nb import bench
torch._dynamo.reset(); flex._FLEX.clear()   # compiles start afresh: the bench times first calls
for tag, kw in (("fp32", dict(dtype="float32")), ("bf16", dict(dtype="bfloat16")), ("long_bf16", dict(dtype="bfloat16", cases=["decode_long", "prefill_long"])),
                ("train_fp32", dict(dtype="float32", cases=["train", "train_long"])), ("train_bf16", dict(dtype="bfloat16", cases=["train", "train_long"]))):
    res = bench.run_bench(device=dev.type, quick=dev.type != "cuda", log=lambda s: print(s, flush=True), **kw)
    json.dump(res, open(f"{out_dir}/bench_{dev.type}_{tag}.json", "w"), indent=1)
    print(f"4. bench on {dev.type}, {tag}:\n" + bench.bench_report(res), flush=True)
