# -*- coding: utf-8 -*-
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one reconcile routine of sysvirt.libvirt: get -> compare -> define|nothing -> outcome.

Private to this collection: the names here may change without notice.

Every XML-defined kind (domain, network, pool, volume, secret, nwfilter, interface, ...) supplies a
``Kind``: how to look it up, read its stored definition, define it, and carry over what libvirt
generated (UUID, MACs) into a redefinition. ``reconcile_definition`` does the rest, the same way for
all of them, in check mode and for real:

1. compare first: nothing to do when the stored definition already satisfies the desired one;
2. otherwise carry over what libvirt generated, define, and read the stored definition back;
3. report ``changed`` only when the stored definition really changed; when it did not, libvirt will not
   keep what was asked for, and a warning says which parts.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.sysvirt.libvirt.plugins.module_utils import _xml
from ansible_collections.sysvirt.libvirt.plugins.module_utils._connection import (
    LibvirtFailure, call, exit_module, lookup, module_connection)

try:
    import libvirt
except ImportError:  # reported by _connection.require_libraries
    libvirt = None


class Outcome:
    """What a module run did (or, in check mode, would do): drives changed, diff, actions, warnings."""

    def __init__(self):
        self.changed = False
        self.actions = []
        self.differences = []
        self.warnings = []
        self.before = None
        self.after = None
        self.obj = None

    def act(self, action):
        """Record an action that changes something."""
        self.actions.append(action)
        self.changed = True

    def perform(self, action, func=None, check=False, what=None):
        """Do ``func`` (not in check mode), then record ``action``: an action that failed is not reported as done.
        ``what`` (for the error message) may be a callable, evaluated only when ``func`` runs."""
        value = None
        if not check and func is not None:
            with call((what() if callable(what) else what) or action):
                value = func()
        self.act(action)
        return value

    def diff(self):
        """The --diff payload: before and after definitions as text, laid out as libvirt writes them (in check
        mode too, so a check run's diff shows the lines the real run's does)."""
        return dict(before=_xml.as_stored(self.before), after=_xml.as_stored(self.after))

    def result(self, **extra):
        result = dict(changed=self.changed, actions=list(self.actions),
                      differences=[d.as_dict() for d in self.differences])
        result.update(extra)
        return result

    def module_result(self, diff=None, **extra):
        """The result in the one shape of every module: changed, actions, differences, diff, warnings, extras.
        ``diff`` replaces the definitions' diff for a kind whose diff shows data (a volume's)."""
        return self.result(diff=self.diff() if diff is None else diff, warnings=list(self.warnings), **extra)


def assumed_parent(noun, name):
    """The warning of a check-mode run whose parent object does not exist yet (an earlier task would create it)."""
    return ('%s %s does not exist yet; check mode predicts this task as if an earlier task of the play had '
            'created it' % (noun, name))


def run_module(module, run, outcome=None, events=False):
    """The one way into and out of a module that changes things: open the connection, ``run(conn, outcome)``,
    exit with the result it returns. A failure after the run changed something reports ``changed`` and the
    ``actions`` done so far (module_connection reads them from the failure)."""
    outcome = Outcome() if outcome is None else outcome
    with module_connection(module, events=events) as conn:
        try:
            result = run(conn, outcome)
        except Exception as exc:
            if getattr(exc, 'outcome', None) is None:
                exc.outcome = outcome
            raise
    exit_module(module, result)


def run_kind(module, run, events=False):
    """The thin main of a module over one kind: ``run(module, conn, outcome)`` returns the module's own values
    (a ``diff`` among them replaces the definitions' diff); the result is built from the Outcome, in the one shape
    of every module (module_result)."""
    run_module(module, lambda conn, outcome: outcome.module_result(**run(module, conn, outcome)), events=events)


class ModuleRun(Outcome):
    """One run of a module that changes things: its module, connection and parameters, and the Outcome it builds."""

    def __init__(self, module, conn):
        super(ModuleRun, self).__init__()
        self.module = module
        self.conn = conn
        self.params = module.params
        self.check = module.check_mode

    def finish(self, diff=None, compared=False, **extra):
        """The result of a day-2 module, in the shape of every module's: changed, actions, the module's own values,
        ``differences`` when it compares a definition (``compared``), its ``diff`` (kept in diff mode only) and
        its warnings (given to module.warn by exit_module)."""
        result = dict(changed=self.changed, actions=list(self.actions), **extra)
        if compared:
            result['differences'] = [d.as_dict() for d in self.differences]
        if diff is not None:
            result['diff'] = diff
        if self.warnings:
            result['warnings'] = list(self.warnings)
        return result

    @classmethod
    def main(cls, module, events=False):
        """Run the module through run_module; the run is its own Outcome."""
        def run(conn, outcome):
            runner = cls(module, conn)
            try:
                return runner.run()
            except Exception as exc:
                exc.outcome = runner
                raise
        run_module(module, run, events=events)


