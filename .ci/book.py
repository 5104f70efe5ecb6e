"""Render the notebooks in nbs/ to a static website that reads offline: their stored outputs as they are, never executed.

Usage: python .ci/book.py OUT [--root DIR] [--mathjax DIR] [--jobs N]

One page per notebook (found by glob, `_*.ipynb` skipped as nbdev skips them), named as nbdev names them: the file name
without its numeric prefix (04_fastpath.ipynb -> fastpath.html; index.ipynb -> index.html). Every page has a contents
sidebar: the notebooks in file order (index first), each titled by its first markdown `# heading`, the current page
marked and its `##` sections listed. nbdev directives: `#| hide` and `#| include: false` cells are left out,
`#| echo: false` shows the output alone, `#| output: false` the code alone, `#| default_exp` cells (nothing else in
them) vanish, and no `#|` line is shown.

Links in markdown (cells and markdown outputs) are resolved after every page is rendered:
- to a notebook (`04_fastpath.ipynb`, `nbs/04_fastpath.ipynb`, `fastpath.html`, `04_fastpath.html`, the docs site's own
  `{doc_host}{doc_baseurl}/fastpath.html`), with or without `#anchor`: to its page; an anchor written the nbconvert or
  JupyterLab way (`#The-fast-path`) or the Quarto way (`#the-fast-path`) finds the same heading;
- to another file in the repository (a results JSON, a PNG): the file is copied into OUT, at its path relative to nbs/
  when it lies under nbs/ (so `results/x.json` stays `results/x.json`), else under OUT/repo/<path from the repo root>;
- to a folder in the repository: to its page on GitHub ({git_url}/tree/{branch}/...);
- anything that resolves to nothing is left as written and reported (the browser check then fails on it).
Headings get Pandoc/Quarto ids (lowercase, punctuation dropped, spaces as hyphens, made unique on the page).

Nothing is fetched from the network: nbconvert's require.js, MathJax, mermaid and widget CDN scripts are dropped, and the
stylesheet is one local file (book.css). Display math shows as its TeX source unless `--mathjax DIR` names a local
MathJax 2 folder (Debian's libjs-mathjax: /usr/share/javascript/mathjax), which is then copied in and typesets it.
"""
import argparse, configparser, html, json, os, re, shutil, sys, time, urllib.parse
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

# jsonschema (nbformat's validator) imports rfc3987_syntax when present, which compiles 38 lark grammars: seconds per
# process, for an IRI format check that reading notebooks never makes. jsonschema imports it under suppress(ImportError).
sys.modules.setdefault('rfc3987_syntax', None)
import nbformat                                                      # noqa: E402
from jinja2 import DictLoader                                        # noqa: E402
from nbconvert import HTMLExporter                                   # noqa: E402
from nbconvert.exporters.templateexporter import TemplateExporter    # noqa: E402
from nbconvert.filters.highlight import Highlight2HTML               # noqa: E402
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter  # noqa: E402

SKIP = re.compile(r'^[_.]')            # as nbdev's nbglob: notebooks starting with _ or . are not part of the docs
PREFIX = re.compile(r'^\d+_')          # 04_fastpath -> fastpath
DIRECTIVE = re.compile(r'^\s*#\|\s*([\w-]+)\s*:?\s*(.*?)\s*$')   # '#| hide', '#| echo: false', '#| default_exp x'
HIDE_LINE = re.compile(r'#\|\s*hide_line\s*$')
EXTERNAL = re.compile(r'^(?:[a-zA-Z][\w+.-]*:|//)')   # any scheme (https:, mailto:, data:) or protocol-relative

