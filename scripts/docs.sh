#!/usr/bin/env bash
# scripts/docs.sh - build the documentation site and check it in a browser.
#
# Usage: bash scripts/docs.sh [--no-browser]
#
# 1. antsibull-docs (2.28, from requirements-test.txt) validates the plugins'
#    and roles' documentation (lint-collection-docs) and writes the reference
#    pages (modules, inventory plugin, roles, indexes) from the collection's
#    own documentation into .build/docs/rst - generated, never committed.
#    The event source plugins (extensions/eda/, which antsibull-docs does not
#    read) get their pages from their own DOCUMENTATION and EXAMPLES through
#    docs/site/eda_plugin_docs.py.
# 2. The hand-written guides, docs/guides/*.md (MyST markdown), and the site's
#    front page docs/site/index.rst join them.
# 3. Sphinx builds .build/docs/html with warnings as errors (-W), nitpicky:
#    every reference must resolve. The build is offline: references to
#    Ansible's own docs are linked by docs/site/_ext/sysvirt_ansible_refs.py
#    instead of being downloaded through intersphinx.
# 4. Every local link and asset of every built page must exist.
# 5. Debian's chromium (installed with apt-get when missing), headless, loads
#    the index and the domain module page (--dump-dom) and screenshots the
#    module page; the check fails when the index lacks the guides and the
#    module list, or the module page lacks its parameter table, examples and
#    return values, or the screenshot is blank.
# Logs: .build/test-logs/docs*.log; site: .build/docs/html/index.html
set -euo pipefail

# shellcheck source=scripts/_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"
sysvirt_env

browser=1
[ "${1:-}" = --no-browser ] && browser=0

log() { printf 'docs.sh: %s\n' "$*" >&2; }
die() { printf 'docs.sh: FAILED: %s\n' "$*" >&2; exit 1; }

# The docs tools come with requirements-test.txt; an older venv gets them here, pinned.
if ! "$VENV/bin/python" -c 'import antsibull_docs, sphinx, sphinx_ansible_theme, myst_parser, ansible_pygments' 2>/dev/null; then
    log "installing the docs tools into $VENV"
    "$VENV/bin/python" -m pip install --disable-pip-version-check --quiet \
        antsibull-docs sphinx sphinx-ansible-theme myst-parser ansible-pygments -c "$REPO/constraints.txt" >&2
fi

out=$REPO/.build/docs
logs=$REPO/.build/test-logs
mkdir -p "$logs"
rm -rf "$out"
# antsibull-docs insists on directories only their owner can write to.
mkdir -p "$out/rst"
chmod 0700 "$out" "$out/rst"
cd "$REPO"

log "antsibull-docs lint-collection-docs (plugins and roles)"
antsibull-docs lint-collection-docs --plugin-docs --skip-rstcheck . >"$logs/docs-lint.log" 2>&1 \
    || { cat "$logs/docs-lint.log" >&2; die "the collection's documentation does not validate"; }

log "antsibull-docs sphinx-init + collection -> $out/rst"
antsibull-docs sphinx-init --use-current --fail-on-error --dest-dir "$out" \
    --project sysvirt.libvirt --copyright 'sysvirt developers' \
    --title 'sysvirt.libvirt documentation' --html-short-title sysvirt.libvirt \
    --index-rst-source "$REPO/docs/site/index.rst" \
    sysvirt.libvirt >"$logs/docs-init.log" 2>&1 || { cat "$logs/docs-init.log" >&2; die "sphinx-init failed"; }
antsibull-docs --config-file "$out/antsibull-docs.cfg" collection --use-current --fail-on-error \
    --dest-dir "$out/rst" sysvirt.libvirt >"$logs/docs-collection.log" 2>&1 \
    || { cat "$logs/docs-collection.log" >&2; die "antsibull-docs collection failed"; }
if grep -iE 'warning|error' "$logs/docs-collection.log" >&2; then
    die "antsibull-docs reported problems (above)"
fi
cp "$REPO/docs/site/index.rst" "$out/rst/index.rst"
# Event-Driven Ansible plugins (extensions/eda/): antsibull-docs does not read them; their pages come from their
# own DOCUMENTATION and EXAMPLES, checked and rendered the same way (docs/site/eda_plugin_docs.py).
log "event source plugins (extensions/eda) -> $out/rst"
python "$REPO/docs/site/eda_plugin_docs.py" "$REPO" "$out/rst" >"$logs/docs-eda.log" 2>&1 \
    || { cat "$logs/docs-eda.log" >&2; die "the event source plugins' documentation does not validate"; }