class Kind:
    """What the reconcile routine needs from one kind of libvirt object. Subclasses override these."""

    noun = 'object'
    rules = _xml.DEFAULT_RULES
    #: Tag of the UUID element, or None for kinds without one.
    uuid_tag = 'uuid'
    #: The names of the actions that turn autostart on and off, stop it, and remove its definition.
    autostart_actions = ('autostart', 'no autostart')
    stop_action = 'stop'
    undefine_action = 'undefine'

    def label(self, obj):
        """How messages name the object."""
        return '%s %s' % (self.noun, obj.name())

    def is_active(self, obj):
        return bool(obj.isActive())

    def is_persistent(self, obj):
        return bool(obj.isPersistent())

    def start(self, obj):
        return obj.create()

    def stop(self, obj):
        return obj.destroy()

    def undefine(self, obj):
        return obj.undefine()

    def get_autostart(self, obj):
        return bool(obj.autostart())

    def set_autostart(self, obj, wanted):
        return obj.setAutostart(1 if wanted else 0)

    def identity(self, desired):
        """(name, uuid) from a desired document."""
        return _xml.find_text(desired, 'name'), _xml.find_text(desired, self.uuid_tag) if self.uuid_tag else None

    #: How to find one: (identifier, the connection's lookup method), tried in this order. Every kind puts the UUID
    #: first (it names one object for good; a name can be given to another later), then the name, then what else
    #: identifies the kind. An identifier given as a tuple is passed as several arguments.
    lookups = ()
    #: The connection's method that defines one from text (with the extra arguments it takes).
    define_call = (None, ())
    #: Names of the flags of XMLDesc for the stored definition; a driver that refuses them (the test driver keeps
    #: one definition) is asked without.
    stored_flags = ()

    def lookup(self, conn, **ids):
        """The object the identifiers name, or None."""
        for key, method in self.lookups:
            value = ids.get(key)
            if not value or (isinstance(value, tuple) and not all(value)):
                continue
            found = lookup(getattr(conn, method), *(value if isinstance(value, tuple) else (value,)))
            if found is not None:
                return found
        return None

    def stored_xml(self, obj):
        """The stored (persistent, inactive, with secure data) definition as text."""
        flags = 0
        for name in self.stored_flags:
            flags |= getattr(libvirt, name)
        with call('read the definition of %s' % self.label(obj)):
            try:
                return obj.XMLDesc(flags)
            except libvirt.libvirtError as e:
                if not flags or e.get_error_code() not in (libvirt.VIR_ERR_INVALID_ARG, libvirt.VIR_ERR_NO_SUPPORT):
                    raise
            return obj.XMLDesc(0)

    def define(self, conn, xml):
        """Define (create or replace) from text; return the object."""
        method, extra = self.define_call
        with call('define the %s' % self.noun):
            return getattr(conn, method)(xml, *extra)

    def missing(self, name, how='give its definition (xml) to create it', hint=None):
        """The one failure for an object of this kind that does not exist and cannot be made from what was given."""
        return missing(self.noun, name, how, hint)

    def predict(self, desired, stored, rules):
        """The definition libvirt would store when ``desired`` is defined over ``stored`` (check mode's "after")."""
        return _xml.overlay(desired, stored, rules)

    def carry_over(self, desired, stored):
        """Copy into ``desired`` what libvirt generated in ``stored`` and must be kept (UUID by default)."""
        if self.uuid_tag and desired.find(self.uuid_tag) is None:
            uuid = _xml.find_text(stored, self.uuid_tag)
            if uuid:
                _xml.set_child_text(desired, self.uuid_tag, uuid)
                # keep the UUID right after the name, where libvirt writes it
                element = desired.find(self.uuid_tag)
                name = desired.find('name')
                if name is not None:
                    name.addnext(element)

    def check_identity(self, obj, desired, stored):
        """Fail when the document names one object and identifies another (UUID mismatch)."""
        name, uuid = self.identity(desired)
        stored_uuid = _xml.find_text(stored, self.uuid_tag) if self.uuid_tag else None
        if uuid and stored_uuid and not _xml.same_uuid(uuid, stored_uuid):
            values = (self.noun, name, stored_uuid, uuid, self.noun)
            raise LibvirtFailure('The %s %r exists with UUID %s, but the document asks for UUID %s; remove the '
                                 '<uuid> element or the other %s first' % values)

    def check_found(self, obj, name=None, uuid=None):
        """Return ``obj``; fail when both a name and a UUID were asked for and ``obj`` (found by one of them)
        does not carry both, so a run never acts on an object that one of them does not identify."""
        if obj is None or not name or not uuid or not self.uuid_tag:
            return obj
        found_name, found_uuid = obj.name(), obj.UUIDString()
        if found_name != name:
            raise LibvirtFailure('The %s with UUID %s is named %s, not %s; the name and the UUID must identify the '
                                 'same %s (libvirt cannot rename it)' % (self.noun, found_uuid, found_name, name,
                                                                         self.noun))
        if not _xml.same_uuid(found_uuid, uuid):
            raise LibvirtFailure('The %s %s exists with UUID %s, not %s; the name and the UUID must identify the '
                                 'same %s' % (self.noun, name, found_uuid, uuid, self.noun))
        return obj


