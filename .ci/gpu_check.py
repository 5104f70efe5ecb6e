"""Device check for a GPU machine (run by hand where one is lent; CI has no GPU).

    PYTHONPATH=. python .ci/gpu_check.py OUTDIR [SECTION ...]

Sections run in the order given (default: routes sinks masks choices gradients dropout train bench sweep long), each on its own: one that
fails is reported and the others still run; the exit status is 1 if any failed. GQA_CHECK_BUDGET_S (default: none)
stops starting sections once that many seconds have passed, and says which were not run. GQA_CHECK_CASES (default
40) sets the sweep's size: every new dtype, head dim and mask structure compiles FlexAttention once, 2.5 minutes for
12 cases on a 2-core CPU dry run with GQA_CHECK_DEVICE=cpu. On one H200 (torch 2.11, a fresh machine, nothing
compiled before) gradients took 52 s, train 102 s, bench 55 s and long 10 s, 283 s in all with the sweep
(GQA_CHECK_CASES=12) stopping at a failure after 48 s. Needs numpy, torch, fastcore and array-api-compat.

sweep: the SDPA-equality sweep on CUDA: torch executor (both strategies, both lowerings: FlexAttention and the
   blocked loop) against a float64 reference (SDPA with enable_gqa=True, or the explicit formula for
   bottom-right/window/softcap) computed on the CPU; half types within 1.5x SDPA's own error in that dtype
   on the same device and inputs (plus the dtype's machine epsilon);
routes: `kernel="auto"` on CUDA hands what SDPA says to SDPA (through `gqa_attention` and through a graph's fused node),
   FlexAttention or the loop the rest: outputs and gradients within 1.5x SDPA's own error against float64; reports
   whether a NaN in a key the causal rule hides stays hidden;
sinks: attention sinks with the LSE output under `kernel="auto"`: FlexAttention in bfloat16 on CUDA (the sink as one more key, a
   decoding step's merged in by the log-sum-exp), the loop in float32; outputs, LSE and gradients (the sinks' too) within 1.5x the loop's own error against float64; training at 2048
   tokens timed against the loop;
masks: a left-padded batch's training timed on each route (kernel="auto" — in float32 SDPA with K/V repeated and the mask,
   in bfloat16 FlexAttention —, the loop, SDPA with the mask with enable_gqa and with K/V repeated); that kernel="auto"
   gives the rows that see no key zeros and finite gradients, and what SDPA's math, memory-efficient and cuDNN kernels
   give those rows themselves;
choices: measures for routes not taken yet: float32 training with a sliding window on the loop (kernel="auto"), on FlexAttention
   and on SDPA with the window as a mask; bfloat16 SDPA with cuDNN's kernel put first (its context entered per call) against
   SDPA's own choice, for a decoding step, a prefill and training;
gradients: gradients w.r.t. q, k, v against SDPA's: float64 (blocked loop) and float32 on FlexAttention;
dropout: seeded dropout on CUDA is reproducible;
train, bench, long: `gqa_nb.bench` on CUDA: training (forward and backward at 2048 and 8192 tokens; FlexAttention's
   backward among the peers) in float32 and bfloat16, the reference cases in both, the long cases in bfloat16, written to
   OUTDIR/bench_cuda_*.json and printed as tables.
"""
import os, sys, json, time, platform
import numpy as np, torch, torch.nn.functional as F
from gqa_nb.attention import gqa_attention, reference_attention

out_dir = sys.argv[1] if len(sys.argv) > 1 else "."
torch._dynamo.config.recompile_limit = 256   # the sweep compiles FlexAttention for many dtypes and structures; past the default 8 it would run uncompiled
dev = torch.device(os.environ.get("GQA_CHECK_DEVICE", "cuda"))  # "cpu" to dry-run the script here
print(f"torch {torch.__version__}, {torch.cuda.get_device_name(0) if dev.type == 'cuda' else platform.processor()}, python {platform.python_version()}", flush=True)

def sweep():
    "The SDPA-equality sweep (half types: against the float64 reference on the same rounded inputs)."
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
    print(f"sweep: {n} runs on {dev.type} equal the reference ({time.time() - t0:.1f} s); worst errors:", flush=True)
    for (dt, s, kn), e in sorted(worst.items()):
        t = TOL[getattr(torch, dt.split('.')[1])]
        print(f"   {dt:15s} {s:8s} {kn:8s} {e:.2e}  (tolerance {'1.5x SDPA in that dtype + eps' if t is None else f'{t:.0e}'})")