TEMPLATE = r"""{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_js_mathjax -%}
{%- if resources.book_mathjax -%}
<script type="text/x-mathjax-config">
MathJax.Hub.Config({tex2jax: {inlineMath: [['$','$'], ['\\(','\\)']], displayMath: [['$$','$$'], ['\\[','\\]']],
  processEscapes: true, processEnvironments: true}, messageStyle: 'none', showMathMenu: false,
  TeX: {noErrors: {disabled: true}, noUndefined: {disabled: true}},   // a TeX error shows as one (merror), not as TeX
  "CommonHTML": {linebreaks: {automatic: true}}});
</script>
<script src="mathjax/MathJax.js?config=TeX-AMS_CHTML"></script>
{%- endif -%}
{%- endblock html_head_js_mathjax -%}
{% block notebook_css %}<link rel="stylesheet" href="book.css">{% endblock notebook_css %}
{% block input %}
<div class="jp-CodeMirrorEditor jp-Editor jp-InputArea-editor" data-type="inline">
     <div class="cm-editor cm-s-jupyter">
{{ cell.source | highlight_code(metadata=cell.metadata) }}
     </div>
</div>
{%- endblock input %}
{%- block body_header -%}
<body class="jp-Notebook book" data-jp-theme-light="true" data-jp-theme-name="JupyterLab Light">
<!--BOOK-SIDEBAR-->
<main>
{%- endblock body_header -%}
"""

BOOK_CSS = """
/* what the lab template's own <style> says */
* { -webkit-print-color-adjust: exact; }
a.anchor-link { display: none; }
.jp-InputArea { overflow: hidden; }
.cm-editor.cm-s-jupyter .highlight pre { padding: var(--jp-code-padding) 4px; margin: 0; font-family: inherit;
  font-size: inherit; line-height: inherit; color: inherit; }
.jp-OutputArea-output pre { line-height: inherit; font-family: inherit; }
.jp-RenderedText pre { color: var(--jp-content-font-color1); font-size: var(--jp-code-font-size); }
.jp-Collapser { display: none; }
@page { margin: 0.5in; }
@media print { .jp-Cell-inputWrapper, .jp-Cell-outputWrapper { display: block; } }
/* long code lines scroll rather than vanish; markdown code blocks set apart */
.jp-InputArea-editor { overflow-x: auto; }
.jp-RenderedMarkdown pre { background: var(--jp-cell-editor-background, #f5f5f5); padding: .5em .7em; overflow-x: auto;
  border: 1px solid var(--jp-cell-editor-border-color, #e0e0e0); border-radius: 2px; }
/* the book's layout: a fixed contents sidebar, the notebook beside it */
body.book { margin: 0; padding: 0; overflow: visible; }
body.book > main { margin-left: 18rem; padding: 1.5rem 2.5rem 4rem; max-width: 64rem; }
.book-sidebar { position: fixed; top: 0; left: 0; bottom: 0; width: 16rem; overflow-y: auto; padding: 1rem;
  background: #f6f7f9; border-right: 1px solid #dde1e6; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
.book-sidebar .book-name { font-size: 1.15rem; font-weight: 700; margin: 0 0 .75rem; }
.book-sidebar a { color: #1a56a6; text-decoration: none; }
.book-sidebar a:hover { text-decoration: underline; }
.book-sidebar ol, .book-sidebar ul { margin: 0; padding-left: 1.1rem; }
.book-sidebar li { margin: .2rem 0; }
.book-sidebar a[aria-current="page"] { font-weight: 700; color: #111; }
.book-sidebar li.current { background: #e3e9f2; border-radius: 4px; margin-left: -.3rem; padding: .15rem .3rem; }
.book-sidebar ul.book-sections { font-size: 13px; padding-left: .9rem; margin-top: .2rem; }
.book-sidebar code { font-size: 12.5px; }
.jp-RenderedMarkdown h1:hover > a.anchor-link, .jp-RenderedMarkdown h2:hover > a.anchor-link,
.jp-RenderedMarkdown h3:hover > a.anchor-link { display: inline; margin-left: .3em; color: #999; text-decoration: none; }
.book-tex { display: block; overflow-x: auto; margin: .5em 0 .5em 1.5em; white-space: pre-wrap; color: #333; }
@media (max-width: 900px) {
  .book-sidebar { position: static; width: auto; border-right: none; border-bottom: 1px solid #dde1e6; }
  body.book > main { margin-left: 0; padding: 1rem; }
}
"""