def reconcile_definition(conn, kind, desired, check_mode, outcome=None, rules=None, obj=None):
    """Bring the stored definition of one object in line with ``desired`` (text or element).

    Returns the Outcome (with ``obj`` set to the object, None when check mode would create it).
    """
    outcome = outcome or Outcome()
    rules = rules or kind.rules
    if not _xml._is_element(desired):
        desired = _xml.parse(desired, '%s XML' % kind.noun)
    element = desired.find(kind.uuid_tag) if kind.uuid_tag else None
    if element is not None and element.text:
        # Written as libvirt stores it, so 'E3E7...' or a UUID without dashes is no difference on re-runs.
        element.text = _xml.canonical_uuid(element.text)
    name, uuid = kind.identity(desired)
    if obj is None:
        # (same name, other UUID: found by the name, so check_identity can say so plainly)
        obj = kind.lookup(conn, name=name, uuid=uuid)
    if obj is None:
        # A new object's stored form holds what libvirt generates (UUID, MACs, default devices), which check mode
        # cannot know: its "after" is the document as given.
        outcome.before = ''
        if check_mode:
            outcome.after = _xml.as_stored(desired)
        else:
            obj = kind.define(conn, _xml.to_string(desired, pretty=False))
            outcome.after = _xml.as_stored(kind.stored_xml(obj))
        outcome.act('define')
        outcome.obj = obj
        return outcome

    before_text = kind.stored_xml(obj)
    stored = _xml.parse(before_text, 'stored %s XML' % kind.noun)
    kind.check_identity(obj, desired, stored)
    # Both sides laid out as libvirt writes them, in check mode and for real, so --diff shows the same lines.
    outcome.before = _xml.as_stored(stored)
    outcome.obj = obj
    diffs = _xml.differences(desired, stored, rules)
    if not diffs:
        outcome.after = outcome.before
        return outcome
    outcome.differences.extend(diffs)
    kind.carry_over(desired, stored)
    if check_mode:
        outcome.act('redefine')
        outcome.after = _xml.as_stored(kind.predict(desired, stored, rules))
        return outcome
    obj = kind.define(conn, _xml.to_string(desired, pretty=False))
    after_text = kind.stored_xml(obj)
    outcome.obj = obj
    outcome.after = _xml.as_stored(after_text)
    if _xml.canonical(after_text) != _xml.canonical(before_text):
        outcome.act('redefine')
    else:
        outcome.warnings.append(
            'libvirt stores this %s unchanged, so these parts of the document are not kept as written: %s'
            % (kind.noun, '; '.join(str(d) for d in diffs)))
    return outcome


# -- the lifecycle after the definition: removal, start/stop, autostart -----------------------------------------------

def missing(noun, name, how='give its definition (xml) to create it', hint=None):
    """The one failure for an object that does not exist and cannot be created from what was given: "The <noun>
    <name> does not exist; <how>", the same words for every kind."""
    return LibvirtFailure('The %s %s does not exist; %s' % (noun, name, how), hint=hint)


