# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plugin_utils._libvirt.unsafe: what may be a template is untrusted, everything else trusted (printed plainly)."""

from __future__ import annotations

import pytest

from ansible.template import is_trusted_as_template, trust_as_template

from ansible_collections.sysvirt.libvirt.plugins.plugin_utils._libvirt import unsafe


@pytest.mark.parametrize('text', [
    "{{ lookup('pipe', 'id') }}", '{% raw %}', '{# #}', 'a } b', '{', "#jinja2:variable_start_string:'[['\n[[ x ]]",
])
@pytest.mark.parametrize('trusted', [False, True])
def test_what_may_be_a_template_is_untrusted(text, trusted):
    value = unsafe(trust_as_template(text) if trusted else text)
    assert value == text and not is_trusted_as_template(value)


@pytest.mark.parametrize('text', ['', 'web1', '192.168.122.3', '<cpu mode="host-model"/>', 'a # jinja2: b', '%s'])
def test_other_strings_are_trusted(text):
    value = unsafe(text)
    assert value == text and is_trusted_as_template(value)


def test_containers_are_walked_keys_included():
    data = unsafe({'https://example.com/{x}': ['{{ a }}', 'b', 1, None, True, 2.5], 'plain': {'k': ('c',)}})
    assert data == {'https://example.com/{x}': ['{{ a }}', 'b', 1, None, True, 2.5], 'plain': {'k': ['c']}}
    keys = dict((str(k), k) for k in data)
    key = keys['https://example.com/{x}']
    assert not is_trusted_as_template(key) and not is_trusted_as_template(data[key][0])
    assert is_trusted_as_template(keys['plain']) and is_trusted_as_template(data[key][1])
    assert is_trusted_as_template(data['plain']['k'][0])
    assert [type(v) for v in data[key][2:]] == [int, type(None), bool, float]