def settings(root):
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(root/'settings.ini')
    return dict(cfg['DEFAULT'])


def site_url(cfg):
    "Where nbdev publishes the docs (doc_host + doc_baseurl): links to it are links to these pages."
    host = cfg.get('doc_host', '').rstrip('/')
    return (host + '/' + cfg.get('doc_baseurl', '').strip('/')).rstrip('/') + '/' if host else '\0'


def page_name(nb_path):
    return 'index.html' if nb_path.stem == 'index' else PREFIX.sub('', nb_path.stem) + '.html'


def notebook_title(nb):
    "The notebook's first markdown `# heading` (not a comment in a fenced code block), or None."
    for cell in nb['cells']:
        if cell['cell_type'] != 'markdown': continue
        fenced = False
        for line in ''.join(cell['source']).splitlines():
            if re.match(r'\s*(```|~~~)', line): fenced = not fenced
            elif not fenced and re.match(r'#\s+\S', line): return line[1:].strip()
    return None


def inline_html(md):
    "A heading's markdown as HTML: escaped, `code` spans kept."
    return re.sub(r'`([^`]+)`', r'<code>\1</code>', html.escape(md, quote=False))


def plain(md): return md.replace('`', '')   # a heading's markdown as a <title>


def find_notebooks(nbs):
    found = sorted(p for p in nbs.glob('*.ipynb') if not SKIP.match(p.name))
    if not any(p.name == 'index.ipynb' for p in found): sys.exit(f"book: no index.ipynb in {nbs}: it becomes index.html")
    found.sort(key=lambda p: p.name != 'index.ipynb')   # index first, then file order
    pages = {}
    for p in found:
        name = page_name(p)
        if name in pages:
            sys.exit(f"book: {pages[name].name} and {p.name} would both be {name}: rename one of them")
        pages[name] = p
    return [(p, name) for name, p in pages.items()]


def directives(source):
    "Split a code cell's source into its leading nbdev directives ({name: value}) and the code shown."
    lines, found = source.splitlines(), {}
    while lines and (m := DIRECTIVE.match(lines[0])):
        found[m.group(1).lower()] = (m.group(2) or '').strip().lower()
        lines.pop(0)
    lines = [l for l in lines if not HIDE_LINE.search(l)]
    while lines and not lines[0].strip(): lines.pop(0)
    return found, '\n'.join(lines).rstrip()


QUARTO_LINK = re.compile(r'\[([^\]]*)\]\(([^)\s]+)\)\{((?:\s*[\w-]+="[^"]*")+)\s*\}')


def quarto_links(md):
    """Quarto's link attributes (`[source](url){target="_blank" style="..."}`, as show_doc writes them) as an HTML link."""
    return QUARTO_LINK.sub(lambda m: f'<a href="{html.escape(m.group(2))}" {m.group(3).strip()}>{m.group(1)}</a>', md)


def apply_directives(nb):
    "What nbdev shows of a notebook: hidden cells out, directive lines out, echo/output switches applied."
    kept = []
    for cell in nb.cells:
        if cell.cell_type == 'raw': continue    # nbdev frontmatter and the like
        if cell.cell_type == 'code':
            found, cell.source = directives(cell.source)
            if 'hide' in found or found.get('include') == 'false': continue
            for out in cell.get('outputs', []):
                if 'text/markdown' in out.get('data', {}): out['data']['text/markdown'] = quarto_links(out['data']['text/markdown'])
            if found.get('output') == 'false': cell.outputs = []
            if found.get('echo') == 'false': cell.metadata['transient'] = {'remove_source': True}
            if not cell.source and not cell.outputs: continue
        kept.append(cell)
    nb.cells = kept
    return nb


def slug(text):
    "Pandoc's (so Quarto's and nbdev's) automatic identifier for a heading."
    s = re.sub(r'[^\w\s.-]', '', text).strip().lower()
    s = re.sub(r'\s+', '-', s)
    s = re.sub(r'^[^a-z\u00c0-\uffff]+', '', s)
    return s or 'section'