mkdir -p "$out/rst/guides"
guides=("$REPO"/docs/guides/*.md)
[ -e "${guides[0]}" ] || die "no guides in docs/guides/*.md"
cp "${guides[@]}" "$out/rst/guides/"

# Offline, and markdown guides.
cat >>"$out/conf.py" <<PY

# --- added by scripts/docs.sh ---
import sys as _sys
_sys.path.insert(0, '$REPO/docs/site/_ext')
intersphinx_mapping = {}
extensions = [e for e in extensions if e != 'sphinx.ext.intersphinx'] + ['myst_parser', 'sysvirt_ansible_refs']
source_suffix = {'.rst': 'restructuredtext', '.md': 'markdown'}
myst_heading_anchors = 3
PY

log "sphinx-build (-W, nitpicky) -> $out/html"
if ! sphinx-build -b html -c "$out" -W --keep-going -q "$out/rst" "$out/html" >"$logs/docs-sphinx.log" 2>&1; then
    cat "$logs/docs-sphinx.log" >&2
    die "sphinx-build reported warnings or errors (above)"
fi
[ -s "$out/html/index.html" ] || die "no index.html was built"
log "built $(find "$out/html" -name '*.html' | wc -l) pages"

log "checking every local link and asset"
python - "$out/html" <<'PY' || die "broken local links (above)"
import html.parser, os, sys, urllib.parse
root = sys.argv[1]
class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(); self.refs = []
    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ('href', 'src') and v:
                self.refs.append(v)
bad = []
for d, _, files in os.walk(root):
    for f in files:
        if not f.endswith('.html'):
            continue
        page = os.path.join(d, f)
        p = P(); p.feed(open(page, encoding='utf-8').read())
        for ref in p.refs:
            u = urllib.parse.urlsplit(ref)
            if u.scheme or u.netloc or not u.path:
                continue
            target = os.path.normpath(os.path.join(d, urllib.parse.unquote(u.path)))
            if not os.path.exists(target):
                bad.append('%s -> %s' % (os.path.relpath(page, root), ref))
for b in bad:
    print('broken:', b)
sys.exit(1 if bad else 0)
PY

[ "$browser" = 1 ] || { log "site built (browser check skipped)"; exit 0; }

if ! command -v chromium >/dev/null; then
    log "installing Debian's chromium"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >"$logs/docs-apt.log" 2>&1 \
        || { apt-get update -q >>"$logs/docs-apt.log" 2>&1 \
             && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >>"$logs/docs-apt.log" 2>&1; } \
        || die "could not install chromium (see $logs/docs-apt.log)"
fi
profile=$(mktemp -d /tmp/sysvirt-docs-chromium.XXXXXX)
trap 'rm -rf "$profile"' EXIT
chrome() {
    timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$profile" "$@" 2>>"$logs/docs-chromium.log"
}
: >"$logs/docs-chromium.log"
index=$out/html/index.html
module=$out/html/collections/sysvirt/libvirt/domain_module.html
[ -f "$module" ] || die "no page for the domain module ($module)"
chrome --dump-dom "file://$index" >"$out/index.dom.html" || die "chromium could not load $index"
chrome --dump-dom "file://$module" >"$out/domain_module.dom.html" || die "chromium could not load $module"
chrome --window-size=1280,2000 --screenshot="$out/domain_module.png" "file://$module" >/dev/null \
    || die "chromium could not screenshot $module"

log "checking what chromium rendered"
python - "$out" <<'PY' || die "the rendered pages are broken (above)"
import os, re, struct, sys, zlib
out = sys.argv[1]
problems = []
def need(page, text, what):
    if not re.search(text, page):
        problems.append(what)
index = open(os.path.join(out, 'index.dom.html'), encoding='utf-8').read()
module = open(os.path.join(out, 'domain_module.dom.html'), encoding='utf-8').read()
need(index, r'<title>[^<]*sysvirt\.libvirt', 'index: title')
need(index, r'href="guides/getting-started\.html"', 'index: link to the getting started guide')
need(index, r'href="collections/sysvirt/libvirt/index\.html"', 'index: link to the collection index')
need(index, r'href="collections/sysvirt/libvirt/libvirt_events_event_source\.html"',
     'index: link to the libvirt_events event source page')
eda = open(os.path.join(out, 'html', 'collections', 'sysvirt', 'libvirt', 'libvirt_events_event_source.html'),
           encoding='utf-8').read()
for option in ('uris', 'kinds', 'current_state'):
    need(eda, r'id="ansible-collections-sysvirt-libvirt-libvirt-events-event-source-parameter-%s"'
         % option.replace('_', '-'), 'event source page: parameter %s' % option)
need(re.sub(r'<[^>]+>', '', eda), r'sysvirt\.libvirt\.libvirt_events:\s+uris:', 'event source page: the examples')
need(module, r'<h1>[^<]*sysvirt\.libvirt\.domain', 'module page: heading')
need(module, r'<table[^>]*>', 'module page: a table')
for option in ('xml', 'state', 'uri', 'remove_storage'):
    need(module, r'id="parameter-%s"' % option, 'module page: parameter table row for %s' % option)
need(module, r'id="return-domain"', 'module page: return value table row for domain')
need(module, r'id="examples"', 'module page: examples section')
module_text = re.sub(r'<[^>]+>', '', module)
need(module_text, r'sysvirt\.libvirt\.domain:\s+xml:', 'module page: example tasks')
# CSS loaded: the theme's stylesheet is referenced and exists
css = re.findall(r'href="([^"]+\.css)[^"]*"', module)
if not css:
    problems.append('module page: no stylesheet')
# the screenshot: a real PNG of the asked size, not one flat colour
png = open(os.path.join(out, 'domain_module.png'), 'rb').read()
if png[:8] != b'\x89PNG\r\n\x1a\n':
    problems.append('screenshot: not a PNG')
else:
    w, h = struct.unpack('>II', png[16:24])
    if (w, h) != (1280, 2000):
        problems.append('screenshot: %dx%d' % (w, h))
    data = b''.join(png[i + 8:i + 8 + struct.unpack('>I', png[i:i + 4])[0]]
                    for i in [m.start() - 4 for m in re.finditer(b'IDAT', png)])
    raw = zlib.decompress(data)
    if len(set(raw[::101])) < 16:
        problems.append('screenshot: looks blank')
for p in problems:
    print('problem:', p)
print('index: %d bytes of DOM; domain module page: %d bytes of DOM; screenshot %d bytes'
      % (len(index), len(module), len(png)))
sys.exit(1 if problems else 0)
PY
log "site OK: $index"
