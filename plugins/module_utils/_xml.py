# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one XML layer of sysvirt.libvirt: safe parsing, comparison, diff.

Private to this collection: the names here may change without notice.

The comparison answers one question: does the definition libvirt stores already satisfy what the user
asked for? Everything the user wrote must be present in the stored document (children matched by tag,
in any order), where values are compared the way libvirt spells them: units converted, numbers in any
base, CPU sets expanded, aliases (machine types) resolved. What libvirt adds on its own (UUID, MACs,
addresses, default controllers, aliases) is therefore never a difference. Devices the user can remove
(disks, NICs, ...) that are stored but no longer asked for are differences too: the user's document is
the definition.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import difflib
import re
import traceback

try:
    from lxml import etree
except ImportError:
    etree = None
    LXML_IMPORT_ERROR = traceback.format_exc()
else:
    LXML_IMPORT_ERROR = None


class XMLInputError(ValueError):
    """The user's XML cannot be used; the message says why, on one line."""


def _parser():
    # Resolve no entities, load no DTD, fetch nothing from the network, keep documents bounded.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=True, remove_pis=True, remove_blank_text=True)


MAX_XML_BYTES = 10 * 1024 * 1024


def parse(text, what='XML', root=None):
    """Parse a document safely into an lxml element; raise XMLInputError with a plain message.

    Documents with a DOCTYPE are refused: libvirt never needs one, and entity declarations are how
    XML reads local files or fetches URLs. With ``root``, a document whose root element is another one (a
    document of another kind) is refused too.
    """
    if etree is None:
        raise XMLInputError('The lxml Python library is required')
    if text is None:
        raise XMLInputError('%s is empty' % what)
    if isinstance(text, bytes):
        data = text
    else:
        data = str(text).encode('utf-8')
    if not data.strip():
        raise XMLInputError('%s is empty' % what)
    if len(data) > MAX_XML_BYTES:
        raise XMLInputError('%s is larger than %d bytes' % (what, MAX_XML_BYTES))
    try:
        element = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as e:
        # lxml's message can hold newlines (e.g. for a NUL byte): keep ours on one line.
        raise XMLInputError('%s is not well-formed: %s' % (what, ' '.join(str(e).split())))
    tree = element.getroottree()
    docinfo = tree.docinfo
    if docinfo.doctype or (docinfo.internalDTD is not None) or (docinfo.externalDTD is not None):
        raise XMLInputError('%s has a DOCTYPE declaration; libvirt documents need none and entities are '
                            'not accepted' % what)
    for node in element.iter():
        if isinstance(node, etree._Entity):
            raise XMLInputError('%s uses an entity reference (%s); entities are not accepted' % (what, node))
    if root is not None and element.tag != root:
        raise XMLInputError('%s must have %s <%s> root element, not <%s>'
                            % (what, 'an' if root[:1] in 'aeiou' else 'a', root, element.tag))
    return element


def to_string(element, pretty=True):
    """Serialise an element as text (no XML declaration)."""
    if pretty:
        element = _reindent(element)
    return etree.tostring(element, encoding='unicode', pretty_print=pretty)


def _reindent(element):
    copy = etree.fromstring(etree.tostring(element), _parser())
    for node in copy.iter():
        if len(node) and node.text is not None and not node.text.strip():
            node.text = None
        if node.tail is not None and not node.tail.strip():
            node.tail = None
    return copy


def _pretty(document):
    if _is_element(document):
        return to_string(document)
    if not document:
        return ''
    try:
        return to_string(parse(document))
    except XMLInputError:
        return document if document.endswith('\n') else document + '\n'


def canonical(text_or_element):
    """A canonical text form, for 'did the stored document change' questions."""
    element = parse(text_or_element) if not _is_element(text_or_element) else text_or_element
    return etree.tostring(element, method='c14n')


def _is_element(value):
    return etree is not None and isinstance(value, etree._Element)


def unified_diff(before, after, before_name='before', after_name='after'):
    """A unified text diff of two documents (strings or elements)."""
    before_text, after_text = _pretty(before), _pretty(after)
    return ''.join(difflib.unified_diff(before_text.splitlines(True), after_text.splitlines(True),
                                        before_name, after_name))