def loose(anchor):
    "What two spellings of one heading's anchor share: its letters and digits, lowercased."
    return re.sub(r'[\W_]', '', urllib.parse.unquote(anchor)).lower()


def sidebar(book_name, entries, current, sections):
    items = []
    for name, title in entries:
        if name == current:
            subs = ''.join(f'<li><a href="#{html.escape(i)}">{html.escape(t)}</a></li>' for i, t in sections)
            subs = f'<ul class="book-sections">{subs}</ul>' if subs else ''
            items.append(f'<li class="current"><a href="{name}" aria-current="page">{title}</a>{subs}</li>')
        else: items.append(f'<li><a href="{name}">{title}</a></li>')
    return (f'<nav class="book-sidebar" aria-label="Contents"><div class="book-name"><a href="index.html">'
            f'{html.escape(book_name)}</a></div><ol class="book-toc">{"".join(items)}</ol></nav>')


class BookExporter(HTMLExporter):
    """nbconvert's lab HTML, less the BeautifulSoup pass HTMLExporter ends with (alt texts, tabindex): a second of parsing
    per notebook that the regular expressions below make unnecessary."""
    def from_notebook_node(self, nb, resources=None, **kw):
        lang = nb.metadata.get('language_info', {})
        self.register_filter('highlight_code', Highlight2HTML(pygments_lexer=lang.get('pygments_lexer', lang.get('name')),
                                                              parent=self))
        resources = self._init_resources(resources)
        self.register_filter('filter_data_type', WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self,
                                                                       resources=resources))
        return TemplateExporter.from_notebook_node(self, nb, resources, **kw)


HEADING = re.compile(r'<h([1-6])((?:\s[^>]*)?)>(.*?)</h\1>', re.S)
ANCHOR_LINK = re.compile(r'<a class="anchor-link" href="[^"]*">.*?</a>', re.S)
CELL_START = re.compile(r'<div\b[^>]*class="jp-Cell jp-(Markdown|Code)Cell')
OTHER_ID = re.compile(r'<(?!h[1-6]\b)[a-zA-Z][\w-]*\b[^>]*?\sid="([^"]*)"')
LINK = re.compile(r'(<(?:a|img)\b[^>]*?\s(?:href|src)=")([^"]*)(")')
DISPLAY_MATH = re.compile(r'<p>(\$\$(?:(?!</?p>).)+?\$\$)</p>', re.S)


def render(job):
    "Render one notebook. Local link targets become tokens, resolved once every page's ids are known."
    nb_path, name, title, entries, book_name, site, mathjax = job
    nb = apply_directives(nbformat.read(nb_path, as_version=4))
    exporter = BookExporter(template_name='lab', template_file='book.html.j2', theme='light',
                            extra_loaders=[DictLoader({'book.html.j2': TEMPLATE})],
                            exclude_input_prompt=True, exclude_output_prompt=True)
    page, _ = exporter.from_notebook_node(nb, resources={'book_mathjax': mathjax})
    used = set(OTHER_ID.findall(page))
    cells = [(m.start(), m.group(1)) for m in CELL_START.finditer(page)]
    sections = []

    def heading(m):   # Pandoc ids, unique on the page; the pilcrow link follows; a markdown cell's ## is a section
        level, attrs, inner = m.groups()
        text = html.unescape(re.sub(r'<[^>]+>', '', ANCHOR_LINK.sub('', inner))).strip()
        base = new = slug(text)
        n = 0
        while new in used: n += 1; new = f'{base}-{n}'
        used.add(new)
        inner = ANCHOR_LINK.sub(lambda a: f'<a class="anchor-link" href="#{new}">¶</a>', inner)
        cell = next((kind for pos, kind in reversed(cells) if pos < m.start()), None)
        if level == '2' and cell == 'Markdown': sections.append((new, text))
        attrs = re.sub(r'\s+id="[^"]*"', '', attrs)
        return f'<h{level} id="{new}"{attrs}>{inner}</h{level}>'
    page = HEADING.sub(heading, page)
    if not mathjax: page = DISPLAY_MATH.sub(r'<code class="book-tex">\1</code>', page)   # shown as TeX source
    links = []

    def link(m):   # anything relative, or on the docs site: a token (the headings' own pilcrow links are right already)
        if m.group(1).startswith('<a class="anchor-link"'): return m.group(0)
        target = html.unescape(m.group(2))
        if EXTERNAL.match(target) and not target.startswith(site): return m.group(0)
        links.append(target)
        return f'{m.group(1)}@@BOOKLINK{len(links) - 1}@@{m.group(3)}'
    page = LINK.sub(link, page)
    page = re.sub(r'<img\b(?![^>]*\salt=)', '<img alt="a figure from the notebook"', page)
    shown = plain(title) if name == 'index.html' else f'{plain(title)} – {book_name}'
    page = re.sub(r'<title>.*?</title>', lambda m: f'<title>{html.escape(shown)}</title>', page, count=1, flags=re.S)
    page = page.replace('<!--BOOK-SIDEBAR-->', sidebar(book_name, entries, name, sections), 1)
    return name, page, links, sorted(used)


