# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The comparison half of the one XML layer (_xml): does the stored definition satisfy the user's document?

Private to this collection: the names here may change without notice. Use it through _xml (``_xml.differences``,
``_xml.CompareRules``, ``_xml.overlay``, ``_xml.as_stored``, ...), which loads this module on first use, so code
that only parses and reads documents (the inventory plugin, the _info modules) never compiles it: ansible-core
compiles collection module_utils from source on every run. See _xml for what the comparison does.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.sysvirt.libvirt.plugins.module_utils._xml import (
    XMLInputError, _is_element, _reindent, etree, parse, parse_cpuset, parse_int, size_to_bytes, to_string,
)


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
