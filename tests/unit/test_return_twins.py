# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A module and its _info twin document what they share once: in the _info module.

The module's object (RV(domain), RV(volume), ...) says "keys as in RV(sysvirt.libvirt.<twin>#module:<list>)"
and documents in its own ``contains`` only keys the twin does not have; run_module's check (tests/utils/returns.py)
holds every result to the twin's keys that way. Another top-level key both return has the same documentation,
or refers to the twin's, or is in OWN_MEANING with the reason its meaning differs. (ansible-core 2.20 and later
can also merge a doc fragment into RETURN; 2.19, which this collection supports, cannot: ansible-doc fails on such
a module. docs/testing.md says more.)
"""

from __future__ import annotations

import os

import pytest

from conftest import REPO
from utils import returns

#: module -> (its object's return key, the _info twin, the twin's list of such objects)
TWINS = {
    'domain': ('domain', 'domain_info', 'domains'),
    'domain_checkpoint': ('checkpoint', 'domain_checkpoint_info', 'checkpoints'),
    'domain_job': ('job', 'domain_job_info', 'jobs'),
    'domain_snapshot': ('snapshot', 'domain_snapshot_info', 'snapshots'),
    'host_interface': ('interface', 'host_interface_info', 'interfaces'),
    'network': ('network', 'network_info', 'networks'),
    'node_device': ('device', 'node_device_info', 'devices'),
    'nwfilter': ('nwfilter', 'nwfilter_info', 'nwfilters'),
    'secret': ('secret', 'secret_info', 'secrets'),
    'storage_pool': ('storage_pool', 'storage_pool_info', 'storage_pools'),
    'volume': ('volume', 'volume_info', 'volumes'),
}

#: Other pairs that return a key of the same name.
PAIRS = sorted([(module, spec[1]) for module, spec in TWINS.items()] + [('cpu_baseline', 'cpu_compare')])

#: (module, key) -> why the key means something else in the module than in its twin.
OWN_MEANING = {
    ('domain_snapshot', 'current'): 'the current snapshot after the run, null in check mode when it would change',
    ('cpu_baseline', 'hypervisor_aware'): "whether the baseline, not a comparison, used the hypervisor's view",
}


def _modules():
    return sorted(name[:-3] for name in os.listdir(os.path.join(REPO, 'plugins', 'modules')) if name.endswith('.py'))


def _description(spec):
    text = spec.get('description') or ''
    return ' '.join(text) if isinstance(text, list) else text


def test_every_module_with_an_info_twin_is_listed():
    modules = _modules()
    assert sorted(m for m in modules if m + '_info' in modules) == sorted(TWINS)


@pytest.mark.parametrize('module', sorted(TWINS))
def test_the_object_refers_to_its_twin_and_copies_none_of_its_keys(module):
    key, twin, items = TWINS[module]
    spec = returns.module_docs(module)[0][key]
    match = returns._REFERENCE.search(_description(spec))
    assert match and (match.group('module'), match.group('key')) == (twin, items), (
        'RV(%s) of %s must say "keys as in RV(sysvirt.libvirt.%s#module:%s)": %s'
        % (key, module, twin, items, _description(spec)))
    shared = returns.module_docs(twin)[0][items].get('contains') or {}
    assert shared, '%s documents no keys under RV(%s)' % (twin, items)
    copied = sorted(set(spec.get('contains') or {}) & set(shared))
    assert not copied, '%s documents again what %s documents: %s' % (module, twin, copied)


@pytest.mark.parametrize('module, twin', PAIRS)
def test_other_shared_keys_do_not_drift(module, twin):
    mine, theirs = returns.module_docs(module)[0], returns.module_docs(twin)[0]
    for key in sorted(set(mine) & set(theirs)):
        if (module, key) in OWN_MEANING:
            assert mine[key] != theirs[key], 'OWN_MEANING lists %s of %s, which is the same in %s' % (key, module, twin)
            continue
        match = returns._REFERENCE.search(_description(mine[key]))
        if match and match.group('module') == twin:
            continue
        assert mine[key] == theirs[key], (
            'RV(%s) of %s and of %s drifted apart: make them equal, refer to the twin\'s, or say in OWN_MEANING '
            'why they differ' % (key, module, twin))