def render_or_say(job):
    "render, or a line naming the notebook that could not be rendered and why"
    try: return render(job)
    except Exception as e: return f"book: could not render {job[0].name}: {type(e).__name__}: {e}"


class Resolver:
    "Local link targets -> the page, anchor or copied file they mean in OUT."
    def __init__(self, root, nbs, out, pages, ids, cfg):
        self.root, self.nbs, self.out, self.ids = root.resolve(), nbs.resolve(), out, ids
        self.by_path = {p.resolve(): name for p, name in pages}
        self.by_stem = {p.stem + '.html': name for p, name in pages}
        self.site = site_url(cfg)
        self.git = cfg.get('git_url', '').rstrip('/'), cfg.get('branch', 'main')
        self.problems, self.copied, self.local = [], set(), 0

    def anchor(self, page, frag, where):
        if not frag: return ''
        ids = self.ids[page]
        if frag in ids: return '#' + frag
        match = [i for i in ids if loose(i) == loose(frag)]
        if len(match) == 1: return '#' + match[0]
        self.problems.append(f"{where}: no heading '#{frag}' on {page}")
        return '#' + frag

    def __call__(self, target, page, where):
        if target.startswith(self.site): target = target[len(self.site):]
        elif EXTERNAL.match(target): return target
        self.local += 1
        path, _, frag = target.partition('#')
        path = urllib.parse.unquote(path.split('?')[0])
        if not path: return self.anchor(page, frag, where)
        if path.startswith('/'): path = path.lstrip('/')
        for base in (self.nbs, self.root):   # written relative to the notebook, or to the repo root
            p = (base/path).resolve()
            if p in self.by_path: return self.by_path[p] + self.anchor(self.by_path[p], frag, where)
        name = Path(path).name
        if name in self.ids or name in self.by_stem:   # fastpath.html, 04_fastpath.html
            page_to = name if name in self.ids else self.by_stem[name]
            return page_to + self.anchor(page_to, frag, where)
        for base in (self.nbs, self.root):
            p = (base/path).resolve()
            if not p.is_relative_to(self.root) or not p.exists(): continue
            if p.is_dir():
                return f'{self.git[0]}/tree/{self.git[1]}/{p.relative_to(self.root).as_posix()}'
            rel = p.relative_to(self.nbs) if p.is_relative_to(self.nbs) else Path('repo')/p.relative_to(self.root)
            dest = self.out/rel
            if rel not in self.copied:
                dest.parent.mkdir(parents=True, exist_ok=True); shutil.copy2(p, dest); self.copied.add(rel)
            return urllib.parse.quote(rel.as_posix()) + ('#' + frag if frag else '')
        self.problems.append(f"{where}: '{target}' is no notebook, page or file in the repository")
        return target


