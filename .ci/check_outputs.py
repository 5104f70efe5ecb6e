"Fail when a notebook code cell that shows something (a print, a plot, a display, or a last line that is a value) is stored without its output, or stores a value its last line no longer gives (edited after it ran), or a progress bar. Usage: python .ci/check_outputs.py [nbs dir]"
import ast, json, re, sys
from pathlib import Path

SHOWS = re.compile(r"^\s*(print\(|plt\.|show_doc\(|display\(|Markdown\(|\w+\.plot\(|plot_\w+\()", re.M)
PROGRESS = re.compile(r"\d(?:it/s|s/it)\]")   # tqdm's rate, e.g. "[00:00<00:00, 645.97it/s]"
SIDE_EFFECTS = {"set_verbosity_error", "register", "backward", "manual_seed", "clear", "append", "update", "cache_clear"}

def shows_something(src: str) -> bool:
    "Does running this cell put something on the page? (A call to a plain function name may return None: not counted.)"
    if SHOWS.search(src): return True
    try: body = ast.parse(src).body
    except SyntaxError: return False
    if not body or not isinstance(body[-1], ast.Expr) or src.rstrip().endswith(";"): return False
    v = body[-1].value
    if isinstance(v, ast.Call): return isinstance(v.func, ast.Attribute) and v.func.attr not in SIDE_EFFECTS
    return not isinstance(v, ast.Constant)

def ends_in_value(src: str) -> bool:
    "Does the cell's last line give a value that Jupyter shows (an expression, no trailing semicolon)?"
    try: body = ast.parse(src).body
    except SyntaxError: return True
    if not body or not isinstance(body[-1], ast.Expr) or src.rstrip().endswith(";"): return False
    f = getattr(body[-1].value, "func", None)   # fastcore's test_* and the side-effect calls return None
    return not (isinstance(f, ast.Name) and f.id.startswith("test_") or isinstance(f, ast.Attribute) and f.attr in SIDE_EFFECTS)

missing = []
for nb in sorted(Path(sys.argv[1] if len(sys.argv) > 1 else "nbs").glob("*.ipynb")):
    for i, c in enumerate(json.loads(nb.read_text())["cells"]):
        src = "".join(c.get("source", []))
        if c["cell_type"] != "code" or re.search(r"^#\|\s*(export|exporti|hide|eval:\s*false)\b", src, re.M): continue
        if shows_something(src) and not c.get("outputs"): missing.append(f"{nb.name} cell {i}: {src.strip().splitlines()[-1][:80]}")
        if any(PROGRESS.search("".join(o.get("text", ""))) for o in c.get("outputs", [])):
            missing.append(f"{nb.name} cell {i}: stores a progress bar (timings change every run; turn the bar off)")
        if any(o["output_type"] == "execute_result" for o in c.get("outputs", [])) and not ends_in_value(src):
            missing.append(f"{nb.name} cell {i}: stores a value, but its last line gives none: {src.strip().splitlines()[-1][:80]}")
if missing:
    print(f"{len(missing)} notebook cell(s) stored with outputs that running them would not give (execute the notebook, nbdev_clean, commit):")
    print("\n".join("  " + m for m in missing))
    sys.exit(1)
print("every notebook cell that shows something has its output stored")
