"""Two checkouts of this project under the same cbench load, alternating: is a change's packet-in cost within a
bound (issue 15: the packet-in benchmark may not fall by more than 5%)?

    python -m bench.compare --before /tmp/code-before --after . [--rounds 6] [--seconds 30] [--macs 100000]
                            [--load cbench|packetin]

A checkout is a directory (`git archive COMMIT | tar -x -C DIR`). Runs go before, after, after, before, before,
after, ... (each round swaps which goes first, so a drift of the machine during the run lands on both), each a
run of ours alone (16 switches): `--load cbench` (bench.cbench.saturate: buffered packet-ins for --seconds, each
answered by one flow-mod naming the buffer) or `--load packetin` (bench.packetin.throughput: --macs unbuffered
packet-ins per switch, 64 in flight, each answered by a flow-mod and the packet in one write, as for Open
vSwitch). Prints each run and, per measure, both means and medians
and after/before: packet-ins answered per second (what the machine's other core, the generator's, also sways)
and per controller CPU second (the controller's own cost per packet-in, which the generator's share does not
move). Writes the runs to --out as JSON.
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import shutil

from bench import cbench, controllers, packetin
from bench.__main__ import forwarding_args, host_bound_args, Context

MEASURES = (('rate', 'packet-ins answered/s'), ('answered_per_cpu_second', 'per controller CPU second'))


def parse_args(argv):
    parser = argparse.ArgumentParser(prog='python -m bench.compare', description=__doc__.splitlines()[0])
    parser.add_argument('--before', required=True, help='checkout measured as "before"')
    parser.add_argument('--after', required=True, help='checkout measured as "after"')
    parser.add_argument('--rounds', type=int, default=6, help='runs of each checkout')
    parser.add_argument('--seconds', type=int, default=30)
    parser.add_argument('--switches', type=int, default=16)
    parser.add_argument('--macs', type=int, default=100000, help='source MACs per switch (cbench: 100,000)')
    parser.add_argument('--load', choices=('cbench', 'packetin'), default='cbench')
    parser.add_argument('--out', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), 'out',
                                                      'compare.json'))
    return parser.parse_args(argv)


def order(rounds):
    """before/after in pairs, each pair the other way round from the last: B A, A B, B A, ..."""
    for i in range(rounds):
        yield ('before', 'after') if i % 2 == 0 else ('after', 'before')


def run(label, code_root, ctx, args):
    os.environ['BENCH_CODE_ROOT'] = code_root  # bench.controllers.Controller starts this checkout's controller
    ours_args = (forwarding_args(code_root) or []) + host_bound_args(code_root, args.switches * (args.macs + 1))
    ctx = Context(ctx.workdir, ctx.pinning, code_root)
    if args.load == 'cbench':
        result = cbench.saturate('ours', ctx, args.switches, args.macs, args.seconds, extra_args=ours_args)
    else:
        result = packetin.throughput('ours', ctx, args.switches, args.macs, 64, extra_args=ours_args)
        result['answered_per_cpu_second'] = result['answered'] / max(result['controller_cpu_s'], 1e-9)
        result['dropped'] = result['unanswered']
    print('    %-6s %9.0f/s  %9.0f per CPU s  dropped/unanswered %d'
          % (label, result['rate'], result['answered_per_cpu_second'], result['dropped']), flush=True)
    return {key: result[key] for key in ('rate', 'answered_per_cpu_second', 'dropped')}


def summary(runs):
    lines = []
    for key, title in MEASURES:
        before = [r[key] for r in runs['before']]
        after = [r[key] for r in runs['after']]
        lines.append('%s: before mean %.0f (sd %.0f) median %.0f, after mean %.0f (sd %.0f) median %.0f; '
                     'after/before %.3f (means), %.3f (medians)'
                     % (title, statistics.mean(before), statistics.stdev(before) if len(before) > 1 else 0,
                        statistics.median(before), statistics.mean(after),
                        statistics.stdev(after) if len(after) > 1 else 0, statistics.median(after),
                                         statistics.mean(after) / statistics.mean(before),
                                         statistics.median(after) / statistics.median(before)))
    return lines


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    pinning = controllers.Pinning()
    pinning.pin_self()
    workdir = tempfile.mkdtemp(prefix='bench-compare-')
    roots = {'before': os.path.abspath(args.before), 'after': os.path.abspath(args.after)}
    runs = {'before': [], 'after': []}
    try:
        ctx = Context(workdir, pinning, roots['after'])
        for i, pair in enumerate(order(args.rounds)):
            print('round %d' % (i + 1), flush=True)
            for label in pair:
                runs[label].append(run(label, roots[label], ctx, args))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    lines = summary(runs)
    print('\n'.join(lines))
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, 'w') as handle:
        json.dump({'args': vars(args), 'runs': runs, 'summary': lines}, handle, indent=1)


if __name__ == '__main__':
    main()
