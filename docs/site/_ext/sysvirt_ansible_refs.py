# Copyright: sysvirt developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sphinx extension (docs build only): resolve references to Ansible's own documentation offline.

antsibull-docs writes references to labels of the Ansible docsite (``common_return_values``,
``ansible_configuration_settings``, ``ansible_collections.ansible.builtin.template_lookup``, configuration
environment variables). A full docsite resolves them through intersphinx, which downloads inventories; our
build runs offline. This extension links exactly those known kinds of targets to docs.ansible.com and leaves
every other missing reference alone, so that Sphinx still warns (and ``-W`` fails the build) for a broken
reference inside this collection.
"""

import re

from docutils import nodes

ANSIBLE_DOCS = 'https://docs.ansible.com/ansible/latest/'

LABELS = {
    'common_return_values': 'reference_appendices/common_return_values.html',
    'ansible_configuration_settings': 'reference_appendices/config.html',
    'playbooks_module_defaults': 'playbook_guide/playbooks_module_defaults.html',
    'action_plugins': 'plugins/action.html',
    'ansible_collections.ansible.builtin.index': 'collections/ansible/builtin/index.html',
}

# ansible_collections.<namespace>.<name>.<plugin>_<type> of a collection other than ours
PLUGIN = re.compile(r'^ansible_collections\.(?P<ns>\w+)\.(?P<coll>\w+)\.(?P<plugin>\w+)_(?P<type>module|lookup|filter|test|'
                    r'inventory|connection|callback|become|cache|shell|strategy|vars|role)$')

OWN_COLLECTION = ('sysvirt', 'libvirt')


def _target_uri(reftype, target):
    if reftype == 'envvar' and re.match(r'^ANSIBLE_[A-Z0-9_]+$', target):
        return ANSIBLE_DOCS + 'reference_appendices/config.html#envvar-' + target
    if reftype != 'ref':
        return None
    if target in LABELS:
        return ANSIBLE_DOCS + LABELS[target]
    m = PLUGIN.match(target)
    if m and (m.group('ns'), m.group('coll')) != OWN_COLLECTION:
        return ANSIBLE_DOCS + 'collections/%s/%s/%s_%s.html' % (m.group('ns'), m.group('coll'), m.group('plugin'), m.group('type'))
    return None


def _missing_reference(app, env, node, contnode):
    uri = _target_uri(node.get('reftype'), node.get('reftarget', ''))
    if uri is None:
        return None
    ref = nodes.reference('', '', internal=False, refuri=uri)
    ref += contnode
    return ref


def setup(app):
    app.connect('missing-reference', _missing_reference)
    return {'parallel_read_safe': True, 'parallel_write_safe': True}
