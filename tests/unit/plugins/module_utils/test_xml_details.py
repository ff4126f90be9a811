# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Details of the XML layer that the broader tests did not pin down (found by scripts/mutation.sh): parse's
limits and messages, rules copied with their aliases, the comparison of sizes and values, check mode's overlay
and the text layout of its diffs."""

from __future__ import annotations

import pytest
from lxml import etree

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _xml

RULES = _xml.CompareRules(default_units={'memory': 'KiB'}, fallback_unit='b', size_tolerance={'memory': 1024},
                          aliases={('type', 'machine'): {'pc': 'pc-i440fx-7.2'}}, cpuset_attributes=('cpuset',),
                          removable={'devices': ('disk',)}, ignore=('uuid',), order={'': ('name', 'memory')})


def test_with_aliases_keeps_every_rule_and_adds_the_aliases():
    merged = RULES.with_aliases({('type', 'machine'): {'q35': 'pc-q35-7.2'}, ('os', 'arch'): {'x': 'y'}})
    assert merged.aliases == {('type', 'machine'): {'pc': 'pc-i440fx-7.2', 'q35': 'pc-q35-7.2'},
                              ('os', 'arch'): {'x': 'y'}}
    for field in ('default_units', 'fallback_unit', 'size_tolerance', 'cpuset_attributes', 'removable', 'ignore',
                  'order'):
        assert getattr(merged, field) == getattr(RULES, field), field
    assert RULES.aliases == {('type', 'machine'): {'pc': 'pc-i440fx-7.2'}}  # (the original is left alone)


def test_rules_defaults():
    rules = _xml.CompareRules()
    assert (rules.default_units, rules.fallback_unit, rules.size_tolerance, rules.aliases, rules.cpuset_attributes,
            rules.removable, rules.ignore, rules.order) == ({}, 'b', {}, {}, set(), {}, set(), {})


@pytest.mark.parametrize('text, message', [
    (None, '^domain XML is empty$'),
    ('', '^domain XML is empty$'),
    (b'  \n', '^domain XML is empty$'),
    ('<a>', '^domain XML is not well-formed: '),
    ('<!DOCTYPE a><a/>', '^domain XML has a DOCTYPE declaration; libvirt documents need none and entities are '
                         'not accepted$'),
])
def test_parse_messages(text, message):
    with pytest.raises(_xml.XMLInputError, match=message):
        _xml.parse(text, 'domain XML')


def test_parse_takes_bytes_and_text_and_drops_comments_and_processing_instructions():
    for text in (b'<a><!-- c --><?pi x?><b>1</b></a>', '<a><!-- c --><?pi x?><b>1</b></a>'):
        element = _xml.parse(text)
        assert _xml.to_string(element, pretty=False) == '<a><b>1</b></a>'


def test_parse_size_limit_is_inclusive():
    chunk = '<b>%s</b>' % ('x' * (1024 * 1024 - 7))
    body = chunk * 9
    fits = '<a>%s<c>%s</c></a>' % (body, 'x' * (_xml.MAX_XML_BYTES - len(body) - len('<a><c></c></a>')))
    assert len(fits) == _xml.MAX_XML_BYTES and _xml.parse(fits).tag == 'a'
    with pytest.raises(_xml.XMLInputError, match='is larger than %d bytes' % _xml.MAX_XML_BYTES):
        _xml.parse(fits.replace('<a>', '<a> ', 1))


def test_parse_refuses_nesting_deeper_than_lxml_allows_without_huge_tree():
    deep = '<a>' * 300 + '</a>' * 300
    with pytest.raises(_xml.XMLInputError, match='not well-formed'):
        _xml.parse(deep)


@pytest.mark.parametrize('root, article', [('interface', 'an'), ('domain', 'a')])
def test_parse_root_message(root, article):
    with pytest.raises(_xml.XMLInputError, match='^XML must have %s <%s> root element, not <x>$' % (article, root)):
        _xml.parse('<x/>', root=root)


@pytest.mark.parametrize('desired, current, equal', [
    ('<domain><memory unit="MiB">1</memory></domain>', '<domain><memory unit="KiB">1024</memory></domain>', True),
    ('<domain><memory>1024</memory></domain>', '<domain><memory unit="KiB">1024</memory></domain>', True),
    # rounded up by less than the tolerance: equal; by the tolerance or more, or down: a difference
    ('<domain><memory unit="KiB">1000</memory></domain>', '<domain><memory unit="KiB">1001</memory></domain>', True),
    ('<domain><memory unit="KiB">1000</memory></domain>', '<domain><memory unit="KiB">1002</memory></domain>', False),
    ('<domain><memory unit="KiB">1000</memory></domain>', '<domain><memory unit="KiB">999</memory></domain>', False),
    ('<domain><os><type machine="pc">hvm</type></os></domain>',
     '<domain><os><type machine="pc-i440fx-7.2">hvm</type></os></domain>', True),
    ('<domain><vcpu cpuset="0-2">1</vcpu></domain>', '<domain><vcpu cpuset="0,1,2">1</vcpu></domain>', True),
    ('<domain><vcpu cpuset="0-2">1</vcpu></domain>', '<domain><vcpu cpuset="0,1">1</vcpu></domain>', False),
    ('<domain><a n="0x10"/></domain>', '<domain><a n="16"/></domain>', True),
    ('<domain><a n="x"/></domain>', '<domain><a n="y"/></domain>', False),
    ('<domain><uuid>1</uuid></domain>', '<domain><uuid>2</uuid></domain>', True),
])
def test_values_compared_as_libvirt_spells_them(desired, current, equal):
    rules = _xml.CompareRules(default_units={'memory': 'KiB'}, size_tolerance={'memory': 2048},
                              aliases={('type', 'machine'): {'pc': 'pc-i440fx-7.2'}}, cpuset_attributes=('cpuset',),
                              ignore=('uuid',))
    assert (_xml.differences(desired, current, rules) == []) is equal


def test_a_difference_says_what_and_where():
    (diff,) = _xml.differences('<d><memory unit="KiB">2048</memory></d>', '<d><memory unit="KiB">1024</memory></d>')
    assert (diff.path, diff.desired, diff.current, diff.reason) == ('/d/memory[1]', '2048 KiB', '1024 KiB', 'changed')
    (diff,) = _xml.differences('<d><a x="1"/></d>', '<d><a/></d>')
    assert (diff.path, diff.desired, diff.current, diff.reason) == ('/d/a[1]/@x', '1', None, 'missing')
    (diff,) = _xml.differences('<d/>', '<e/>')
    assert (diff.path, diff.desired, diff.current) == ('/d', 'd', 'e')


@pytest.mark.parametrize('desired, stored, memory', [
    # a size the stored element already has (or has rounded up within the tolerance) stays as stored
    ('<d><memory unit="MiB">2</memory></d>', '<d><memory unit="KiB">2048</memory></d>', ('2048', 'KiB')),
    ('<d><memory unit="KiB">2000</memory></d>', '<d><memory unit="KiB">2001</memory></d>', ('2001', 'KiB')),
    # otherwise written in the stored element's unit ...
    ('<d><memory unit="MiB">3</memory></d>', '<d><memory unit="KiB">2048</memory></d>', ('3072', 'KiB')),
    ('<d><memory unit="GiB">1</memory></d>', '<d><memory>2048</memory></d>', ('1048576', None)),
    # ... or in bytes when that unit cannot hold it
    ('<d><memory unit="b">1025</memory></d>', '<d><memory unit="KiB">2048</memory></d>', ('1025', 'bytes')),
])
def test_overlay_writes_sizes_as_libvirt_stores_them(desired, stored, memory):
    rules = _xml.CompareRules(default_units={'memory': 'KiB'}, size_tolerance={'memory': 2048})
    element = _xml.overlay(desired, stored, rules).find('memory')
    assert (element.text, element.get('unit')) == memory


def test_overlay_sets_attributes_and_text_adds_children_in_order_and_leaves_ignored_alone():
    rules = _xml.CompareRules(ignore=('uuid',), order={'': ('name', 'uuid', 'memory', 'vcpu', 'devices')})
    stored = '<d type="kvm"><name>n</name><uuid>u1</uuid><vcpu>1</vcpu><devices><disk/></devices></d>'
    desired = '<d type="qemu"><uuid>u2</uuid><vcpu>2</vcpu><memory>5</memory><title>t</title></d>'
    result = _xml.overlay(desired, stored, rules)
    assert result.get('type') == 'qemu'
    # memory where the order puts it; title (not in the order) after the child the document gives before it
    assert [c.tag for c in result] == ['name', 'uuid', 'memory', 'title', 'vcpu', 'devices']
    assert (_xml.find_text(result, 'uuid'), _xml.find_text(result, 'vcpu'), _xml.find_text(result, 'title')) == \
        ('u1', '2', 't')
    assert result.find('devices/disk') is not None  # (not removable here: stays)


def test_overlay_removes_the_removable_children_the_document_leaves_out():
    rules = _xml.CompareRules(removable={'devices': ('disk',)})
    stored = '<d><devices><disk dev="a"/><disk dev="b"/><controller/></devices></d>'
    result = _xml.overlay('<d><devices><disk dev="b"/></devices></d>', stored, rules)
    assert [(c.tag, c.get('dev')) for c in result.find('devices')] == [('disk', 'b'), ('controller', None)]


def test_overlay_of_another_root_is_the_stored_document():
    assert _xml.to_string(_xml.overlay('<x><a/></x>', '<d><b/></d>'), pretty=False) == '<d><b/></d>'


def test_as_stored_lays_out_as_libvirt_writes():
    text = _xml.as_stored('<d a="1" b="it\'s"><e>\n</e><f><g/></f></d>')
    assert text == "<d a='1' b='it&apos;s'>\n  <e/>\n  <f>\n    <g/>\n  </f>\n</d>\n"
    assert _xml.as_stored(None) == '' and _xml.as_stored('  ') == ''
    assert _xml.as_stored('not xml') == 'not xml'


def test_unified_diff_names_both_sides():
    diff = _xml.unified_diff('<d><a>1</a></d>', '<d><a>2</a></d>', 'old', 'new')
    assert diff.startswith('--- old\n+++ new\n') and '-  <a>1</a>\n+  <a>2</a>\n' in diff
    assert _xml.unified_diff('', 'junk') == '--- before\n+++ after\n@@ -0,0 +1 @@\n+junk\n'


# --- the comparison and overlay loops (survivors of scripts/mutation.sh) -----------------------------------------

SIZES = _xml.CompareRules(default_units={'memory': 'KiB'})


def _diffs(desired, current, rules=SIZES):
    return [d.as_dict() for d in _xml.differences(desired, current, rules)]


def _overlaid(desired, stored, rules=SIZES):
    return _xml.to_string(_xml.overlay(desired, stored, rules), pretty=False)


@pytest.mark.parametrize('desired, current', [
    # a unit on one side only: the size is compared in bytes, the missing unit is the kind's default
    ('<domain><memory unit="MiB">1</memory></domain>', '<domain><memory>1024</memory></domain>'),
    ('<domain><memory>2048</memory></domain>', '<domain><memory unit="MiB">2</memory></domain>'),
])
def test_a_unit_on_either_side_compares_bytes(desired, current):
    assert _diffs(desired, current) == []
    assert _overlaid(desired, current) == current


def test_attributes_after_the_unit_are_still_compared_and_overlaid():
    desired = '<domain><memory unit="KiB" dumpCore="on">1024</memory></domain>'
    stored = '<domain><memory unit="KiB" dumpCore="off">1024</memory></domain>'
    assert _diffs(desired, stored) == [
        dict(path='/domain/memory[1]/@dumpCore', desired='on', current='off', reason='changed')]
    assert _overlaid(desired, stored) == '<domain><memory unit="KiB" dumpCore="on">1024</memory></domain>'


def test_attributes_after_an_ignored_one_are_still_compared_and_the_ignored_one_stays():
    rules = _xml.CompareRules(ignore=('@id',))
    desired, stored = '<domain id="5" type="kvm"/>', '<domain id="1" type="qemu"/>'
    assert _diffs(desired, stored, rules) == [
        dict(path='/domain/@type', desired='kvm', current='qemu', reason='changed')]
    assert _overlaid(desired, stored, rules) == '<domain id="1" type="kvm"/>'


def test_children_after_an_ignored_one_are_still_compared():
    rules = _xml.CompareRules(ignore=('uuid',))
    assert _diffs('<domain><uuid>x</uuid><name>a</name></domain>', '<domain><uuid>y</uuid><name>b</name></domain>',
                  rules) == [dict(path='/domain/name[1]', desired='a', current='b', reason='changed')]


@pytest.mark.parametrize('desired, current, expected', [
    ('<d><name>a</name></d>', '<d><name>b</name></d>', dict(desired='a', current='b', reason='changed')),
    ('<d><name>a</name></d>', '<d><name/></d>', dict(desired='a', current=None, reason='changed')),
    ('<d><name a="1"/></d>', '<d><name/></d>', dict(desired='1', current=None, reason='missing')),
    ('<d><name a="1"/></d>', '<d><name a="2"/></d>', dict(desired='1', current='2', reason='changed')),
])
def test_a_difference_reports_both_values_and_the_reason(desired, current, expected):
    (found,) = _diffs(desired, current)
    del found['path']
    assert found == expected


def test_a_size_difference_shows_each_sides_number_and_unit():
    (found,) = _diffs('<domain><memory>1</memory></domain>', '<domain><memory unit="MiB">2</memory></domain>')
    assert (found['desired'].strip(), found['current']) == ('1', '2 MiB')
    (found,) = _diffs('<domain><memory unit="MiB">3</memory></domain>', '<domain><memory>2</memory></domain>')
    assert (found['desired'], found['current'].strip()) == ('3 MiB', '2')


def test_a_size_without_tolerance_must_be_equal():
    assert len(_diffs('<domain><other unit="KiB">1</other></domain>', '<domain><other unit="b">1025</other></domain>',
                      SIZES)) == 1


TEXT_ALIAS = _xml.CompareRules(aliases={('model', None): {'pc': 'pc-i440fx-7.2'},
                                        ('type', 'machine'): {'pc': 'pc-i440fx-7.2'}})


def test_aliases_of_an_elements_text_and_attribute_are_equal_and_the_stored_spelling_stays():
    desired = '<d><model>pc</model><type machine="pc">hvm</type></d>'
    stored = '<d><model>pc-i440fx-7.2</model><type machine="pc-i440fx-7.2">hvm</type></d>'
    assert _diffs(desired, stored, TEXT_ALIAS) == []
    assert _overlaid(desired, stored, TEXT_ALIAS) == stored


def test_ties_go_to_the_stored_children_in_order():
    # the first desired child is as close to either stored one; taking the first leaves the second an exact match
    desired = '<d><t a="1" b="1"/><t a="2" b="1"/></d>'
    stored = '<d><t a="1" b="2"/><t a="2" b="1"/></d>'
    assert _diffs(desired, stored) == [dict(path='/d/t[1]/@b', desired='1', current='2', reason='changed')]
    assert _overlaid(desired, stored) == '<d><t a="1" b="1"/><t a="2" b="1"/></d>'


def test_overlay_updates_the_exact_match_not_the_first_of_its_tag():
    desired = '<d><t a="2" b="1"/></d>'
    stored = '<d><t a="1" b="1"/><t a="2" b="1"/><t a="3" b="1"/></d>'
    assert _overlaid(desired, stored) == stored


def test_overlay_of_an_empty_element_keeps_the_stored_text():
    assert _overlaid('<d><description/></d>', '<d><description>x</description></d>') == \
        '<d><description>x</description></d>'


def test_overlay_writes_text_as_given_and_trims_it_around_children():
    assert _overlaid('<d><name> a </name></d>', '<d><name>b</name></d>') == '<d><name> a </name></d>'
    assert _overlaid('<d><name> a <x/></name></d>', '<d><name>b<x/></name></d>') == '<d><name>a<x/></name></d>'


def test_comment_nodes_of_a_given_element_are_skipped_not_the_end():
    desired = etree.fromstring('<d><!-- c --><name>a</name></d>')
    assert _diffs(desired, '<d><name>b</name></d>') == [
        dict(path='/d/name[1]', desired='a', current='b', reason='changed')]


CPUSETS = _xml.CompareRules(cpuset_attributes=('cpuset', 'pins'),
                            aliases={('type', 'machine'): {'pc': 'pc-i440fx-7.2'}})


@pytest.mark.parametrize('desired, stored, equal', [
    ('<d><n x=" a "/></d>', '<d><n x="a"/></d>', True),  # blanks around a value are no difference
    # the stored spelling may be the alias and the document the canonical name
    ('<d><type machine="pc-i440fx-7.2"/></d>', '<d><type machine="pc"/></d>', True),
    ('<d><v cpuset="0-0"/></d>', '<d><v cpuset="0"/></d>', True),  # a one-CPU range is that CPU
    ('<d><pins>0-1</pins></d>', '<d><pins>0,1</pins></d>', True),  # a text CPU set of a listed tag
    ('<d><other>0-1</other></d>', '<d><other>0,1</other></d>', False),  # any other text is compared as written
])
def test_values_of_attributes_and_texts(desired, stored, equal):
    assert (_diffs(desired, stored, CPUSETS) == []) is equal


def test_overlay_converts_a_size_without_unit_to_the_stored_unit():
    assert _overlaid('<domain><memory>2048</memory></domain>', '<domain><memory unit="KiB">1024</memory></domain>') \
        == '<domain><memory unit="KiB">2048</memory></domain>'
    assert _overlaid('<domain><memory unit="MiB">2</memory></domain>',
                     '<domain><memory unit="MiB">1</memory></domain>') == \
        '<domain><memory unit="MiB">2</memory></domain>'


def test_overlay_of_a_size_without_default_unit_or_tolerance():
    # <other> has no default unit (the fallback, bytes) and no tolerance: any change is written
    assert _overlaid('<d><other unit="KiB">2</other></d>', '<d><other>1</other></d>') == '<d><other>2048</other></d>'
    assert _overlaid('<d><other unit="KiB">1</other></d>', '<d><other>2048</other></d>') == '<d><other>1024</other></d>'


def test_overlay_writes_a_size_rounded_up_by_the_whole_tolerance():
    rules = _xml.CompareRules(default_units={'memory': 'KiB'}, size_tolerance={'memory': 1024})
    desired, stored = '<d><memory unit="KiB">1000</memory></d>', '<d><memory unit="KiB">1001</memory></d>'
    assert len(_diffs(desired, stored, rules)) == 1
    assert _overlaid(desired, stored, rules) == desired


def test_overlay_puts_a_new_child_after_those_the_order_puts_with_it():
    rules = _xml.CompareRules(order={'devices': ('disk', 'interface')})
    assert _overlaid('<d><devices><disk dev="a"/><disk dev="b"/></devices></d>',
                     '<d><devices><disk dev="a"/><interface/></devices></d>', rules) == \
        '<d><devices><disk dev="a"/><disk dev="b"/><interface/></devices></d>'


def test_overlay_puts_a_new_first_child_first_without_an_order():
    assert _overlaid('<d><n/></d>', '<d><x/></d>') == '<d><n/><x/></d>'


def test_overlay_skips_comment_nodes_of_a_given_element():
    desired = etree.fromstring('<d><!-- c --><name>a</name></d>')
    assert _overlaid(desired, '<d><name>b</name></d>') == '<d><name>a</name></d>'


@pytest.mark.parametrize('value, expected', [
    ('3-3', {3}), ('2-3', {2, 3}), ('65530-65535', set(range(65530, 65536))),
    ('0-65536', set(range(65537))),  # the widest range accepted
    ('0-65537', None), ('5-4', None),
])
def test_parse_cpuset_ranges(value, expected):
    result = _xml.parse_cpuset(value)
    assert (set(result) if result is not None else None) == expected


def test_parse_int_negative_hex_and_size_of_a_number():
    assert _xml.parse_int('-0x10') == -16 and _xml.parse_int('-0X10') == -16
    assert _xml.size_to_bytes(2, 'KiB') == 2048
    with pytest.raises(ValueError):
        _xml.size_to_bytes(True)


def test_an_extra_child_is_described_as_would_be_removed():
    rules = _xml.CompareRules(removable={'devices': ('disk',)})
    (found,) = _xml.differences('<d><devices/></d>', '<d><devices><disk dev="a"/></devices></d>', rules)
    assert str(found) == '/d/devices[1]/disk: present, not wanted (would be removed)'


def test_a_missing_childs_summary_is_one_line_cut_at_200_characters():
    (found,) = _diffs('<d><n a="1">a   b\n  c</n></d>', '<d/>')
    assert found['desired'] == '<n a="1">a b c</n>'
    for length in (200, 201):
        child = '<n a="%s"/>' % ('x' * (length - len('<n a=""/>')))
        (found,) = _diffs('<d>%s</d>' % child, '<d/>')
        assert found['desired'] == (child if length == 200 else child[:197] + '...')
    (found,) = _diffs('<d><n/>text after it</d>', '<d/>')
    assert found['desired'] == '<n/>'  # the text after a child is not part of it


def test_removable_children_of_a_nested_parent():
    rules = _xml.CompareRules(removable={'cpu/numa': ('cell',)})
    desired = '<d><cpu><numa><cell id="0"/></numa></cpu></d>'
    stored = '<d><cpu><numa><cell id="0"/><cell id="1"/></numa></cpu></d>'
    assert _diffs(desired, stored, rules) == [
        dict(path='/d/cpu[1]/numa[1]/cell', desired=None, current='<cell id="1"/>', reason='extra')]
    assert _overlaid(desired, stored, rules) == desired


def test_the_text_of_the_root_is_compared_with_ignore_rules():
    rules = _xml.CompareRules(ignore=('uuid',))
    assert _diffs('<d>a</d>', '<d>b</d>', rules) == [dict(path='/d', desired='a', current='b', reason='changed')]


def test_the_comparison_names_come_from_xml_compare_and_others_fail_plainly():
    from ansible_collections.sysvirt.libvirt.plugins.module_utils import _xml_compare
    assert _xml.differences is _xml_compare.differences and _xml.CompareRules is _xml_compare.CompareRules
    with pytest.raises(AttributeError) as info:
        getattr(_xml, 'no_such_name')
    assert str(info.value) == ("module 'ansible_collections.sysvirt.libvirt.plugins.module_utils._xml' has no "
                               "attribute 'no_such_name'")
