"""`make bench` / `python -m bench`: every benchmark of docs/performance.md, ours against Ryu's own apps.

Writes bench/out/results.json (one object per measure: name, unit, ours, peer, ratio = ours/peer, parameters,
target, met) and prints the table. `--quick` runs each benchmark at a tiny size (the smoke test does that);
`--only` picks benchmarks. The controller runs on one core and this process (load generator, REST clients,
emulated switches) on the other, when there are two.
"""
import argparse
import os
import re
import shutil
import sys
import tempfile
import time
import traceback

from bench import cbench, controllers, listing, memory, packetin, reconnect, rest, scaleout
from bench.results import Results, machine

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCHMARKS = ('packetin', 'rtt', 'rest', 'reconnect', 'memory', 'listing', 'cbench', 'scaleout', 'workers')
QUICK = dict(switches=2, macs=50, macs_big=200, window=16, rtt_samples=200, rest_entries=100, reconnect_entries=200,
             mem_switches=4, mem_entries=20, reconnects=4, listing_entries=2000, cbench_switches=2, cbench_macs=50,
             cbench_seconds=4, scaleout_switches=4, workers_switches=2, workers_macs=50, workers_seconds=4)
DEFAULTS = dict(switches=16, macs=1000, macs_big=100000, window=64, rtt_samples=10000, rest_entries=5000,
                reconnect_entries=10000, mem_switches=100, mem_entries=1000, reconnects=100, listing_entries=200000,
                cbench_switches=16, cbench_macs=100000, cbench_seconds=60, scaleout_switches=64, workers_switches=16,
                workers_macs=1000, workers_seconds=30)


class Context:
    def __init__(self, workdir, pinning, code_root):
        self.workdir = workdir
        self.pinning = pinning
        self.code_root = code_root

    def tmp(self, name):
        return os.path.join(self.workdir, name)


def forwarding_args(code_root):
    """Flags that turn our reactive forwarding on, or None when this checkout has no forwarding app."""
    if not os.path.exists(os.path.join(code_root, 'apps', 'forwarding.py')):
        return None
    try:
        with open(os.path.join(code_root, 'controller', 'options.py')) as handle:
            text = handle.read()
    except OSError:
        return []
    match = re.search(r"BoolOpt\(\s*'([\w-]*forwarding[\w-]*)'\s*,\s*default\s*=\s*(True|False)", text)
    if match and match.group(2) == 'False':
        return ['--' + match.group(1)]
    return []


def host_bound_args(code_root, hosts):
    """Flags that let our host table hold `hosts` hosts (docs/reliability.md: it is bounded, per port and in all),
    or [] when this checkout has no such bounds."""
    try:
        with open(os.path.join(code_root, 'controller', 'options.py')) as handle:
            text = handle.read()
    except OSError:
        return []
    if "'max-hosts-per-port'" not in text:
        return []
    return ['--max-hosts', str(hosts), '--max-hosts-per-port', str(hosts)]


