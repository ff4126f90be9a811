#!/usr/bin/env python
# Copyright (c) sysvirt.libvirt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Load on the libvirt_events source: N guests defined, started and stopped R times, and undefined, by W worker
threads, while the source watches; every lifecycle event must arrive once, in order per guest.

The guests live in the test driver of a private libvirtd of this script (tests/utils/private_libvirtd.py: its
own socket, config and pid under /var/tmp, stopped by its PID at the end), reached as test+unix:///default, so
the events cross a real daemon and its RPC socket as they do from qemu:///system, and nothing touches the shared
daemon. The source runs in a process of its own (this script with --watch), on asyncio with libvirtaio, as
ansible-rulebook runs it, and prints each record with the time it was put on the queue; this process drives the
guests from worker threads (libvirtaio's handles must stay on its loop's thread).

Latency: for each event, the time from the return of the API call that caused it (virDomainCreate, ...) on the
worker thread to the moment the source put the record on its queue. libvirt does not stamp events, and the daemon
queues an event before it answers the call, so this is the delivery delay as a client sees it; a negative value
means the event was on the queue before the worker saw its call return.

Usage: python bench/events_load.py [--guests 100] [--rounds 2] [--workers 4] [--pace 0] [--json] [--out FILE]
Run as root (the private daemon runs as nobody). A benchmark, not a timed assertion: the test
tests/reliability/test_events_load.py runs it and checks delivery and order only.
"""

import argparse
import asyncio
import datetime
import json
import os
import platform
import runpy
import signal
import statistics
import subprocess
import sys
import threading
import time

import libvirt

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, 'tests'))
from utils.private_libvirtd import PrivateLibvirtd  # noqa: E402

SOURCE = os.path.join(REPO, 'extensions', 'eda', 'plugins', 'event_source', 'libvirt_events.py')
PREFIX = 'sysvirt-test-evload-'
XML = "<domain type='test'><name>%s</name><memory>8192</memory><os><type>hvm</type></os></domain>"


class PrintingQueue:
    """The source's queue in the watcher process: each record as a JSON line, with the time it was put."""

    def put_nowait(self, rec):
        sys.stdout.write(json.dumps([time.time(), rec]) + '\n')
        sys.stdout.flush()

    async def put(self, rec):
        self.put_nowait(rec)


def _interrupt(signum, frame):
    raise KeyboardInterrupt()


def watch(uri):
    """The watcher process: the source on asyncio with libvirtaio, as ansible-rulebook runs it, until SIGTERM."""
    source = runpy.run_path(SOURCE)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        asyncio.run(source['main'](PrintingQueue(), dict(uris=[uri], kinds=['domain'], types=['lifecycle'],
                                                         names=[PREFIX + '*'])))
    except KeyboardInterrupt:
        pass
    return 0


class Watcher:
    """The watcher process seen from the driving process: its records, read as they come."""

    def __init__(self, uri):
        self.items = []
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), '--watch', uri],
                                     stdout=subprocess.PIPE, text=True)
        self.reader = threading.Thread(target=self._read)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.items.append(json.loads(line))

    def count(self, kind):
        return sum(1 for dummy, rec in self.items if rec['kind'] == kind)

    def wait(self, predicate, timeout):
        deadline = time.monotonic() + timeout
        while not predicate() and time.monotonic() < deadline and self.proc.poll() is None:
            time.sleep(0.05)
        return predicate()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(30)
        self.reader.join(30)


