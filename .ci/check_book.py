"""Open every page of a built book in headless Chromium and check that it reads: no JavaScript exception, no console
error, no failed load, no request leaving the machine, every <img> decoded (complete, naturalWidth > 0), no MathJax
error, every local link resolving to a file of the book and every #anchor to an element id (or <a name>) on its page.

Usage: python .ci/check_book.py BOOK_DIR      check a book built by .ci/book.py
       python .ci/check_book.py --self-test   show that the check fails: a page with a missing image, a corrupt
                                              embedded image, broken links and anchors, a JavaScript exception, a
                                              console error, a CDN script and a MathJax error must each be reported,
                                              a clean page not

It drives Chromium over the DevTools protocol (websocket-client, which jupyter_server, so jupyterlab, depends on). The
browser is `chromium` on PATH, or $CHROMIUM; host names resolve to nothing, so no page can reach the network.
"""
import base64, json, os, shutil, subprocess, sys, tempfile, time, urllib.parse
from pathlib import Path

import websocket   # websocket-client

PAGE_TIMEOUT = 30   # seconds for one page to load and be inspected
INSPECT = r"""(async () => {
  const imgs = [...document.images];
  await Promise.all(imgs.filter(i => !i.complete).map(i => new Promise(r => {
    i.addEventListener('load', r); i.addEventListener('error', r); })));
  if (window.MathJax && MathJax.Hub) await new Promise(r => MathJax.Hub.Queue(r));   // math typeset (or failed)
  await new Promise(r => setTimeout(r, 150));   // errors thrown just after load still count
  return {
    images: imgs.map(i => ({src: (i.getAttribute('src') || '').slice(0, 80), complete: i.complete, width: i.naturalWidth})),
    ids: [...document.querySelectorAll('[id]')].map(e => e.id).concat([...document.querySelectorAll('a[name]')].map(e => e.name)),
    links: [...document.querySelectorAll('a[href], area[href]')].map(a => ({raw: a.getAttribute('href'), url: a.href})),
    title: document.title,
    mathErrors: [...document.querySelectorAll('.MathJax_Error, .mjx-merror, mjx-merror, .mjx-noError')].length
      + (document.body.innerText.match(/Math Processing Error/g) || []).length,
  };
})()"""


def chromium_path():
    exe = os.environ.get('CHROMIUM') or next(filter(None, map(shutil.which, ('chromium', 'chromium-browser',
                                                                             'google-chrome'))), None)
    if not exe: sys.exit("check_book: no Chromium: install Debian's 'chromium' package (apt-get install -y chromium) "
                         "or set $CHROMIUM")
    return exe