def _qkv():
    torch.manual_seed(0)
    return [torch.randn(*s, dtype=torch.float64, device=dev) for s in ((2, 32, 33, 64), (2, 8, 47, 64), (2, 8, 47, 64))]

def gradients():
    "Gradients w.r.t. q, k, v against SDPA's: float64 on the blocked loop, float32 on FlexAttention (its backward)."
    q, k, v = _qkv()
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
    print(f"gradients: w.r.t. q, k, v equal SDPA's on {dev.type}: float64 (blocked loop) and float32 on FlexAttention, relative 1e-4 (causal and masked, both strategies)", flush=True)

def routes():
    "kernel='auto' on CUDA: which calls reach SDPA, and their outputs and gradients against float64."
    from unittest import mock
    from gqa_nb.config import GQAConfig
    from gqa_nb.builder import build_attention_graph
    from gqa_nb.fastpath import fuse_attention
    from gqa_nb.executor import run_torch
    real, calls = F.scaled_dot_product_attention, []
    def counted(*a, **kw): calls.append(1); return real(*a, **kw)
    gen = torch.Generator().manual_seed(1)
    graph = fuse_attention(build_attention_graph(GQAConfig(512, 8, 2)))     # causal, head dim 64
    cases = [(300, 300, 64, dict(is_causal=True), True), (1, 500, 64, {}, True), (1, 500, 64, dict(is_causal=True, causal_alignment="bottom_right"), True),
             (64, 64, 64, dict(is_causal=True, causal_alignment="bottom_right"), True), (40, 90, 64, dict(is_causal=True, causal_alignment="bottom_right"), False),
             (50, 70, 64, dict(window=8), False), (30, 30, 8, dict(is_causal=True, causal_alignment="bottom_right"), True), (20, 40, 8, dict(window=4), False), ("graph", 200, 64, {}, True),
             (80, 120, 64, dict(key_mask="padded"), "float32"), (1, 120, 64, dict(key_mask="padded"), "float32")]   # a padding mask: SDPA in float32, FlexAttention in half types
    worst = {}
    for dtype in (torch.float32, torch.bfloat16):
        for L, S, E, kw, routed in cases:
            n = 200 if L == "graph" else L
            q, k, v = (torch.randn(2, h, m, E, generator=gen).to(dev, dtype).requires_grad_() for h, m in ((8, n), (2, S), (2, S)))
            run = (lambda a, b, c: run_torch(graph, dict(q=a, k=b, v=c), kernel="auto")) if L == "graph" else (lambda a, b, c: gqa_attention(a, b, c, **kw))
            kw_ref = dict(is_causal=True) if L == "graph" else kw
            if kw.get("key_mask") == "padded":                                        # the second sequence's last 40 keys are padding
                keys = torch.arange(S, device=dev) < torch.tensor([[S], [S - 40]], device=dev)
                kw, kw_ref = dict(key_mask=keys), dict(attn_mask=keys[:, None, None, :])
                run = lambda a, b, c: gqa_attention(a, b, c, **kw)
            calls.clear()
            with mock.patch("torch.nn.functional.scaled_dot_product_attention", counted): out = run(q, k, v)
            expected = routed if isinstance(routed, bool) else str(dtype) == f"torch.{routed}"
            assert dev.type != "cuda" or bool(calls) == expected, (L, S, E, kw, dtype, len(calls))   # (the CPU routes otherwise: a dry run checks the numbers)
            dout = torch.randn(out.shape, generator=gen).to(dev, dtype)
            got = (out, *torch.autograd.grad(out, (q, k, v), dout))
            x64 = [t.detach().double().requires_grad_() for t in (q, k, v)]
            r = reference_attention(*x64, **kw_ref); ref = (r, *torch.autograd.grad(r, x64, dout.double()))
            rv = reference_attention(q, k, v, **kw_ref); rival = (rv, *torch.autograd.grad(rv, (q, k, v), dout))   # SDPA (or the explicit formula) in this dtype
            for name, a, b, c in zip(("out", "dq", "dk", "dv"), got, ref, rival):
                err, tol = (a.double() - b).abs().max().item(), 1.5 * (c.double() - b).abs().max().item() + 1e-5 * max(b.abs().max().item(), 1.0)
                worst[str(dtype), name] = max(worst.get((str(dtype), name), 0.0), err / tol)
                assert err <= tol, (L, S, E, kw, dtype, name, err, tol)
    print(("routes: kernel='auto' on CUDA reaches SDPA exactly where expected" if dev.type == "cuda" else "routes (a dry run: which calls reach SDPA not checked)")
          + f" ({len(cases)} kinds of call, float32 and bfloat16, through gqa_attention and a graph, a padding mask among them); "
          "outputs and gradients within 1.5x SDPA's own error (+1e-5 relative); worst error / tolerance: " + ", ".join(f"{d} {n} {w:.2f}" for (d, n), w in sorted(worst.items())), flush=True)
    for dtype in (torch.float32, torch.bfloat16):
        q, k, v = (torch.randn(1, 8, 300, 64, generator=gen).to(dev, dtype) for _ in range(3))
        k[:, :, 200] = float("nan")
        for kernel in ("auto", "flex", "blocked"):
            o = gqa_attention(q, k, v, is_causal=True, kernel=kernel)
            print(f"   a NaN in key 200, causal, {dtype}, kernel={kernel}: rows 0-199 finite: {bool(torch.isfinite(o[:, :, :200]).all())}", flush=True)