class Workers:
    """W threads, each with its own connection, each running its share of the guests through every step."""

    def __init__(self, uri, names, rounds, workers, pace=0.0):
        self.uri, self.names, self.rounds, self.workers, self.pace = uri, names, rounds, workers, pace
        self.calls = {}  # (name, n-th event of that guest) -> time the causing call returned
        self.errors = []

    def expected(self):
        return ['defined'] + ['started', 'stopped'] * self.rounds + ['undefined']

    def _work(self, names):
        conn = libvirt.open(self.uri)
        try:
            steps = [('defined', lambda n: conn.defineXML(XML % n))]
            for dummy in range(self.rounds):
                steps.append(('started', lambda n: conn.lookupByName(n).create()))
                steps.append(('stopped', lambda n: conn.lookupByName(n).destroy()))
            steps.append(('undefined', lambda n: conn.lookupByName(n).undefine()))
            for index, (dummy, step) in enumerate(steps):
                for name in names:
                    step(name)
                    self.calls[(name, index)] = time.time()
                    if self.pace:
                        time.sleep(self.pace)
        except libvirt.libvirtError as e:
            self.errors.append(str(e))
        finally:
            conn.close()

    def run(self):
        threads = [threading.Thread(target=self._work, args=(self.names[i::self.workers],))
                   for i in range(self.workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def watch_and_drive(uri, names, rounds, workers, pace):
    watcher = Watcher(uri)
    try:
        if not watcher.wait(lambda: watcher.count('connection') > 0, 30):
            raise RuntimeError('the source did not connect to %s' % uri)
        drive = Workers(uri, names, rounds, workers, pace)
        started = time.monotonic()
        drive.run()
        calls_seconds = time.monotonic() - started
        want = len(names) * len(drive.expected())
        watcher.wait(lambda: watcher.count('domain') >= want, 60)
        time.sleep(1)  # anything extra (a duplicate) would arrive now
    finally:
        watcher.stop()
    return drive, watcher, calls_seconds


def analyse(drive, queue, names):
    per_guest = dict((n, []) for n in names)
    latencies = []
    for put_time, rec in queue.items:
        if rec['kind'] != 'domain':
            continue
        seq = per_guest.setdefault(rec['name'], [])
        index = len(seq)
        seq.append(rec['event'])
        if (rec['name'], index) in drive.calls:
            latencies.append(put_time - drive.calls[(rec['name'], index)])
    expected = drive.expected()
    wrong = dict((n, seq) for n, seq in per_guest.items() if seq != expected)
    latencies.sort()

    def pct(p):
        return round(latencies[min(len(latencies) - 1, int(p / 100.0 * len(latencies)))] * 1000, 3) \
            if latencies else None
    return dict(guests=len(names), events_expected=len(names) * len(expected),
                events_delivered=sum(len(s) for s in per_guest.values()), wrong_sequences=wrong,
                expected_sequence=expected, errors=drive.errors, latency_ms=dict(
                    p50=pct(50), p90=pct(90), p99=pct(99), max=pct(100),
                    mean=round(statistics.mean(latencies) * 1000, 3) if latencies else None,
                    negative=sum(1 for x in latencies if x < 0)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--guests', type=int, default=100)
    parser.add_argument('--rounds', type=int, default=2)
    parser.add_argument('--workers', type=int, default=4)
    parser.add_argument('--pace', type=float, default=0.0,
                        help='seconds each worker sleeps after each call (0: as fast as the daemon answers)')
    parser.add_argument('--json', action='store_true', help='print the result as JSON only')
    parser.add_argument('--out', help='also write the report here (default bench/results/events-<date>.txt)')
    parser.add_argument('--watch', metavar='URI', help=argparse.SUPPRESS)  # the watcher process
    opts = parser.parse_args()
    if opts.watch:
        return watch(opts.watch)
    libvirt.registerErrorHandler(lambda ctx, err: None, None)
    names = ['%s%03d' % (PREFIX, i) for i in range(opts.guests)]
    daemon = PrivateLibvirtd()
    keep = None
    try:
        daemon.start()
        keep = libvirt.open(daemon.test_uri)  # the test driver's state lives while a connection is open
        started = time.monotonic()
        drive, queue, calls_seconds = watch_and_drive(daemon.test_uri, names, opts.rounds, opts.workers,
                                                      opts.pace)
        result = analyse(drive, queue, names)
        result.update(wall_seconds=round(time.monotonic() - started, 2), calls_seconds=round(calls_seconds, 2),
                      rounds=opts.rounds, workers=opts.workers, pace=opts.pace)
    finally:
        if keep is not None:
            keep.close()
        daemon.close()
    if opts.json:
        print(json.dumps(result))
        return 0 if not result['wrong_sequences'] and not result['errors'] else 1
    lines = [
        'libvirt_events load: %(guests)d guests x (define, %(rounds)d x start/stop, undefine), %(workers)d worker '
        'threads pausing %(pace)s s after each call, test driver in a private libvirtd' % result,
        'date %s, host %s, python %s, libvirt %s' % (
            datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'), platform.node(),
            platform.python_version(), libvirt.getVersion()),
        'events: %(events_delivered)d delivered of %(events_expected)d expected; guests with a wrong sequence: '
        '%(n_wrong)d; API errors: %(n_errors)d'
        % dict(result, n_wrong=len(result['wrong_sequences']), n_errors=len(result['errors'])),
        'API calls took %(calls_seconds)s s; whole run %(wall_seconds)s s' % result,
        'latency, call returned -> on the queue (ms): p50 %(p50)s  p90 %(p90)s  p99 %(p99)s  max %(max)s  '
        'mean %(mean)s  (negative: %(negative)d)' % result['latency_ms'],
    ]
    report = '\n'.join(lines) + '\n'
    out = opts.out or os.path.join(HERE, 'results', 'events-%s.txt'
                                   % datetime.datetime.now(datetime.timezone.utc).strftime('%Y%m%dT%H%M%SZ'))
    with open(out, 'w') as handle:
        handle.write(report)
    sys.stdout.write(report + 'written to %s\n' % out)
    return 0 if not result['wrong_sequences'] and not result['errors'] else 1


if __name__ == '__main__':
    sys.exit(main())