class Browser:
    "Headless Chromium and one DevTools websocket to it; each page gets its own tab (a flat session)."
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix='check_book.')
        self.log = open(Path(self.dir)/'chromium.log', 'w+')
        self.proc = subprocess.Popen(
            [chromium_path(), '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
             '--no-default-browser-check', '--disable-extensions', '--disable-background-networking', '--disable-sync',
             '--disable-component-update', '--host-resolver-rules=MAP * ~NOTFOUND', '--remote-debugging-port=0',
             f'--user-data-dir={self.dir}/profile', 'about:blank'], stdout=self.log, stderr=subprocess.STDOUT)
        port_file, deadline = Path(self.dir)/'profile/DevToolsActivePort', time.time() + 60
        while not (port_file.exists() and len(port_file.read_text().split()) >= 2):
            if self.proc.poll() is not None or time.time() > deadline:
                self.log.seek(0)
                self.close()
                sys.exit(f"check_book: Chromium did not start (exit {self.proc.returncode}):\n{self.log.read()[-2000:]}")
            time.sleep(0.1)
        port, path = port_file.read_text().split()[:2]
        self.ws = websocket.create_connection(f'ws://127.0.0.1:{port}{path}', timeout=PAGE_TIMEOUT, suppress_origin=True)
        self.n, self.events = 0, []

    def send(self, method, session=None, **params):
        self.n += 1
        msg = {'id': self.n, 'method': method, 'params': params} | ({'sessionId': session} if session else {})
        self.ws.send(json.dumps(msg))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get('id') == self.n:
                if 'error' in reply: raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get('result', {})
            self.events.append(reply)

    def wait_for(self, method, session, timeout):
        deadline = time.time() + timeout
        while True:
            if any(e.get('method') == method and e.get('sessionId') == session for e in self.events): return True
            left = deadline - time.time()
            if left <= 0: return False
            self.ws.settimeout(left)
            try: self.events.append(json.loads(self.ws.recv()))
            except websocket.WebSocketTimeoutException: return False
            finally: self.ws.settimeout(PAGE_TIMEOUT)

    def visit(self, url):
        "Load url in a fresh tab; return (what the page says of itself, the problems the browser reported)."
        target = self.send('Target.createTarget', url='about:blank')['targetId']
        session = self.send('Target.attachToTarget', targetId=target, flatten=True)['sessionId']
        for domain in ('Page', 'Runtime', 'Log', 'Network'): self.send(f'{domain}.enable', session)
        self.events = [e for e in self.events if e.get('sessionId') != session]
        self.send('Page.navigate', session, url=url)
        problems = [] if self.wait_for('Page.loadEventFired', session, PAGE_TIMEOUT) else [f'did not load in {PAGE_TIMEOUT} s']
        found = self.send('Runtime.evaluate', session, expression=INSPECT, awaitPromise=True,
                          returnByValue=True)['result'].get('value') or {}
        self.wait_for('never', session, 0.05)   # collect the events already sent
        requests = {}
        for e in (e for e in self.events if e.get('sessionId') == session):
            m, p = e['method'], e.get('params', {})
            if m == 'Runtime.exceptionThrown':
                d = p['exceptionDetails']
                problems.append(f"JavaScript error: {d.get('exception', {}).get('description') or d.get('text')}")
            elif m == 'Runtime.consoleAPICalled' and p['type'] in ('error', 'assert'):
                problems.append('console.error: ' + ' '.join(str(a.get('value', a.get('description', ''))) for a in p['args']))
            elif m == 'Log.entryAdded' and p['entry']['level'] == 'error':
                problems.append(f"console error: {p['entry']['text']} {p['entry'].get('url', '')}".strip())
            elif m == 'Network.requestWillBeSent':
                requests[p['requestId']] = u = p['request']['url']
                if urllib.parse.urlsplit(u).scheme not in ('file', 'data', 'about', 'blob'):
                    problems.append(f'fetches from the network: {u}')
            elif m == 'Network.loadingFailed' and not p.get('canceled'):
                problems.append(f"failed to load {requests.get(p['requestId'], '?')[:120]}: {p['errorText']}")
            elif m == 'Page.javascriptDialogOpening':
                problems.append(f"opens a dialog: {p.get('message')}")
                self.send('Page.handleJavaScriptDialog', session, accept=True)
        self.events = [e for e in self.events if e.get('sessionId') != session]
        self.send('Target.closeTarget', targetId=target)
        return found, problems

    def close(self):
        if getattr(self, 'ws', None): self.ws.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try: self.proc.wait(10)
            except subprocess.TimeoutExpired: self.proc.kill(); self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def check(book):
    "Every page of the book in the browser; returns ({page: [problems]}, counts)."
    book = Path(book).resolve()
    pages = sorted(p for p in book.rglob('*.html') if 'mathjax' not in p.relative_to(book).parts)
    if not pages: sys.exit(f"check_book: no .html pages in {book}")
    problems, found, browser = {}, {}, Browser()
    try:
        for page in pages:
            rel = page.relative_to(book).as_posix()
            found[page], problems[rel] = browser.visit(page.as_uri())
    finally: browser.close()
    counts = dict(pages=len(pages), images=0, local_links=0, anchors=0, external_links=0)
    for page, info in found.items():
        rel = page.relative_to(book).as_posix()
        if info.get('mathErrors'): problems[rel].append(f"MathJax errors: {info['mathErrors']} formulas not typeset")
        for img in info.get('images', []):
            counts['images'] += 1
            if not (img['complete'] and img['width'] > 0):
                problems[rel].append(f"image not shown (complete={img['complete']}, naturalWidth={img['width']}): "
                                     f"{img['src']}")
        for link in info.get('links', []):
            url = urllib.parse.urlsplit(link['url'])
            if url.scheme in ('http', 'https', 'mailto'): counts['external_links'] += 1; continue
            if url.scheme != 'file': problems[rel].append(f"link of an unexpected kind: {link['raw']}"); continue
            counts['local_links'] += 1
            target = Path(urllib.parse.unquote(url.path))
            if not target.resolve().is_relative_to(book):
                problems[rel].append(f"link leaves the book: {link['raw']}"); continue
            if not target.is_file(): problems[rel].append(f"broken link: {link['raw']} (no file {target})"); continue
            if url.fragment:
                counts['anchors'] += 1
                ids = set(found.get(target.resolve(), {}).get('ids', ()))
                if urllib.parse.unquote(url.fragment) not in ids:
                    problems[rel].append(f"broken anchor: {link['raw']} (no id '{urllib.parse.unquote(url.fragment)}' "
                                         f"on {target.name})")
    return problems, counts


