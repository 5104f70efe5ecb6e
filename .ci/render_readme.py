"Render nbs/index.ipynb (executed, with its outputs) to README.md: markdown cells verbatim, code cells fenced, text outputs fenced. Usage: python .ci/render_readme.py [repo root]"
import json, re, sys
from pathlib import Path
root = Path(sys.argv[1] if len(sys.argv) > 1 else '.')
nb = json.loads((root/'nbs/index.ipynb').read_text())
parts = []
for c in nb['cells']:
    src = ''.join(c['source']).rstrip()
    if c['cell_type'] == 'markdown':  # links relative to nbs/ become relative to the repo root
        parts.append(re.sub(r'\]\((?!https?:|/|#)([^)]+)\)', r'](nbs/\1)', src)); continue
    if src.startswith('#| hide') or not src: continue
    if src.startswith('#| echo: false'): pass  # output only, as quarto renders it
    else: parts.append(f"```python\n{src}\n```")
    out = ''
    for o in c.get('outputs', []):
        if o['output_type'] == 'stream' and o.get('name') != 'stderr': out += ''.join(o['text'])  # progress bars and warnings stay out
        elif 'text/plain' in o.get('data', {}): out += ''.join(o['data']['text/plain']) + '\n'
    if out.strip(): parts.append(f"```\n{out.rstrip()}\n```")
(root/'README.md').write_text('\n\n'.join(parts) + '\n')
