# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""CPU definitions: conversion between XML and data, baseline and comparison.

Private to this collection: the names here may change without notice. Used by the cpu_baseline and
cpu_compare modules.

A CPU is given either as XML (a <cpu> element, or any document holding one, such as a capabilities
document or a domain definition) or as data in the shape host_facts reports under
``capabilities.host.cpu`` (arch, model, vendor, features, topology) or cpu_baseline reports under ``cpu``
(mode, match, model, vendor, features, disabled_features).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _xml
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    LibvirtFailure, call, failure_from,
)

try:
    import libvirt
except ImportError:
    libvirt = None

try:
    from lxml import etree
except ImportError:
    etree = None

COMPARE_RESULTS = {0: 'incompatible', 1: 'identical', 2: 'superset'}

#: Feature policies that mean "the CPU has this feature" / "the CPU must not have it".
PRESENT_POLICIES = ('require', 'force', 'optional', None)
ABSENT_POLICIES = ('disable', 'forbid')

HYPERVISOR_KEYS = ('emulator', 'arch', 'machine', 'virt_type')

_NO_SUPPORT_HINT = ("This libvirt driver or daemon does not offer the hypervisor-aware CPU API (libvirt 4.4 or "
                    "later with the QEMU driver). Leave hypervisor_aware unset (or false) and hypervisor out "
                    "to use the host CPU API instead.")


def _is_no_support(error):
    return error.get_error_code() in (libvirt.VIR_ERR_NO_SUPPORT,
                                      getattr(libvirt, 'VIR_ERR_OPERATION_UNSUPPORTED', -1))


# --- XML <-> data ------------------------------------------------------------------------------------------

def _feature_entries(features, what):
    """[(name, policy or None)] from a list of names or of dicts {name, policy}."""
    entries = []
    for feature in features or []:
        if isinstance(feature, dict):
            name, policy = feature.get('name'), feature.get('policy')
        else:
            name, policy = feature, None
        if not name or not isinstance(name, str):
            raise _xml.XMLInputError('%s: every feature needs a name (got %r)' % (what, feature))
        entries.append((name, policy))
    return entries


def data_to_element(data, what='CPU'):
    """A <cpu> element from CPU data (host_facts or cpu_baseline shape)."""
    if not isinstance(data, dict):
        raise _xml.XMLInputError('%s must be XML text or a dict of CPU data, not %s' % (what, type(data).__name__))
    if not data.get('model') and not data.get('features'):
        raise _xml.XMLInputError('%s: CPU data needs at least a model or features' % what)
    cpu = etree.Element('cpu')
    for attribute in ('mode', 'match', 'check'):
        if data.get(attribute):
            cpu.set(attribute, str(data[attribute]))
    if data.get('arch'):
        etree.SubElement(cpu, 'arch').text = str(data['arch'])
    if data.get('model'):
        model = etree.SubElement(cpu, 'model')
        model.text = str(data['model'])
        if data.get('fallback') and data.get('mode'):
            model.set('fallback', str(data['fallback']))
    if data.get('vendor'):
        etree.SubElement(cpu, 'vendor').text = str(data['vendor'])
    topology = data.get('topology') or {}
    if topology:
        element = etree.SubElement(cpu, 'topology')
        for key in ('sockets', 'dies', 'cores', 'threads'):
            if topology.get(key) is not None:
                element.set(key, str(topology[key]))
    guest = bool(data.get('mode'))
    entries = _feature_entries(data.get('features'), what)
    entries += [(name, 'disable') for name, dummy in _feature_entries(data.get('disabled_features'), what)]
    for name, policy in entries:
        feature = etree.SubElement(cpu, 'feature')
        if guest:
            feature.set('policy', policy or 'require')
        elif policy in ABSENT_POLICIES:
            # A host CPU has no policies: a feature it lacks is simply not listed.
            cpu.remove(feature)
            continue
        feature.set('name', name)
    return cpu