# ---------------------------------------------------------------------------------------------------------
# Value normalisation
# ---------------------------------------------------------------------------------------------------------

_UNITS = {
    'b': 1, 'byte': 1, 'bytes': 1,
    'k': 1024, 'kib': 1024, 'kb': 1000,
    'm': 1024 ** 2, 'mib': 1024 ** 2, 'mb': 1000 ** 2,
    'g': 1024 ** 3, 'gib': 1024 ** 3, 'gb': 1000 ** 3,
    't': 1024 ** 4, 'tib': 1024 ** 4, 'tb': 1000 ** 4,
    'p': 1024 ** 5, 'pib': 1024 ** 5, 'pb': 1000 ** 5,
    'e': 1024 ** 6, 'eib': 1024 ** 6, 'eb': 1000 ** 6,
}

_SIZE_RE = re.compile(r'^\s*(\d+)\s*([A-Za-z]*)\s*$')


def size_to_bytes(value, default_unit='b'):
    """'10G', '512MiB', '1024' (in default_unit) -> bytes; raise ValueError for anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value * _UNITS[default_unit.lower()]
    match = _SIZE_RE.match(str(value))
    if not match:
        raise ValueError('%r is not a size (a number, optionally followed by a unit such as KiB, M or GB)' % value)
    unit = (match.group(2) or default_unit).lower()
    if unit not in _UNITS:
        raise ValueError('%r has an unknown unit %r' % (value, match.group(2)))
    return int(match.group(1)) * _UNITS[unit]


_UUID_HEX = re.compile(r'^[0-9a-fA-F]{32}$')


def uuid_key(text):
    """A UUID as libvirt compares it: case, dashes and surrounding space do not matter."""
    return ''.join((text or '').split()).replace('-', '').lower()


def canonical_uuid(text):
    """The spelling libvirt stores (lower case, 8-4-4-4-12 dashes) of a UUID; other text unchanged."""
    key = uuid_key(text)
    if not _UUID_HEX.match(key):
        return text
    return '-'.join((key[0:8], key[8:12], key[12:16], key[16:20], key[20:32]))


_MAC = re.compile(r'^[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){5}$')


def is_mac(value):
    """True for a MAC address as libvirt writes it (six hex bytes separated by colons)."""
    return bool(_MAC.match(value or ''))


def same_uuid(a, b):
    """True when two spellings name the same UUID."""
    return uuid_key(a) == uuid_key(b)


def parse_int(value):
    """An integer in the bases libvirt writes ('12', '0x0c', '0o14'); None when it is not one."""
    if value is None:
        return None
    text = value.strip().lower()
    try:
        if text.startswith(('0x', '-0x')):
            return int(text, 16)
        if text.startswith('0o'):
            return int(text, 8)
        if re.match(r'^[-+]?\d+$', text):
            return int(text, 10)
    except ValueError:
        return None
    return None


_CPUSET_RE = re.compile(r'^\s*\^?\d+(\s*-\s*\d+)?(\s*,\s*\^?\d+(\s*-\s*\d+)?)*\s*$')


def parse_cpuset(value):
    """'0-3,^2' -> frozenset({0, 1, 3}); None when it is not a CPU set."""
    if value is None or not _CPUSET_RE.match(value):
        return None
    include, exclude = set(), set()
    for part in value.split(','):
        part = part.strip()
        target = include
        if part.startswith('^'):
            target, part = exclude, part[1:]
        if '-' in part:
            low, high = [int(p) for p in part.split('-')]
            if high < low or high - low > 65536:
                return None
            target.update(range(low, high + 1))
        else:
            target.add(int(part))
    return frozenset(include - exclude)


class CompareRules:
    """How one kind of document is compared.

    - ``default_units``: {tag: unit} for elements whose numeric text has a unit attribute; a tag absent
      here uses ``fallback_unit``.
    - ``size_tolerance``: {tag: bytes}: the stored size may be rounded up by less than this.
    - ``aliases``: {(tag, attribute or None): {value: canonical}} resolved on both sides.
    - ``cpuset_attributes``: attribute names whose values are CPU sets.
    - ``removable``: {parent path: set of child tags}: children of that parent (path from the root,
      '/'-separated tags, e.g. 'devices') which the user owns: stored but not asked for means
      "would be removed".
    - ``ignore``: paths (tag/tag/@attr or tag/tag) in the user's document that are never compared
      (e.g. things libvirt generates or discards).
    - ``order``: {parent path: tags in the order libvirt writes them}: where check mode's prediction
      (``overlay``) puts a child that the stored document does not have yet.
    """

    def __init__(self, default_units=None, fallback_unit='b', size_tolerance=None, aliases=None,
                 cpuset_attributes=None, removable=None, ignore=None, order=None):
        self.default_units = dict(default_units or {})
        self.fallback_unit = fallback_unit
        self.size_tolerance = dict(size_tolerance or {})
        self.aliases = dict(aliases or {})
        self.cpuset_attributes = set(cpuset_attributes or ())
        self.removable = dict((k, set(v)) for k, v in (removable or {}).items())
        self.ignore = set(ignore or ())
        self.order = dict(order or {})

    def with_aliases(self, extra):
        """A copy with more aliases (e.g. machine types read from the host's capabilities)."""
        merged = dict(self.aliases)
        for key, mapping in extra.items():
            combined = dict(merged.get(key, {}))
            combined.update(mapping)
            merged[key] = combined
        return CompareRules(self.default_units, self.fallback_unit, self.size_tolerance, merged,
                            self.cpuset_attributes, self.removable, self.ignore, self.order)


DEFAULT_RULES = CompareRules()


class Difference:
    """One place where the stored document does not satisfy the desired one."""

    def __init__(self, path, desired, current, reason):
        self.path = path
        self.desired = desired
        self.current = current
        self.reason = reason

    def as_dict(self):
        return dict(path=self.path, desired=self.desired, current=self.current, reason=self.reason)

    def __repr__(self):
        return 'Difference(%r, %r, %r, %r)' % (self.path, self.desired, self.current, self.reason)

    def __str__(self):
        if self.reason == 'missing':
            return '%s: wanted %s, not present' % (self.path, self.desired)
        if self.reason == 'extra':
            return '%s: present, not wanted (would be removed)' % self.path
        return '%s: wanted %r, found %r' % (self.path, self.desired, self.current)


def _local(tag):
    return etree.QName(tag).localname if isinstance(tag, str) and tag.startswith('{') else tag


def _same_value(tag, attribute, desired, current, rules):
    if desired == current:
        return True
    if desired is None or current is None:
        return False
    d, c = desired.strip(), current.strip()
    if d == c:
        return True
    alias = rules.aliases.get((tag, attribute)) or {}
    if alias and alias.get(d, d) == alias.get(c, c):
        return True
    di, ci = parse_int(d), parse_int(c)
    if di is not None and ci is not None:
        return di == ci
    if attribute in rules.cpuset_attributes or (attribute is None and tag in rules.cpuset_attributes):
        ds, cs = parse_cpuset(d), parse_cpuset(c)
        if ds is not None and cs is not None:
            return ds == cs
    return False


def _sized(element, rules):
    """(bytes, tolerance) when the element is a number with a unit attribute (either side), else None."""
    text = (element.text or '').strip()
    if not text or parse_int(text) is None:
        return None
    tag = _local(element.tag)
    unit = element.get('unit') or rules.default_units.get(tag, rules.fallback_unit)
    try:
        return size_to_bytes(text, unit)
    except ValueError:
        return None


def _element_differences(desired, current, path, rules, limit=None):
    """Differences of one desired element against one stored element of the same tag."""
    diffs = []
    tag = _local(desired.tag)
    sized = 'unit' in desired.attrib or 'unit' in current.attrib
    for name, value in desired.attrib.items():
        if sized and name == 'unit':
            continue
        attr_path = '%s/@%s' % (path, _local(name))
        if _ignored(attr_path, rules):
            continue
        stored = current.get(name)
        if not _same_value(tag, _local(name), value, stored, rules):
            diffs.append(Difference(attr_path, value, stored, 'missing' if stored is None else 'changed'))
    dtext = (desired.text or '').strip()
    if dtext and not _ignored(path, rules):
        ctext = (current.text or '').strip()
        if sized:
            db, cb = _sized(desired, rules), _sized(current, rules)
            tolerance = rules.size_tolerance.get(tag, 0)
            equal = db is not None and cb is not None and (db == cb or 0 <= cb - db < tolerance)
            if not equal:
                diffs.append(Difference(path, '%s %s' % (dtext, desired.get('unit', '')),
                                        '%s %s' % (ctext, current.get('unit', '')), 'changed'))
        elif not _same_value(tag, None, dtext, ctext, rules):
            diffs.append(Difference(path, dtext, ctext or None, 'changed'))
    diffs.extend(_children_differences(desired, current, path, rules))
    return diffs


def _ignored(path, rules):
    if not rules.ignore:
        return False
    bare = re.sub(r'\[\d+\]', '', path).lstrip('/')
    bare = bare.split('/', 1)[1] if '/' in bare else ''
    return bare in rules.ignore


def _children_differences(desired, current, path, rules):
    diffs = []
    used = set()
    counts = {}
    for child in desired:
        if not isinstance(child.tag, str):
            continue
        tag = child.tag
        counts[tag] = counts.get(tag, 0) + 1
        child_path = '%s/%s[%d]' % (path, _local(tag), counts[tag])
        if _ignored(child_path, rules):
            continue
        best, best_diffs = None, None
        for index, candidate in enumerate(current):
            if index in used or candidate.tag != tag:
                continue
            candidate_diffs = _element_differences(child, candidate, child_path, rules)
            if not candidate_diffs:
                best, best_diffs = index, []
                break
            if best_diffs is None or len(candidate_diffs) < len(best_diffs):
                best, best_diffs = index, candidate_diffs
        if best is None:
            diffs.append(Difference(child_path, _summary(child), None, 'missing'))
            continue
        used.add(best)
        diffs.extend(best_diffs)
    removable = rules.removable.get(_bare_path(path))
    if removable:
        for index, candidate in enumerate(current):
            if index not in used and isinstance(candidate.tag, str) and _local(candidate.tag) in removable:
                diffs.append(Difference('%s/%s' % (path, _local(candidate.tag)), None, _summary(candidate),
                                        'extra'))
    return diffs


def _bare_path(path):
    bare = re.sub(r'\[\d+\]', '', path).lstrip('/')
    return bare.split('/', 1)[1] if '/' in bare else ''


def _summary(element):
    text = etree.tostring(element, encoding='unicode', with_tail=False)
    text = ' '.join(text.split())
    return text if len(text) <= 200 else text[:197] + '...'


def differences(desired, current, rules=None):
    """List the Differences that keep ``current`` from satisfying ``desired`` (elements or strings)."""
    rules = rules or DEFAULT_RULES
    if not _is_element(desired):
        desired = parse(desired)
    if not _is_element(current):
        current = parse(current)
    root_path = '/' + _local(desired.tag)
    if desired.tag != current.tag:
        return [Difference(root_path, _local(desired.tag), _local(current.tag), 'changed')]
    return _element_differences(desired, current, root_path, rules)


# ---------------------------------------------------------------------------------------------------------
# Check mode: what libvirt would store

def overlay(desired, stored, rules=None):
    """What ``stored`` becomes when ``desired`` is defined over it, for check mode's "after": a copy of ``stored``
    with every attribute, text and child that ``desired`` gives (children matched as ``differences`` matches
    them; a size written in the stored element's unit), and without the removable children it leaves out.
    What libvirt generated (UUID, MACs, addresses, default devices) stays as stored, as a redefinition keeps it."""
    rules = rules or DEFAULT_RULES
    if not _is_element(desired):
        desired = parse(desired)
    if not _is_element(stored):
        stored = parse(stored)
    result = parse(etree.tostring(stored))
    if desired.tag == result.tag:
        _overlay_element(desired, result, '/' + _local(desired.tag), rules)
    return result


def _overlay_element(desired, current, path, rules):
    tag = _local(desired.tag)
    sized = 'unit' in desired.attrib or 'unit' in current.attrib
    for name, value in desired.attrib.items():
        if (sized and name == 'unit') or _ignored('%s/@%s' % (path, _local(name)), rules):
            continue
        if not _same_value(tag, _local(name), value, current.get(name), rules):
            current.set(name, value)
    dtext = (desired.text or '').strip()
    if dtext and not _ignored(path, rules):
        if sized:
            _overlay_size(desired, current, rules)
        elif not _same_value(tag, None, dtext, (current.text or '').strip(), rules):
            current.text = desired.text if not len(current) else dtext
    _overlay_children(desired, current, path, rules)


def _overlay_size(desired, current, rules):
    wanted, have = _sized(desired, rules), _sized(current, rules)
    tolerance = rules.size_tolerance.get(_local(desired.tag), 0)
    if wanted is None or (have is not None and (have == wanted or 0 <= have - wanted < tolerance)):
        return
    unit = current.get('unit') or rules.default_units.get(_local(current.tag), rules.fallback_unit)
    scale = size_to_bytes('1', unit)
    current.text = str(wanted // scale if wanted % scale == 0 else wanted)
    if wanted % scale:
        current.set('unit', 'bytes')


def _overlay_children(desired, current, path, rules):
    used, counts, previous = [], {}, None
    for child in desired:
        if not isinstance(child.tag, str):
            continue
        counts[child.tag] = counts.get(child.tag, 0) + 1
        child_path = '%s/%s[%d]' % (path, _local(child.tag), counts[child.tag])
        if _ignored(child_path, rules):
            continue
        match = _best_match(child, current, used, child_path, rules)
        if match is None:
            match = _plain_copy(child)
            _insert(current, match, previous, rules.order.get(_bare_path(path)))
        else:
            _overlay_element(child, match, child_path, rules)
        used.append(match)
        previous = match
    removable = rules.removable.get(_bare_path(path))
    for candidate in list(current):
        if removable and not _among(candidate, used) and _local(candidate.tag) in removable:
            current.remove(candidate)


def _insert(parent, child, previous, order):
    """Put a new child where libvirt writes it: before the first sibling that ``order`` puts after it, else
    after the child of the desired document that came before it."""
    tag = _local(child.tag)
    if order and tag in order:
        rank = order.index(tag)
        for sibling in parent:
            if isinstance(sibling.tag, str) and _local(sibling.tag) in order and order.index(_local(sibling.tag)) > rank:
                sibling.addprevious(child)
                return
        parent.append(child)
    elif previous is not None:
        previous.addnext(child)
    else:
        parent.insert(0, child)


def _among(element, elements):
    return any(element is other for other in elements)


def _best_match(child, current, used, child_path, rules):
    best, best_count = None, None
    for candidate in current:
        if candidate.tag != child.tag or _among(candidate, used):
            continue
        count = len(_element_differences(child, candidate, child_path, rules))
        if count == 0:
            return candidate
        if best_count is None or count < best_count:
            best, best_count = candidate, count
    return best


def _plain_copy(element):
    """A copy of ``element`` without comments, processing instructions and whitespace-only text."""
    copy = parse(etree.tostring(element, with_tail=False))
    for node in list(copy.iter()):
        if not isinstance(node.tag, str):
            node.getparent().remove(node)
    return _reindent(copy)


_ATTRIBUTE = re.compile(r'(\s[^\s=<>]+)="([^"]*)"')
_START_TAG = re.compile(r'<[^!?/][^>]*>')


def as_stored(text_or_element):
    """A document laid out the way libvirt writes it (two-space indent, attributes in single quotes), so a
    prediction and libvirt's own text differ only where their content does. '' for an empty document."""
    if text_or_element is None or (not _is_element(text_or_element) and not text_or_element.strip()):
        return ''
    try:
        element = text_or_element if _is_element(text_or_element) else parse(text_or_element)
    except XMLInputError:
        return text_or_element
    element = _reindent(element)
    for node in element.iter():
        if not len(node) and node.text is not None and not node.text.strip():
            node.text = None  # libvirt writes some empty elements open and closed on two lines
    text = to_string(element)

    def quote(match):
        value = match.group(2).replace("'", '&apos;')
        return "%s='%s'" % (match.group(1), value)
    return _START_TAG.sub(lambda tag: _ATTRIBUTE.sub(quote, tag.group(0)), text)


def find_text(element, path, default=None):
    found = element.find(path)
    if found is None or found.text is None:
        return default
    return found.text.strip()


def set_child_text(parent, tag, text):
    """Set (creating it if needed) the text of the first ``tag`` child of parent."""
    child = parent.find(tag)
    if child is None:
        child = etree.SubElement(parent, tag)
    child.text = text
    return child
