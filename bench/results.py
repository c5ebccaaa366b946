"""One record per measure, results.json and the table.

Each record: name, unit, ours, peer, ratio (= ours / peer, always that way round), parameters, plus `better`
('higher' or 'lower'), the issue's `target` in words, `met` (True, False, or None when there is nothing to
judge yet) and `miss` (by how much, in words, when not met).
"""
import json
import os
import platform
import subprocess
import time


def ratio(ours, peer):
    if ours is None or peer is None:
        return None
    if peer == 0:
        return 0.0 if ours == 0 else float('inf')
    return ours / peer


class Results:
    def __init__(self):
        self.records = []

    def add(self, name, unit, ours, peer, better, parameters, target=None, met=None, miss=None, peer_name=None):
        record = {'name': name, 'unit': unit, 'ours': _num(ours), 'peer': _num(peer), 'ratio': _num(ratio(ours, peer)),
                  'parameters': dict(parameters), 'better': better, 'peer_name': peer_name, 'target': target,
                  'met': met, 'miss': miss}
        self.records.append(record)
        return record

    def write(self, path, machine, sizes):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        doc = {'generated': time.strftime('%Y-%m-%dT%H:%M:%S%z'), 'machine': machine, 'sizes': sizes,
               'results': self.records}
        with open(path + '.tmp', 'w') as handle:
            json.dump(doc, handle, indent=2, sort_keys=False, allow_nan=False, default=str)
        os.replace(path + '.tmp', path)

    def table(self):
        head = ('measure', 'unit', 'ours', 'peer', 'ratio', 'target', 'met')
        rows = [head]
        for r in self.records:
            met = {True: 'yes', False: 'NO', None: '-'}[r['met']]
            if r['met'] is False and r['miss']:
                met += ' (%s)' % r['miss']
            rows.append((r['name'], r['unit'], _fmt(r['ours']), _fmt(r['peer']) + _peer_tag(r),
                         _fmt(r['ratio'], ratio=True), r['target'] or '-', met))
        widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
        lines = ['| ' + ' | '.join(cell.ljust(widths[i]) for i, cell in enumerate(row)) + ' |' for row in rows]
        lines.insert(1, '|' + '|'.join('-' * (w + 2) for w in widths) + '|')
        return '\n'.join(lines)


def _peer_tag(record):
    return ' (%s)' % record['peer_name'] if record.get('peer_name') and record['peer'] is not None else ''


def _num(value):
    if value is None:
        return None
    value = float(value)
    if value != value or value in (float('inf'), float('-inf')):
        return None
    return round(value, 4)


def _fmt(value, ratio=False):
    if value is None:
        return '-'
    if ratio:
        return '%.2fx' % value
    if abs(value) >= 100:
        return '{:,.0f}'.format(value)
    return '%.3g' % value


def machine():
    def first(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ''
    model = ''
    try:
        with open('/proc/cpuinfo') as handle:
            for line in handle:
                if line.startswith('model name'):
                    model = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        import ryu
        ryu_version = ryu.__version__ if hasattr(ryu, '__version__') else ''
    except ImportError:
        ryu_version = ''
    if not ryu_version:
        try:
            from importlib.metadata import version
            ryu_version = version('ryu')
        except Exception:
            ryu_version = ''
    load = os.getloadavg() if hasattr(os, 'getloadavg') else None
    return {'nproc': os.cpu_count(), 'cpu_model': model, 'python': platform.python_version(), 'ryu': ryu_version,
            'kernel': platform.release(), 'loadavg_at_start': [round(x, 2) for x in load] if load else None,
            'git_commit': first(['git', '-C', os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                 'rev-parse', '--short', 'HEAD'])}