def cpu_element(value, what='CPU'):
    """The <cpu> element of XML text (a <cpu>, or a document holding one) or of CPU data."""
    if isinstance(value, dict):
        return data_to_element(value, what)
    if not isinstance(value, str) or not value.strip():
        raise _xml.XMLInputError('%s must be XML text or a dict of CPU data' % what)
    root = _xml.parse(value, '%s XML' % what)
    if root.tag == 'cpu':
        return root
    for path in ('host/cpu', 'cpu', './/cpu'):
        found = root.find(path)
        if found is not None:
            return found
    raise _xml.XMLInputError('%s XML holds no <cpu> element (root element is <%s>)' % (what, root.tag))


def cpu_xml(value, what='CPU', default_arch=None):
    """XML text of a <cpu> for libvirt; a host-style CPU without an <arch> gets default_arch."""
    element = cpu_element(value, what)
    if default_arch and element.get('mode') is None and element.find('arch') is None:
        element = _copy(element)
        arch = etree.Element('arch')
        arch.text = default_arch
        element.insert(0, arch)
    return _xml.to_string(element)


def _copy(element):
    return etree.fromstring(etree.tostring(element))


def cpu_data(value):
    """CPU data from a <cpu> element or XML text: what cpu_baseline returns as ``cpu``."""
    element = cpu_element(value) if not _xml._is_element(value) else value
    model = element.find('model')
    topology = element.find('topology')
    features, disabled, policies = [], [], []
    for feature in element.findall('feature'):
        name, policy = feature.get('name'), feature.get('policy')
        policies.append(dict(name=name, policy=policy or 'require'))
        (disabled if policy in ABSENT_POLICIES else features).append(name)
    return dict(
        mode=element.get('mode'),
        match=element.get('match'),
        check=element.get('check'),
        arch=_xml.find_text(element, 'arch'),
        model=model.text.strip() if model is not None and model.text else None,
        fallback=model.get('fallback') if model is not None else None,
        vendor=_xml.find_text(element, 'vendor'),
        features=features,
        disabled_features=disabled,
        feature_policies=policies,
        topology=dict((k, _xml.parse_int(v)) for k, v in topology.attrib.items()) if topology is not None else {},
    )


def host_style(value, what='CPU', default_arch=None):
    """(host CPU XML, names of disabled features) for any CPU: guest attributes and policies dropped."""
    element = _copy(cpu_element(value, what))
    disabled = set()
    for attribute in ('mode', 'match', 'check'):
        element.attrib.pop(attribute, None)
    model = element.find('model')
    if model is not None:
        for attribute in list(model.attrib):
            del model.attrib[attribute]
    for feature in element.findall('feature'):
        policy = feature.attrib.pop('policy', None)
        if policy in ABSENT_POLICIES:
            disabled.add(feature.get('name'))
            element.remove(feature)
    for child in list(element):
        if child.tag not in ('arch', 'model', 'vendor', 'topology', 'feature'):
            element.remove(child)
    if element.find('arch') is None and default_arch:
        arch = etree.Element('arch')
        arch.text = default_arch
        element.insert(0, arch)
    return _xml.to_string(element), disabled


# --- the host ---------------------------------------------------------------------------------------------

def host_cpu(conn):
    """(host <cpu> XML, arch) from the capabilities of the connection."""
    with call('read the host capabilities'):
        text = conn.getCapabilities()
    root = _xml.parse(text, 'capabilities XML')
    cpu = root.find('host/cpu')
    if cpu is None:
        raise LibvirtFailure('The host capabilities describe no host CPU')
    return _xml.to_string(cpu), _xml.find_text(cpu, 'arch')


def hypervisor_args(hypervisor):
    hypervisor = hypervisor or {}
    return tuple(hypervisor.get(key) or None for key in HYPERVISOR_KEYS)


