"""Import every gqa_nb module in the Python that runs this script, and fail unless each imports, except gqa_nb.hf and
gqa_nb.numba_kernels, which must fail with their own messages naming transformers and numba. Run in a clean venv holding the runtime requirements only (no [dev]),
it proves that the library needs no package beyond settings.ini's `requirements`. Usage: python check_imports.py"""
import importlib, pkgutil, subprocess, sys
import gqa_nb

NEEDS_EXTRA = {"gqa_nb.hf": "gqa_nb.hf needs HuggingFace transformers", "gqa_nb.numba_kernels": "gqa_nb.numba_kernels needs numba"}   # module: the start of the message it must fail with

bad = []
names = sorted(m.name for m in pkgutil.iter_modules(gqa_nb.__path__, "gqa_nb."))
for name in names:   # each in a fresh interpreter, so one module's imports cannot hide another's needs
    r = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True, text=True)
    err = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""
    if name in NEEDS_EXTRA:
        ok = r.returncode != 0 and err.startswith("ImportError: " + NEEDS_EXTRA[name])
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {'refuses clearly without its extra package' if ok else 'expected ' + repr(NEEDS_EXTRA[name]) + ', got ' + repr(err or 'a clean import')}")
    else:
        ok = r.returncode == 0
        print(f"{'ok  ' if ok else 'FAIL'} {name}" + ("" if ok else f": {err}"))
    if not ok: bad.append(name)
if len(names) < 10: bad.append(f"only {len(names)} modules found")
print(f"{len(names) - len(bad)} of {len(names)} gqa_nb modules import with the runtime requirements alone")
sys.exit(1 if bad else 0)
