"""Summarise py-spy's collapsed stacks (`--format raw`): the functions where samples end (self time) and the
ones they pass through (inclusive), as percentages of all samples.

    python -m bench.profile_summary bench/out/profiles/ours-12345.txt [--top 25]
"""
import argparse
import collections
import re


def load(path):
    stacks = []
    with open(path) as handle:
        for line in handle:
            line = line.rstrip('\n')
            if not line:
                continue
            stack, _, count = line.rpartition(' ')
            stacks.append((stack.split(';'), int(count)))
    return stacks


def short(frame):
    """'handle_packet_in (controller/forwarding.py:75)' from py-spy's 'handle_packet_in (/abs/controller/...)'."""
    frame = re.sub(r'\(/[^)]*?/(site-packages|work/main|tmp/[^/]+)/', '(', frame)
    return re.sub(r':\d+\)$', ')', frame)


def summary(stacks, top=25, idle=('wait', 'select', 'poll', 'epoll')):
    total = sum(c for _, c in stacks) or 1
    self_time, inclusive = collections.Counter(), collections.Counter()
    for frames, count in stacks:
        names = [short(f) for f in frames]
        self_time[names[-1]] += count
        for name in set(names):
            inclusive[name] += count
    lines = ['%d samples' % total, '', 'self %:']
    lines += ['  %5.1f  %s' % (100.0 * c / total, n) for n, c in self_time.most_common(top)]
    lines += ['', 'inclusive %:']
    lines += ['  %5.1f  %s' % (100.0 * c / total, n) for n, c in inclusive.most_common(top)]
    return '\n'.join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('path')
    parser.add_argument('--top', type=int, default=25)
    args = parser.parse_args()
    print(summary(load(args.path), args.top))


if __name__ == '__main__':
    main()