def parse_args(argv):
    parser = argparse.ArgumentParser(prog='python -m bench', description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true', help='tiny sizes: checks that every benchmark works')
    parser.add_argument('--only', default=','.join(BENCHMARKS),
                        help='comma-separated subset of %s' % ','.join(BENCHMARKS))
    parser.add_argument('--out', default=os.path.join(ROOT, 'bench', 'out', 'results.json'))
    parser.add_argument('--code', default=os.environ.get('BENCH_CODE_ROOT') or ROOT,
                        help='checkout of this project whose controller is measured (default: this one)')
    parser.add_argument('--ours-args', default=None,
                        help='extra ryu-manager flags for ours in the packet-in benchmarks (default: the flag that '
                             'turns forwarding on, found in controller/options.py)')
    parser.add_argument('--keep', action='store_true', help='keep the work directory (controller logs, databases)')
    for name, default in DEFAULTS.items():
        parser.add_argument('--' + name.replace('_', '-'), type=int, default=None,
                            help='default %d (--quick: %d)' % (default, QUICK[name]))
    args = parser.parse_args(argv)
    base = QUICK if args.quick else DEFAULTS
    for name in DEFAULTS:
        if getattr(args, name) is None:
            setattr(args, name, base[name])
    args.only = [b.strip() for b in args.only.split(',') if b.strip()]
    unknown = set(args.only) - set(BENCHMARKS)
    if unknown:
        parser.error('unknown benchmark(s): %s' % ', '.join(sorted(unknown)))
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    pinning = controllers.Pinning()
    pinning.pin_self()
    os.environ['BENCH_CODE_ROOT'] = os.path.abspath(args.code)
    workdir = tempfile.mkdtemp(prefix='bench-')
    ctx = Context(workdir, pinning, os.path.abspath(args.code))
    results = Results()
    sizes = {name: getattr(args, name) for name in DEFAULTS}
    info = machine()
    info['pinning'] = pinning.describe()
    info['quick'] = args.quick
    print('machine: %s' % info, flush=True)
    failures = []
    began = time.monotonic()
    try:
        for name in args.only:
            step = time.monotonic()
            print('--- %s' % name, flush=True)
            try:
                RUNNERS[name](ctx, args, results)
            except Exception:
                failures.append(name)
                traceback.print_exc()
            print('    (%.1f s)' % (time.monotonic() - step), flush=True)
            results.write(args.out, info, sizes)
    finally:
        if args.keep:
            print('work directory kept: %s' % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    info['seconds'] = round(time.monotonic() - began, 1)
    results.write(args.out, info, sizes)
    print()
    print(results.table())
    print('\nwritten: %s (%.0f s)' % (args.out, info['seconds']))
    if failures:
        print('FAILED: %s' % ', '.join(failures), file=sys.stderr)
        return 1
    return 0


# --- the benchmarks -----------------------------------------------------------------------------------

def _ours_packetin_args(ctx, args):
    if args.ours_args is not None:
        return args.ours_args.split()
    return forwarding_args(ctx.code_root)


def _try(label, fn, *a, **kw):
    try:
        return fn(*a, **kw)
    except Exception as error:
        print('    %s: %s' % (label, str(error).splitlines()[0] if str(error) else repr(error)), flush=True)
        return None


def run_packetin(ctx, args, results):
    default_args = _ours_packetin_args(ctx, args)
    fastest = 0.0
    rates = {}
    flood_peer = None
    for macs in (args.macs, args.macs_big):
        # Every packet-in comes from a new source MAC: the table is to hold them all, as the row says, rather
        # than evict (a MAC flood, measured apart below).
        ours_args = None if default_args is None else (
            default_args + host_bound_args(ctx.code_root, args.switches * (macs + 1)))
        params = {'switches': args.switches, 'macs_per_switch': macs, 'window_per_switch': args.window,
                  'buffered': False, 'ours_args': ours_args}
        null = packetin.throughput('null', ctx, args.switches, macs, args.window)
        print('    null responder, %d MACs/switch: %.0f/s' % (macs, null['rate']), flush=True)
        peer = packetin.throughput('simple_switch', ctx, args.switches, macs, args.window)
        print('    simple_switch, %d MACs/switch: %.0f/s' % (macs, peer['rate']), flush=True)
        flood_peer = peer
        ours = None
        if ours_args is None:
            print('    ours: no apps/forwarding.py in %s yet; nothing of ours answers packet-ins' % ctx.code_root)
        else:
            ours = _try('ours', packetin.throughput, 'ours', ctx, args.switches, macs, args.window,
                        extra_args=ours_args)
            if ours:
                print('    ours, %d MACs/switch: %.0f/s' % (macs, ours['rate']), flush=True)
        rates[macs] = ours['rate'] if ours else None
        fastest = max(fastest, peer['rate'], ours['rate'] if ours else 0.0)
        params.update({'peer_detail': peer, 'ours_detail': ours, 'null_detail': null})
        name = 'packet-ins answered/s, %d switches x %s MACs' % (args.switches, '{:,}'.format(macs))
        ratio = ours['rate'] / peer['rate'] if ours else None
        if macs == args.macs:
            results.add(name, 'packet-ins/s', rates[macs], peer['rate'], 'higher', params, peer_name='simple_switch',
                        target='>= 4x simple_switch', met=None if ratio is None else ratio >= 4,
                        miss=None if ratio is None or ratio >= 4 else '%.2fx of 4x' % ratio)
        else:
            small = rates.get(args.macs)
            kept = rates[macs] / small if rates[macs] and small else None
            params['ours_big_over_small'] = kept
            results.add(name, 'packet-ins/s', rates[macs], peer['rate'], 'higher', params, peer_name='simple_switch',
                        target='>= 4x simple_switch and >= 80%% of the %s-MAC rate' % '{:,}'.format(args.macs),
                        met=None if kept is None else (ratio >= 4 and kept >= 0.8),
                        miss=None if kept is None or (ratio >= 4 and kept >= 0.8)
                        else '%.2fx simple_switch, %.0f%% of the small-table rate' % (ratio, kept * 100))
        results.add('generator ceiling (null responder), %s MACs' % '{:,}'.format(macs), 'packet-ins/s', null['rate'],
                    fastest, 'higher', {'switches': args.switches, 'macs_per_switch': macs},
                    peer_name='fastest controller', target='>= 1.5x the fastest controller (not the bottleneck)',
                    met=null['rate'] >= 1.5 * fastest,
                    miss=None if null['rate'] >= 1.5 * fastest else 'only %.2fx' % (null['rate'] / fastest))

    bounded = default_args is not None and host_bound_args(ctx.code_root, 1)
    if bounded:
        macs = args.macs_big
        flood = _try('ours (default host bounds)', packetin.throughput, 'ours', ctx, args.switches, macs, args.window,
                     extra_args=default_args)
        if flood:
            print('    ours with the default host bounds (a MAC flood), %d MACs/switch: %.0f/s' % (macs, flood['rate']),
                  flush=True)
        results.add('packet-ins answered/s, %d switches x %s MACs, default host bounds (a MAC flood)'
                    % (args.switches, '{:,}'.format(macs)), 'packet-ins/s', flood['rate'] if flood else None,
                    flood_peer['rate'], 'higher',
                    {'switches': args.switches, 'macs_per_switch': macs, 'ours_args': default_args,
                     'ours_detail': flood, 'peer_detail': flood_peer}, peer_name='simple_switch',
                    target='- (past --max-hosts-per-port each new host evicts one, whose flow is deleted)')


def run_rtt(ctx, args, results):
    ours_args = _ours_packetin_args(ctx, args)
    null = packetin.rtt('null', ctx, args.rtt_samples)
    peer = packetin.rtt('simple_switch', ctx, args.rtt_samples)
    ours = None
    if ours_args is not None:
        ours = _try('ours', packetin.rtt, 'ours', ctx, args.rtt_samples, extra_args=ours_args)
    else:
        print('    ours: no apps/forwarding.py in %s yet' % ctx.code_root)
    print('    null %s\n    simple_switch %s\n    ours %s' % (null, peer, ours), flush=True)
    params = {'samples': args.rtt_samples, 'in_flight': 1, 'null_responder': null, 'ours_args': ours_args}
    for key, label, limit in (('median_us', 'median', 150), ('p99_us', 'p99', 500)):
        value = ours[key] if ours else None
        results.add('RTT %s, one packet-in in flight' % label, 'us', value, peer[key], 'lower', params,
                    peer_name='simple_switch', target='<= %d us' % limit,
                    met=None if value is None else value <= limit,
                    miss=None if value is None or value <= limit else '+%.0f us' % (value - limit))
    results.add('RTT median floor (null responder)', 'us', null['median_us'], peer['median_us'], 'lower', params,
                peer_name='simple_switch', target='- (what the generator and loopback cost)')


def run_rest(ctx, args, results):
    peer = rest.run('ofctl_rest', ctx, args.rest_entries)
    print('    ofctl_rest %s' % peer, flush=True)
    ours = rest.run('ours', ctx, args.rest_entries)
    print('    ours %s' % ours, flush=True)
    # None for a code root older than --durability (a before/after run): the rows are left out then
    full = _try('ours --durability full', rest.run, 'ours', ctx, args.rest_entries, extra_args=['--durability', 'full'])
    print('    ours --durability full %s' % full, flush=True)
    null = rest.floor(ctx, args.rest_entries)
    print('    null REST app %s' % null, flush=True)
    for clients in (1, 8):
        o, p = ours[clients]['rate'], peer[clients]['rate']
        ok = o >= 3 * p and (clients != 1 or o >= 5000)
        target = '>= 5,000/s and >= 3x ofctl_rest' if clients == 1 else '>= 3x ofctl_rest'
        misses = []
        if clients == 1 and o < 5000:
            misses.append('%.0f%% of 5,000/s' % (o / 50.0))
        if o < 3 * p:
            misses.append('%.2fx of 3x' % (o / p))
        results.add('REST static flow pushes confirmed/s, %d client%s' % (clients, '' if clients == 1 else 's'),
                    'entries/s', o, p, 'higher', {'entries': args.rest_entries, 'clients': clients,
                                                  'ours_detail': ours[clients], 'peer_detail': peer[clients]},
                    peer_name='ofctl_rest', target=target, met=ok, miss=', '.join(misses) or None)
    for clients in (1, 8) if full else ():  # the same run, against the default durability (docs/reliability.md)
        results.add('REST static flow pushes confirmed/s with --durability full (fsync per commit), %d client%s'
                    % (clients, '' if clients == 1 else 's'), 'entries/s', full[clients]['rate'],
                    ours[clients]['rate'], 'higher', {'entries': args.rest_entries, 'clients': clients,
                                                      'detail': full[clients]},
                    peer_name='ours, --durability normal',
                    target='- (the price of surviving a power cut: an fsync per group commit)')
    for clients in (1, 8):
        results.add('REST controller CPU per entry, %d client%s' % (clients, '' if clients == 1 else 's'), 'us',
                    ours[clients]['controller_cpu_us_per_entry'], peer[clients]['controller_cpu_us_per_entry'],
                    'lower', {'entries': args.rest_entries, 'clients': clients}, peer_name='ofctl_rest',
                    target='- (user + system time of the controller process; steadier than the rates)')
    for clients in (1, 8):
        results.add('REST floor (our HTTP server answering at once), %d client%s' % (clients, '' if clients == 1
                                                                                     else 's'),
                    'requests/s', null[clients]['rate'], peer[clients]['rate'], 'higher',
                    {'requests': args.rest_entries, 'clients': clients, 'detail': null[clients]},
                    peer_name='ofctl_rest',
                    target='- (what the server, eventlet and loopback cost: no push can be faster)')


def run_reconnect(ctx, args, results):
    n = args.reconnect_entries
    ours = reconnect.run_ours(ctx, n)
    print('    ours %s' % ours, flush=True)
    peer = reconnect.run_peer(ctx, n)
    print('    ofctl_rest re-push %s' % peer, flush=True)
    params = {'entries': n, 'ours_detail': ours, 'peer_detail': peer,
              'peer_method': 'a script re-pushing every entry through ofctl_rest on connect, one keep-alive client'}
    results.add('reconnect, %s entries, empty switch: all confirmed' % '{:,}'.format(n), 's', ours['fresh_s'],
                peer['repush_s'], 'lower', params, peer_name='ofctl_rest re-push', target='< 2 s',
                met=ours['fresh_s'] < 2, miss=None if ours['fresh_s'] < 2 else '+%.2f s' % (ours['fresh_s'] - 2))
    results.add('reconnect, %s entries, unchanged secure mode: all confirmed' % '{:,}'.format(n), 's',
                ours['unchanged_s'], peer['repush_s'], 'lower', params, peer_name='ofctl_rest re-push',
                target='- (timed the same way)')
    results.add('reconnect, %s entries, unchanged secure mode: flow-mods sent' % '{:,}'.format(n), 'flow-mods',
                ours['unchanged_flow_mods'], peer['flow_mods'], 'lower', params, peer_name='ofctl_rest re-push',
                target='0', met=ours['unchanged_flow_mods'] == 0,
                miss=None if ours['unchanged_flow_mods'] == 0 else '%d sent' % ours['unchanged_flow_mods'])


def run_memory(ctx, args, results):
    ours = memory.run('ours', ctx, args.mem_switches, args.mem_entries, args.reconnects)
    print('    ours %s' % ours, flush=True)
    peer = memory.run('ofctl_rest', ctx, args.mem_switches, args.mem_entries, args.reconnects)
    print('    ofctl_rest %s' % peer, flush=True)
    params = {'switches': args.mem_switches, 'entries_per_switch': args.mem_entries, 'reconnects': args.reconnects,
              'ours_detail': ours, 'peer_detail': peer,
              'peer_note': 'ofctl_rest keeps no entries: its RSS is what Ryu costs with the switches connected'}
    results.add('RSS, %d switches x %s entries' % (args.mem_switches, '{:,}'.format(args.mem_entries)), 'MB',
                ours['loaded_mb'], peer['loaded_mb'], 'lower', params, peer_name='ofctl_rest', target='< 150 MB',
                met=ours['loaded_mb'] < 150,
                miss=None if ours['loaded_mb'] < 150 else '+%.0f MB' % (ours['loaded_mb'] - 150))
    results.add('RSS growth after %d reconnects' % args.reconnects, 'MB', ours['growth_mb'], peer['growth_mb'],
                'lower', params, peer_name='ofctl_rest', target='<= 5 MB', met=ours['growth_mb'] <= 5,
                miss=None if ours['growth_mb'] <= 5 else '+%.1f MB' % (ours['growth_mb'] - 5))


def run_cbench(ctx, args, results):
    """cbench's fake switch, saturated (bench/cbench.py): rate, liveness, floods, messages per answer, memory."""
    sizes = (args.cbench_switches, args.cbench_macs, args.cbench_seconds)
    peer = cbench.saturate('simple_switch', ctx, *sizes)
    print('    simple_switch %s' % {k: v for k, v in peer.items() if k != 'per_second'}, flush=True)
    ours_args = _ours_packetin_args(ctx, args)
    if ours_args is not None:  # hold every host, as simple_switch does: bytes per host compare like with like
        ours_args = ours_args + host_bound_args(ctx.code_root, sizes[0] * (sizes[1] + 1))
    ours = _try('ours', cbench.saturate, 'ours', ctx, *sizes, extra_args=ours_args or ())
    print('    ours %s' % ({k: v for k, v in ours.items() if k != 'per_second'} if ours else None), flush=True)
    params = {'switches': sizes[0], 'macs_per_switch': sizes[1], 'seconds': sizes[2], 'buffered': True,
              'ours_detail': ours, 'peer_detail': peer}
    where = '%d cbench switches x %s MACs, %d s saturated' % (sizes[0], '{:,}'.format(sizes[1]), sizes[2])

    def add(name, unit, key, better, target, ok):
        value = ours[key] if ours else None
        results.add('%s, %s' % (name, where), unit, value, peer[key], better, params, peer_name='simple_switch',
                    target=target, met=None if value is None else ok(value),
                    miss=None if value is None or ok(value) else '%s' % value)
    add('packet-ins answered/s', 'packet-ins/s', 'rate', 'higher', '- (the load generator shares the machine)',
        lambda value: True)
    add('switches dropped', 'switches', 'dropped', 'lower', '0 (liveness under saturation)', lambda value: value == 0)
    add('answers that were floods', 'share', 'flood_share', 'lower', '<= 1% (the ARP at connect is learned)',
        lambda value: value <= 0.01)
    add('messages per buffered packet-in', 'messages', 'messages_per_answer', 'lower', '<= 1.01 (one, naming the '
        'buffer)', lambda value: value <= 1.01)
    # Each host sent one packet-in to the ARP's sender: ours holds a host and a tracked flow for it (200 B each at
    # most, issue 17), simple_switch a dict entry and no flow.
    add('resident memory per learned host (with its forwarding flow)', 'bytes', 'bytes_per_host', 'lower',
        '<= 400 B (200 for the host, 200 for its flow)', lambda value: value <= 400)



def run_workers(ctx, args, results):
    """--workers 2 against one process, in the same run, under the same cbench load (bench/cbench.py): the
    aggregate packet-in rate (docs/scale-out.md). One process runs on its core as every benchmark's controller; the
    two workers on two cores the generator does not use when the machine has three, else on both cores, the
    generator's among them (bench.controllers.WorkerPinning says which in the row)."""
    sizes = (args.workers_switches, args.workers_macs, args.workers_seconds)
    ours_args = _ours_packetin_args(ctx, args)
    if ours_args is None:
        print('    ours: no apps/forwarding.py in %s yet' % ctx.code_root)
        return
    ours_args = ours_args + host_bound_args(ctx.code_root, sizes[0] * (sizes[1] + 1))
    one = cbench.saturate('ours', ctx, *sizes, extra_args=ours_args)
    print('    ours, 1 process (%s): %.0f/s, %d dropped, CPU s %s' % (ctx.pinning.describe(), one['rate'],
                                                                     one['dropped'], one['cpu_seconds']), flush=True)
    pinning = controllers.WorkerPinning(2, ctx.pinning)
    two = _try('ours --workers 2', cbench.saturate, 'ours', ctx, *sizes, extra_args=ours_args + ['--workers', '2'],
               pinning=pinning)
    if two:
        print('    ours, 2 workers (%s): %.0f/s, %d dropped, CPU s %s' % (
            pinning.describe(), two['rate'], two['dropped'], two['cpu_seconds']), flush=True)
    ratio = two['rate'] / one['rate'] if two and one['rate'] else None
    params = {'switches': sizes[0], 'macs_per_switch': sizes[1], 'seconds': sizes[2], 'buffered': True,
              'one_pinning': ctx.pinning.describe(), 'two_pinning': pinning.describe(), 'cores_to_spare': pinning.spare,
              'ours_detail': two, 'peer_detail': one}
    met = None if ratio is None or not pinning.spare else ratio >= 1.7
    results.add('packet-ins answered/s, 2 workers against 1 process, %d cbench switches x %s MACs, %d s' % (
        sizes[0], '{:,}'.format(sizes[1]), sizes[2]), 'packet-ins/s', two['rate'] if two else None, one['rate'],
        'higher', params, peer_name='ours, 1 process',
        target='>= 1.7x with a core to spare for the generator' + ('' if pinning.spare else
                                                                    ' (none here: not judged)'),
        met=met, miss=None if met is not False else '%.2fx' % ratio)
    results.add('packet-ins answered per controller CPU second, 2 workers against 1 process', 'packet-ins/CPU s',
                two['answered_per_cpu_second'] if two else None, one['answered_per_cpu_second'], 'higher', params,
                peer_name='ours, 1 process',
                target='- (near 1x: each worker does a core\'s work, so N workers on N free cores give N x)')
    results.add('switches dropped, 2 workers, %d cbench switches saturated' % sizes[0], 'switches',
                two['dropped'] if two else None, one['dropped'], 'lower', params, peer_name='ours, 1 process',
                target='0', met=None if two is None else two['dropped'] == 0,
                miss=None if two is None or two['dropped'] == 0 else '%d' % two['dropped'])


def run_listing(ctx, args, results):
    clients = 4
    ours = listing.run(ctx, args.listing_entries, clients)
    print('    ours %s' % _short(ours), flush=True)
    peer = listing.run_peer(ctx, args.listing_entries, clients)
    print('    ofctl_rest %s' % _short(peer), flush=True)
    params = {'entries': args.listing_entries, 'clients': clients, 'ours_detail': ours, 'peer_detail': peer,
              'peer_method': 'ofctl_rest keeps no entries: 4 clients GET /stats/flow/<dpid> of an emulated switch '
                             'holding as many flows'}
    results.add('echo RTT max while %d clients list %s entries' % (clients, '{:,}'.format(args.listing_entries)),
                'ms', ours['max_ms'], peer['max_ms'], 'lower', params, peer_name='ofctl_rest', target='< 100 ms',
                met=ours['max_ms'] < 100, miss=None if ours['max_ms'] < 100 else '+%.0f ms' % (ours['max_ms'] - 100))


def _short(detail):
    return {key: value for key, value in detail.items() if key != 'listings'}


RUNNERS = {'packetin': run_packetin, 'rtt': run_rtt, 'rest': run_rest, 'reconnect': run_reconnect,
           'memory': run_memory, 'listing': run_listing, 'cbench': run_cbench,
           'scaleout': scaleout.run, 'workers': run_workers}

if __name__ == '__main__':
    sys.exit(main())