def sinks():
    "Attention sinks with the LSE output (GPT-OSS) under kernel='auto': FlexAttention in bfloat16 on CUDA, the loop in float32; outputs, LSE and gradients (the sinks' too) within 1.5x the blocked loop's own error against float64; training at 2048 tokens timed against the loop."
    from unittest import mock
    from gqa_nb import flex
    real, calls = flex.flex_attention_fn, []
    def counted(): calls.append(1); return real()
    gen, worst = torch.Generator().manual_seed(2), {}
    for dtype in (torch.bfloat16, torch.float32):
        for L, S, kw in ((300, 300, dict(is_causal=True, window=128)), (40, 90, dict(is_causal=True, causal_alignment="bottom_right")), (1, 500, {})):
            xs = [torch.randn(*s, generator=gen).to(dev, dtype).requires_grad_() for s in ((2, 8, L, 64), (2, 2, S, 64), (2, 2, S, 64), (8,))]
            wo, wl = torch.randn(2, 8, L, 64, generator=gen, dtype=torch.float64).to(dev), torch.randn(2, 8, L, generator=gen, dtype=torch.float64).to(dev)
            def run(x, **extra):
                out, lse = gqa_attention(*x[:3], sinks=x[3], return_lse=True, **kw, **extra)
                return (out, lse, *torch.autograd.grad((out.double() * wo).sum() + (lse.double() * wl).sum(), x))
            calls.clear()
            with mock.patch.object(flex, "flex_attention_fn", counted): got = run(xs)
            assert dev.type != "cuda" or bool(calls) == (dtype == torch.bfloat16), (L, S, kw, dtype, len(calls))
            ref = run([t.detach().double().requires_grad_() for t in xs], kernel="blocked")
            rival = run(xs, kernel="blocked")
            for name, a, b, c in zip(("out", "lse", "dq", "dk", "dv", "dsinks"), got, ref, rival):
                err, tol = (a.double() - b).abs().max().item(), 1.5 * (c.double() - b).abs().max().item() + 1e-5 * max(b.abs().max().item(), 1.0)
                worst[str(dtype), name] = max(worst.get((str(dtype), name), 0.0), err / tol)
                assert err <= tol, (L, S, kw, dtype, name, err, tol)
    print(f"sinks: with sinks and the LSE output, kernel='auto' on {dev.type} {'runs FlexAttention in bfloat16 and the loop in float32' if dev.type == 'cuda' else '(a dry run: routing not checked)'}; "
          "outputs, LSE and gradients within 1.5x the loop's own error against float64 (+1e-5 relative); worst error / tolerance: " + ", ".join(f"{d} {n} {w:.2f}" for (d, n), w in sorted(worst.items())), flush=True)
    n = 2048 if dev.type == "cuda" else 256
    xs = [torch.randn(*s, generator=gen).to(dev, torch.bfloat16).requires_grad_() for s in ((1, 32, n, 128), (1, 8, n, 128), (1, 8, n, 128), (32,))]
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    def step(kernel):
        out = gqa_attention(*xs[:3], sinks=xs[3], is_causal=True, kernel=kernel)
        torch.autograd.grad(out.float().square().sum(), xs); sync()
    times = {}
    for kernel in ("auto", "blocked"):
        step(kernel); step(kernel)
        t = []
        for _ in range(5): t0 = time.perf_counter(); step(kernel); t.append(time.perf_counter() - t0)
        times[kernel] = sorted(t)[2] * 1e3
    print(f"   training with sinks, bfloat16, 1x32x{n}x128 against 8 KV heads, causal (forward and backward, median of 5): "
          f"kernel='auto' {times['auto']:.2f} ms, the blocked loop {times['blocked']:.2f} ms", flush=True)

