# Copyright: sysvirt developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fenced code blocks of the user documentation: README.md, docs/**/*.md and roles/*/README.md.

Shared by tests/unit/test_docs_snippets.py (which checks what the YAML blocks say) and scripts/lint.sh (which
runs ansible-lint on the example playbooks, task lists and rulebooks among them). Run as a script,
``python tests/utils/snippets.py OUTDIR`` writes each example playbook to ``OUTDIR/playbooks/``, each task
list to ``OUTDIR/task-lists/`` and each rulebook to ``OUTDIR/rulebooks/`` (.ansible-lint declares these kinds
for .build/doc-examples), one file per block, named after the Markdown file and the line of its fence, and
prints one line per file written.

A block marked ``<!-- not-checked: reason -->`` on the line before its fence is deliberately not valid; it is
left out of both.
"""

from __future__ import annotations

import pathlib
import re
import sys

import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
DOC_FILES = sorted({*REPO.glob('README.md'), *REPO.glob('docs/**/*.md'), *REPO.glob('roles/*/README.md')})

FENCE = re.compile(r'^(?P<indent>\s*)```(?P<lang>\S*)\s*$')
NOT_CHECKED = re.compile(r'^\s*<!--\s*not-checked:\s*(?P<reason>.*?)\s*-->\s*$')
PLAY_KEYS = ('hosts', 'import_playbook', 'ansible.builtin.import_playbook')


def snippets(path):
    """(line of the opening fence, language, text, not-checked reason or None, error or None) of a file."""
    lines = path.read_text(encoding='utf-8').splitlines()
    out = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m or not m.group('lang'):
            i += 1
            continue
        start, indent, lang = i, len(m.group('indent')), m.group('lang')
        body = []
        i += 1
        while i < len(lines) and lines[i].strip() != '```':
            body.append(lines[i][indent:] if lines[i][:indent].strip() == '' else lines[i])
            i += 1
        error = None if i < len(lines) else 'the fence opened here is never closed'
        before = next((lines[j] for j in range(start - 1, -1, -1) if lines[j].strip()), '')
        marker = NOT_CHECKED.match(before)
        out.append((start + 1, lang, '\n'.join(body) + '\n', marker.group('reason') if marker else None, error))
        i += 1
    return out


def kind_of(data):
    """'playbook' for a list of plays, 'tasks' for a list of tasks, 'rulebook' for an Event-Driven Ansible
    rulebook (rulesets with ``sources`` and ``rules``), None for anything else (inventory configurations,
    variables, ...)."""
    if not isinstance(data, list) or not data or not all(isinstance(item, dict) for item in data):
        return None
    if all('rules' in item and 'sources' in item for item in data):
        return 'rulebook'
    plays = [any(key in item for key in PLAY_KEYS) for item in data]
    if all(plays):
        return 'playbook'
    if not any(plays):
        return 'tasks'
    return None


def example_files():
    """(source path, line, kind, text) of every example playbook and task list in the documentation."""
    found = []
    for path in DOC_FILES:
        for line, lang, text, reason, error in snippets(path):
            if lang not in ('yaml', 'yml') or reason is not None or error is not None:
                continue
            kind = kind_of(yaml.safe_load(text))
            if kind:
                found.append((path, line, kind, text))
    return found


def write_examples(outdir):
    """Write the example playbooks and task lists below ``outdir``; return the paths written."""
    outdir = pathlib.Path(outdir)
    written = []
    for path, line, kind, text in example_files():
        rel = path.relative_to(REPO)
        slug = re.sub(r'[^A-Za-z0-9]+', '_', str(rel.with_suffix(''))).strip('_').lower()
        folder = {'playbook': 'playbooks', 'tasks': 'task-lists', 'rulebook': 'rulebooks'}[kind]
        target = outdir / folder / ('%s_line%d.yml' % (slug, line))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text('---\n# %s, line %d (written by tests/utils/snippets.py)\n%s' % (rel, line, text),
                          encoding='utf-8')
        written.append(target)
    return written


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit('usage: python tests/utils/snippets.py OUTDIR')
    for written in write_examples(sys.argv[1]):
        print(written)