def hypervisor_host_model(conn, hypervisor):
    """The host-model CPU QEMU offers (from the domain capabilities), as a host-style <cpu> element."""
    with call('read the domain capabilities'):
        text = conn.getDomainCapabilities(*(hypervisor_args(hypervisor) + (0,)))
    root = _xml.parse(text, 'domain capabilities XML')
    mode = root.find("cpu/mode[@name='host-model']")
    if mode is None or mode.find('model') is None:
        return None
    element = etree.Element('cpu')
    arch = etree.SubElement(element, 'arch')
    arch.text = _xml.find_text(root, 'arch')
    for child in mode:
        if child.tag in ('model', 'vendor', 'feature'):
            element.append(_copy(child))
    return element


# --- baseline ---------------------------------------------------------------------------------------------

def baseline_flags(expand_features=False, migratable=False):
    flags = 0
    if expand_features:
        flags |= libvirt.VIR_CONNECT_BASELINE_CPU_EXPAND_FEATURES
    if migratable:
        flags |= libvirt.VIR_CONNECT_BASELINE_CPU_MIGRATABLE
    return flags


def baseline(conn, cpus, expand_features=False, migratable=False, hypervisor_aware=None, hypervisor=None):
    """The baseline of CPU definitions. hypervisor_aware: None (where supported), True (required), False.

    Returns dict(xml, cpu, hypervisor_aware, inputs).
    """
    if not cpus:
        raise _xml.XMLInputError('cpus is empty: give at least one CPU definition')
    dummy, host_arch = host_cpu(conn)
    xmls = []
    for index, value in enumerate(cpus):
        what = 'cpus[%d]' % index
        xmls.append(host_style(value, what, default_arch=host_arch)[0])
    flags = baseline_flags(expand_features, migratable)
    used_hypervisor = False
    text = None
    if hypervisor_aware is not False:
        try:
            text = conn.baselineHypervisorCPU(*(hypervisor_args(hypervisor) + (xmls, flags)))
            used_hypervisor = True
        except libvirt.libvirtError as error:
            if not _is_no_support(error) or hypervisor_aware or hypervisor:
                failure = failure_from(error, 'compute the hypervisor-aware baseline CPU')
                if _is_no_support(error):
                    failure.hint = _NO_SUPPORT_HINT
                raise failure
    if text is None:
        with call('compute the baseline CPU'):
            text = conn.baselineCPU(xmls, flags)
    if not text:
        raise LibvirtFailure('libvirt returned no baseline CPU for these definitions')
    return dict(xml=text, cpu=cpu_data(text), hypervisor_aware=used_hypervisor, inputs=xmls)


# --- comparison -------------------------------------------------------------------------------------------

_FEATURES_RE = re.compile(r'features?:\s*(.+)$')


def _reason(message):
    """libvirt's reason without its generic prefix."""
    message = (message or '').strip()
    marker = 'incompatible with host CPU:'
    if marker in message:
        message = message.split(marker, 1)[1].strip()
    return message


def features_from_reason(reason):
    """The feature names in libvirt's 'Host CPU does not provide required features: a, b' reason."""
    if 'does not provide' not in (reason or ''):
        return []
    match = _FEATURES_RE.search(reason)
    if not match:
        return []
    return [name.strip() for name in match.group(1).split(',') if name.strip()]


def expanded(conn, value, what='CPU', default_arch=None):
    """(vendor, set of features) of a CPU with its model expanded into features by libvirt."""
    xml, disabled = host_style(value, what, default_arch=default_arch)
    with call('expand the features of %s' % what):
        text = conn.baselineCPU([xml], libvirt.VIR_CONNECT_BASELINE_CPU_EXPAND_FEATURES)
    data = cpu_data(text)
    return data['vendor'], set(data['features']) - disabled