def _timed(calls:dict, xs=None) -> dict:
    "{name: 'median of 5 ms'} for each zero-argument call (with `xs`: its forward and the backward to `xs`), after two warm-up calls; 'fails: ...' where it raises."
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    times = {}
    for name, f in calls.items():
        def step():
            out = f()
            if xs is not None: torch.autograd.grad(out.float().nan_to_num(0.0).square().sum(), xs)
            sync()
        try: step(); step()
        except RuntimeError as e: times[name] = f"fails: {str(e).splitlines()[0][:100]}"; continue
        t = []
        for _ in range(5): t0 = time.perf_counter(); step(); t.append(time.perf_counter() - t0)
        times[name] = f"{sorted(t)[2] * 1e3:.3f} ms"
    return times

def masks():
    "Padded batches: what a mask input costs on each route (kernel='auto': SDPA with K/V repeated and the mask in float32, FlexAttention in bfloat16), that kernel='auto' gives a row that sees no key zeros and finite gradients, and what SDPA's kernels give such a row themselves."
    gen = torch.Generator().manual_seed(3)
    B, n = 2, (1024 if dev.type == "cuda" else 128)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    from torch.nn.attention import sdpa_kernel, SDPBackend
    for dtype in (torch.float32, torch.bfloat16):
        xs = [torch.randn(*s, generator=gen).to(dev, dtype).requires_grad_() for s in ((B, 32, n, 128), (B, 8, n, 128), (B, 8, n, 128))]
        key_mask = torch.ones(B, n, dtype=torch.bool, device=dev); key_mask[1, : n // 4] = False            # the second sequence left-padded
        full = torch.ones(n, n, dtype=torch.bool, device=dev).tril() & key_mask[:, None, None, :]            # (B, 1, L, S): rows 0..n/4 of it see no key
        rep = lambda t: t.repeat_interleave(4, 1)
        calls = dict(auto=lambda: gqa_attention(*xs, is_causal=True, key_mask=key_mask),
                     blocked=lambda: gqa_attention(*xs, is_causal=True, key_mask=key_mask, kernel="blocked"),
                     sdpa_gqa_mask=lambda: F.scaled_dot_product_attention(*xs, attn_mask=full, enable_gqa=True),
                     sdpa_repeat_mask=lambda: F.scaled_dot_product_attention(xs[0], rep(xs[1]), rep(xs[2]), attn_mask=full),
                     sdpa_repeat_no_mask=lambda: F.scaled_dot_product_attention(xs[0], rep(xs[1]), rep(xs[2]), is_causal=True))
        times = _timed(calls, xs)
        print(f"masks: training (forward and backward) on a left-padded batch, {dtype}, {B}x32x{n}x128 against 8 KV heads, causal, median of 5: "
              + ", ".join(f"{k} {v}" for k, v in times.items()), flush=True)
        out = calls["auto"](); grads = torch.autograd.grad(out.float().square().sum(), xs)
        assert bool((out[1, :, : n // 4] == 0).all()) and all(bool(torch.isfinite(g).all()) for g in grads), (dtype, "kernel='auto': rows that see no key")
        print(f"   kernel='auto', {dtype}: rows that see no key are zeros, gradients finite", flush=True)
        blind = {}
        for name, backend in (("math", SDPBackend.MATH), ("efficient", SDPBackend.EFFICIENT_ATTENTION), ("cudnn", SDPBackend.CUDNN_ATTENTION)):
            try:
                with torch.no_grad(), sdpa_kernel(backend): o = F.scaled_dot_product_attention(xs[0], rep(xs[1]), rep(xs[2]), attn_mask=full)
                blind[name] = "NaN" if bool(o[1, :, : n // 4].isnan().any()) else ("0" if bool((o[1, :, : n // 4] == 0).all()) else "other")
            except RuntimeError: blind[name] = "does not run"
        print(f"   rows that see no key, SDPA with K/V repeated and the mask ({dtype}): " + ", ".join(f"{k} {v}" for k, v in blind.items()), flush=True)

def choices():
    "Measures for routes not taken yet: float32 with a sliding window (kernel='auto' runs the loop; SDPA with the window as a mask, FlexAttention), and SDPA in bfloat16 with cuDNN's kernel first (its priority context entered on every call, as gqa_nb would) against SDPA's own choice."
    from torch.nn.attention import sdpa_kernel, SDPBackend
    from gqa_nb.executor import allowed_grid
    gen = torch.Generator().manual_seed(4)
    n, w = (2048, 512) if dev.type == "cuda" else (256, 64)
    xs = [torch.randn(*s, generator=gen).to(dev).requires_grad_() for s in ((1, 32, n, 128), (1, 8, n, 128), (1, 8, n, 128))]
    band = allowed_grid(torch, n, n, "top_left", w, device=dev)
    rep = lambda t: t.repeat_interleave(4, 1)
    times = _timed(dict(auto=lambda: gqa_attention(*xs, window=w), flex=lambda: gqa_attention(*xs, window=w, kernel="flex"),
                        sdpa_repeat_band_mask=lambda: F.scaled_dot_product_attention(xs[0], rep(xs[1]), rep(xs[2]), attn_mask=band)), xs)
    print(f"choices: float32 training, window {w}, 1x32x{n}x128 against 8 KV heads, median of 5: " + ", ".join(f"{k} {v}" for k, v in times.items()), flush=True)
    first = [SDPBackend.CUDNN_ATTENTION, SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH]
    def cudnn_first(*a, **kw):
        with sdpa_kernel(first, set_priority=True): return F.scaled_dot_product_attention(*a, **kw)
    for L, S, B, train in ((1, 4096, 8, False), (1024, 1024, 1, False), (2048, 2048, 1, True)):
        q, k, v = (torch.randn(*s, generator=gen).to(dev, torch.bfloat16).requires_grad_(train) for s in ((B, 32, L, 128), (B, 8, S, 128), (B, 8, S, 128)))
        with torch.set_grad_enabled(train):
            times = _timed(dict(sdpa_own_choice=lambda: F.scaled_dot_product_attention(q, k, v, is_causal=L > 1, enable_gqa=True),
                                cudnn_first=lambda: cudnn_first(q, k, v, is_causal=L > 1, enable_gqa=True)), [q, k, v] if train else None)
        print(f"   bfloat16 {'training' if train else 'forward'} B={B} L={L} S={S}: " + ", ".join(f"{k} {v}" for k, v in times.items()), flush=True)

def dropout():
    "Seeded dropout is reproducible, and another seed gives another result."
    q, k, v = _qkv()
    a = gqa_attention(q, k, v, dropout_p=0.3, generator=torch.Generator(device=dev).manual_seed(5))
    b = gqa_attention(q, k, v, dropout_p=0.3, generator=torch.Generator(device=dev).manual_seed(5))
    assert torch.equal(a, b) and not torch.equal(a, gqa_attention(q, k, v, dropout_p=0.3, generator=torch.Generator(device=dev).manual_seed(6)))
    print(f"dropout: seeded dropout on {dev.type} is reproducible", flush=True)

def _bench(*runs):
    from gqa_nb import bench, flex
    for tag, kw in runs:
        torch._dynamo.reset(); flex._FLEX.clear()   # compiles start afresh: the bench times first calls
        res = bench.run_bench(device=dev.type, quick=dev.type != "cuda", log=lambda s: print(s, flush=True), **kw)
        json.dump(res, open(f"{out_dir}/bench_{dev.type}_{tag}.json", "w"), indent=1)
        print(f"bench on {dev.type}, {tag}:\n" + bench.bench_report(res), flush=True)

def train(): _bench(("train_fp32", dict(dtype="float32", cases=["train", "train_long"])), ("train_bf16", dict(dtype="bfloat16", cases=["train", "train_long"])))
def bench(): _bench(("fp32", dict(dtype="float32")), ("bf16", dict(dtype="bfloat16")))
def long(): _bench(("long_bf16", dict(dtype="bfloat16", cases=["decode_long", "prefill_long"])),)

SECTIONS = dict(routes=routes, sinks=sinks, masks=masks, choices=choices, gradients=gradients, dropout=dropout, train=train, bench=bench, sweep=sweep, long=long)
if __name__ == "__main__":
    import traceback
    names = sys.argv[2:] or list(SECTIONS)
    bad = [n for n in names if n not in SECTIONS]
    if bad: sys.exit(f"unknown section {bad[0]!r}; the sections are {', '.join(SECTIONS)}")
    budget, t0, status = float(os.environ.get("GQA_CHECK_BUDGET_S", "inf")), time.time(), {}
    for name in names:
        if time.time() - t0 > budget: status[name] = "not run (budget spent)"; continue
        t = time.time()
        try: SECTIONS[name](); status[name] = f"passed ({time.time() - t:.0f} s)"
        except Exception: traceback.print_exc(); status[name] = f"FAILED ({time.time() - t:.0f} s)"
        print(f"== {name}: {status[name]}", flush=True)
    print("gpu_check: " + ", ".join(f"{n} {s}" for n, s in status.items()), flush=True)
    sys.exit(1 if any(s.startswith("FAILED") for s in status.values()) else 0)