PNG_1x1 = base64.b64decode('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==')
TRUNCATED_PNG = base64.b64encode(PNG_1x1[:33]).decode()   # valid base64 and a PNG signature, but not an image
PLANTED = {   # what the broken page does -> what one line of the report must say (every part of it)
    '<img src="missing.png" alt="a missing file">': ('image not shown', 'missing.png'),
    f'<img src="data:image/png;base64,{TRUNCATED_PNG}" alt="a corrupt embedded PNG">':
        ('image not shown', TRUNCATED_PNG[:40]),
    '<a href="nowhere.html">a missing page</a>': ('broken link: nowhere.html',),
    '<a href="good.html#no-such-heading">a missing anchor</a>': ("no id 'no-such-heading' on good.html",),
    '<a href="#not-here">a missing anchor on this page</a>': ("no id 'not-here' on bad.html",),
    "<script>throw new Error('planted exception')</script>": ('JavaScript error', 'planted exception'),
    "<script>console.error('planted console error')</script>": ('console.error', 'planted console error'),
    '<script src="https://cdn.example.com/lib.js"></script>': ('fetches from the network', 'cdn.example.com/lib.js'),
    '<span class="mjx-merror">\\frac{1}{</span>': ('MathJax errors',),   # what MathJax 2 (CommonHTML) makes of bad TeX
}


def self_test():
    "The check must report every planted fault on bad.html and nothing on good.html."
    with tempfile.TemporaryDirectory(prefix='check_book_selftest.') as d:
        d = Path(d)
        (d/'ok.png').write_bytes(PNG_1x1)
        b64 = base64.b64encode(PNG_1x1).decode()
        (d/'good.html').write_text(
            f'<!DOCTYPE html><html><head><title>good</title></head><body><h2 id="here">here</h2>'
            f'<img src="ok.png" alt="a file"><img src="data:image/png;base64,{b64}" alt="embedded">'
            f'<a href="bad.html">bad</a> <a href="#here">here</a> <a href="ok.png">file</a> '
            f'<a href="https://example.com/">external, not followed</a></body></html>')
        (d/'bad.html').write_text('<!DOCTYPE html><html><head><title>bad</title></head><body>'
                                  + '\n'.join(PLANTED) + '</body></html>')
        problems, counts = check(d)
    missed = [fault for fault, says in PLANTED.items()
              if not any(all(part in p for part in says) for p in problems['bad.html'])]
    for p in problems['bad.html']: print(f'  bad.html: {p}')
    ok = not missed and not problems['good.html']
    for fault in missed: print(f'self-test FAILED: the check did not report {fault}')
    for p in problems['good.html']: print(f'self-test FAILED: a problem reported on the clean page: {p}')
    if ok: print(f'check_book self-test: all {len(PLANTED)} planted faults reported on bad.html, none on good.html')
    return 0 if ok else 1


def main(argv):
    if argv[1:] == ['--self-test']: return self_test()
    if len(argv) != 2 or argv[1].startswith('-'): sys.exit(__doc__)
    start = time.perf_counter()
    problems, c = check(argv[1])
    bad = {page: ps for page, ps in problems.items() if ps}
    for page, ps in bad.items():
        for p in ps: print(f'{page}: {p}')
    print(f"check_book: {c['pages']} pages, {c['images']} images, {c['local_links']} local links "
          f"({c['anchors']} with #anchors), {c['external_links']} external links (not followed) in "
          f"{time.perf_counter() - start:.1f} s: "
          + (f"{sum(map(len, bad.values()))} problems on {len(bad)} pages" if bad else 'no problems'))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