class Step:
    """One planned action: its name in ``actions``, the call that does it (never made in check mode), what the
    failure message says it tried (text, or a callable evaluated only when the call runs), and optionally
    ``counts(value)``, whether the call's return value means it did something (recorded only then)."""

    def __init__(self, action, func, what, counts=None):
        self.action, self.func, self.what, self.counts = action, func, what, counts


def plan(kind, obj, state, autostart=None, between=(), after=(), calls=None):
    """The ordered actions that bring ``obj`` to ``state`` and its autostart to ``autostart`` (None leaves it).

    ``state``: 'absent' (stop it if it runs, then the ``between`` steps, e.g. deleting its storage, then undefine
    it if it is persistent, then the ``after`` steps, e.g. deleting a guest's volumes), 'active' (start it),
    'inactive' (stop it), or 'present' (leave it running or not). ``obj`` None is an object check mode would define
    (inactive, autostart off); for 'absent' there is nothing to do. ``calls`` ({'start': func, ...}) replaces the
    kind's start, stop or undefine for this run. The same plan serves check mode (predicted) and the real run.
    """
    calls = calls or {}
    stop = _step(kind, obj, kind.stop_action, calls.get('stop', kind.stop))
    if state == 'absent':
        if obj is None:
            return []
        persistent = kind.is_persistent(obj)  # (asked first: a transient object is gone once stopped)
        steps = [stop] if kind.is_active(obj) else []
        steps.extend(between)
        if persistent:
            steps.append(_step(kind, obj, kind.undefine_action, calls.get('undefine', kind.undefine)))
        return steps + list(after)
    steps = []
    wanted = {'active': True, 'inactive': False}.get(state)
    active = kind.is_active(obj) if obj is not None else False
    if wanted and not active:
        steps.append(_step(kind, obj, 'start', calls.get('start', kind.start)))
    elif wanted is False and active:
        steps.append(stop)
    if autostart is not None and (kind.get_autostart(obj) if obj is not None else False) != autostart:
        steps.append(Step(kind.autostart_actions[0 if autostart else 1], lambda: kind.set_autostart(obj, autostart),
                          lambda: 'set autostart of %s' % kind.label(obj)))
    return steps


def _step(kind, obj, action, func):
    return Step(action, lambda: func(obj), lambda: '%s %s' % (action, kind.label(obj)))


def execute(steps, check, outcome):
    """Do the steps in order (in check mode, record them as predicted); an action is recorded once its call
    succeeded, so a failure reports exactly what was done before it."""
    for step in steps:
        if step.counts is None or check:
            outcome.perform(step.action, step.func, check, step.what)
            continue
        with call(step.what() if callable(step.what) else step.what):
            value = step.func()
        if step.counts(value):
            outcome.act(step.action)


def converge(kind, obj, state, check, outcome, autostart=None, **planned):
    """Plan the actions for ``state`` and ``autostart`` (``planned``: the rest of plan's arguments) and execute (or
    predict) them; the one lifecycle routine after the definition. An object removed shows its stored definition
    going away in the diff."""
    if state == 'absent' and obj is not None:
        outcome.before, outcome.after = kind.stored_xml(obj), ''
    execute(plan(kind, obj, state, autostart, **planned), check, outcome)


def remove(kind, obj, check, outcome, between=()):
    """Remove ``obj`` (see plan): stop, the ``between`` steps, undefine."""
    converge(kind, obj, 'absent', check, outcome, between=between)


def ensure_active(kind, obj, wanted, check, outcome, start=None):
    """Start (``wanted`` true) or stop (false) ``obj``; None leaves it. ``obj`` None is one check mode would define
    (inactive). ``start`` replaces the kind's start. Returns whether it runs afterwards (or would)."""
    state = {True: 'active', False: 'inactive'}.get(wanted, 'present')
    converge(kind, obj, state, check, outcome, calls=dict(start=start) if start else None)
    return bool(wanted) if wanted is not None else (kind.is_active(obj) if obj is not None else False)


def ensure_autostart(kind, obj, wanted, check, outcome):
    """Set autostart when ``wanted`` (a bool) differs; ``obj`` None is one check mode would define (off)."""
    converge(kind, obj, 'present', check, outcome, autostart=wanted)