def compare_definitions(conn, cpu, against, host_arch=None):
    """Compare a CPU with another CPU definition (not the connected host) by their expanded features."""
    cpu_vendor, cpu_features = expanded(conn, cpu, 'the CPU', default_arch=host_arch)
    host_vendor, host_features = expanded(conn, against, 'host_cpu', default_arch=host_arch)
    missing = sorted(cpu_features - host_features)
    reason = None
    if cpu_vendor and host_vendor and cpu_vendor != host_vendor:
        result = 'incompatible'
        reason = 'host CPU vendor %s does not match required CPU vendor %s' % (host_vendor, cpu_vendor)
    elif missing:
        result = 'incompatible'
        reason = 'Host CPU does not provide required features: %s' % ', '.join(missing)
    elif cpu_features == host_features:
        result = 'identical'
    else:
        result = 'superset'
    return dict(result=result, reason=reason, missing_features=missing,
                extra_features=sorted(host_features - cpu_features))


def compare(conn, cpu, hypervisor_aware=None, hypervisor=None, host_cpu_definition=None):
    """Compare a CPU with the host, the hypervisor, or another CPU definition.

    Returns dict(result, against, hypervisor_aware, reason, missing_features, cpu_xml).
    """
    dummy, host_arch = host_cpu(conn)
    xml = cpu_xml(cpu, 'the CPU', default_arch=host_arch)
    if host_cpu_definition is not None:
        outcome = compare_definitions(conn, cpu, host_cpu_definition, host_arch)
        outcome.update(against='host_cpu', hypervisor_aware=False, cpu_xml=xml)
        return outcome

    fail_flag = libvirt.VIR_CONNECT_COMPARE_CPU_FAIL_INCOMPATIBLE
    used_hypervisor = False
    code = None
    reason = None
    if hypervisor_aware is not False:
        try:
            code = conn.compareHypervisorCPU(*(hypervisor_args(hypervisor) + (xml, fail_flag)))
            used_hypervisor = True
        except libvirt.libvirtError as error:
            if error.get_error_code() == libvirt.VIR_ERR_CPU_INCOMPATIBLE:
                used_hypervisor = True
                code, reason = 0, _reason(error.get_error_message())
            elif not _is_no_support(error) or hypervisor_aware or hypervisor:
                failure = failure_from(error, 'compare the CPU with the hypervisor')
                if _is_no_support(error):
                    failure.hint = _NO_SUPPORT_HINT
                raise failure
    if code is None:
        try:
            code = conn.compareCPU(xml, fail_flag)
        except libvirt.libvirtError as error:
            if error.get_error_code() != libvirt.VIR_ERR_CPU_INCOMPATIBLE:
                raise failure_from(error, 'compare the CPU with the host')
            code, reason = 0, _reason(error.get_error_message())
    if code not in COMPARE_RESULTS:
        raise LibvirtFailure('libvirt could not compare the CPU (result %r)' % (code,))
    result = COMPARE_RESULTS[code]
    missing = []
    if result == 'incompatible':
        missing = features_from_reason(reason)
        if not missing:
            missing = _missing_by_expansion(conn, cpu, host_arch, hypervisor if used_hypervisor else None,
                                            used_hypervisor)
    return dict(result=result, against='hypervisor' if used_hypervisor else 'host',
                hypervisor_aware=used_hypervisor, reason=reason, missing_features=missing, cpu_xml=xml)


def _missing_by_expansion(conn, cpu, host_arch, hypervisor, used_hypervisor):
    """Features of the CPU that the host (or the hypervisor's host-model CPU) lacks, from expanded lists."""
    try:
        if used_hypervisor:
            model = hypervisor_host_model(conn, hypervisor)
            if model is None:
                return []
            against = _xml.to_string(model)
        else:
            against = host_cpu(conn)[0]
        dummy, cpu_features = expanded(conn, cpu, 'the CPU', default_arch=host_arch)
        dummy, host_features = expanded(conn, against, 'the host CPU', default_arch=host_arch)
    except (LibvirtFailure, _xml.XMLInputError):
        return []
    return sorted(cpu_features - host_features)