def copy_mathjax(src, out):
    "The parts of a MathJax 2 folder that TeX-AMS_CHTML needs (the unpacked sources and other fonts stay out)."
    src = Path(src)
    if not (src/'MathJax.js').exists(): sys.exit(f"book: --mathjax {src}: no MathJax.js there (a MathJax 2 folder?)")
    for part in ('MathJax.js', 'config/TeX-AMS_CHTML.js', 'extensions', 'jax/element', 'jax/input/TeX', 'jax/output/CommonHTML',
                 'fonts/HTML-CSS/TeX/woff', 'localization/en'):
        s, d = src/part, out/'mathjax'/part
        if s.is_dir(): shutil.copytree(s, d, dirs_exist_ok=True)
        elif s.exists(): d.parent.mkdir(parents=True, exist_ok=True); shutil.copy2(s, d)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('out', type=Path)
    ap.add_argument('--root', type=Path, default=Path(__file__).resolve().parent.parent, help='the repository')
    ap.add_argument('--mathjax', help='a local MathJax 2 folder to typeset math with (copied in)')
    ap.add_argument('--jobs', type=int, default=min(8, os.cpu_count() or 1))
    args = ap.parse_args(argv)
    start = time.perf_counter()
    root, cfg = args.root.resolve(), settings(args.root.resolve())
    nbs, out = root/cfg.get('nbs_path', 'nbs'), args.out.resolve()
    book_name = cfg.get('title', cfg.get('lib_name', root.name))
    pages = find_notebooks(nbs)
    titles = {}
    for p, name in pages:
        try: t = notebook_title(json.loads(p.read_text(encoding='utf-8')))
        except (ValueError, KeyError) as e: sys.exit(f"book: {p.name} is not a notebook: {e}")
        if t is None: print(f"book: warning: {p.name} has no '# heading'; titled by its file name", file=sys.stderr)
        titles[name] = t or p.stem
    entries = [(name, inline_html(titles[name])) for _, name in pages]
    if out.exists(): shutil.rmtree(out)
    out.mkdir(parents=True)
    jobs = [(p, name, titles[name], entries, book_name, site_url(cfg), bool(args.mathjax)) for p, name in pages]
    with ProcessPoolExecutor(max_workers=max(1, min(args.jobs, len(jobs)))) as pool:
        rendered = list(pool.map(render_or_say, jobs))
    failed = [r for r in rendered if isinstance(r, str)]
    if failed: sys.exit('\n'.join(failed))
    resolve = Resolver(root, nbs, out, pages, {name: set(ids) for name, _, _, ids in rendered}, cfg)
    n_images, source = 0, {name: p.name for p, name in pages}
    for name, text, links, _ in rendered:
        resolved = [html.escape(resolve(t, name, source[name])) for t in links]
        text = re.sub(r'@@BOOKLINK(\d+)@@', lambda m: resolved[int(m.group(1))], text)
        n_images += text.count('<img ')
        (out/name).write_text(text, encoding='utf-8')
    from jupyter_core.paths import jupyter_path   # the lab template's CSS, where nbconvert finds its templates
    css_dir = next((Path(d)/'nbconvert/templates/lab/static' for d in jupyter_path()
                    if (Path(d)/'nbconvert/templates/lab/static/index.css').exists()), None)
    if css_dir is None: sys.exit("book: nbconvert's lab template (static/index.css) is not installed")
    (out/'book.css').write_text((css_dir/'index.css').read_text(encoding='utf-8') + '\n'
                                + (css_dir/'theme-light.css').read_text(encoding='utf-8') + BOOK_CSS, encoding='utf-8')
    if args.mathjax: copy_mathjax(args.mathjax, out)
    for problem in resolve.problems: print(f"book: unresolved link: {problem}", file=sys.stderr, flush=True)
    print(f"book: {len(pages)} pages, {n_images} images, {resolve.local} links to the book or the repository, {len(resolve.copied)} files copied "
          f"into {out} in {time.perf_counter() - start:.1f} s")
    return 1 if resolve.problems else 0


if __name__ == '__main__':
    sys.exit(main())
