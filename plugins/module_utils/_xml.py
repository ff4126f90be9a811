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
the definition. The comparison's code is in _xml_compare, which this module loads on the first use of one of
its names (``_xml.differences``, ``_xml.CompareRules``, ...): code that only parses never compiles it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

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
    import difflib  # only for diffs: most runs never need it

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


# The comparison (CompareRules, differences, overlay, as_stored, ...) is in _xml_compare, loaded on the first use
# of one of its names here (PEP 562 module __getattr__): code that only parses and reads never compiles it.
_COMPARE_NAMES = frozenset([
    'CompareRules', 'DEFAULT_RULES', 'Difference', '_ATTRIBUTE', '_START_TAG', '_among', '_bare_path',
    '_best_match', '_children_differences', '_element_differences', '_ignored', '_insert', '_local',
    '_overlay_children', '_overlay_element', '_overlay_size', '_plain_copy', '_same_value', '_sized', '_summary',
    'as_stored', 'differences', 'overlay'
])


def __getattr__(name):
    if name in _COMPARE_NAMES:
        from ansible_collections.sysvirt.libvirt.plugins.module_utils import _xml_compare
        return getattr(_xml_compare, name)
    raise AttributeError('module %r has no attribute %r' % (__name__, name))


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
