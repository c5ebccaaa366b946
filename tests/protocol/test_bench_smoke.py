"""Every benchmark of `make bench`, at a tiny size, so they keep working. No time is asserted: only that each
benchmark ran, and that results.json has the documented shape with numeric ratios."""
import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.protocol

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KEYS = {'name', 'unit', 'ours', 'peer', 'ratio', 'parameters'}


def test_every_benchmark_runs_at_tiny_size(tmp_path):
    out = tmp_path / 'results.json'
    proc = subprocess.run([sys.executable, '-m', 'bench', '--quick', '--out', str(out), '--code', ROOT], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    doc = json.loads(out.read_text())
    assert doc['machine']['nproc'] >= 1 and doc['machine']['python']
    records = doc['results']
    names = [r['name'] for r in records]
    for prefix in ('packet-ins answered/s', 'generator ceiling', 'RTT median', 'RTT p99', 'REST static flow pushes',
                   'reconnect', 'RSS,', 'RSS growth', 'echo RTT max while', 'switches dropped',
                   'messages per buffered packet-in'):
        assert any(n.startswith(prefix) for n in names), (prefix, names)
    for record in records:
        assert KEYS <= set(record), record
        assert isinstance(record['parameters'], dict)
        assert isinstance(record['peer'], (int, float)), record
        if record['ours'] is None:
            # only the packet-in measures, and only while this checkout has no forwarding app
            assert not os.path.exists(os.path.join(ROOT, 'apps', 'forwarding.py')), record
            assert record['name'].startswith(('packet-ins answered', 'RTT median,', 'RTT p99')), record
        else:
            assert isinstance(record['ours'], (int, float)), record
            if record['peer'] == 0 and record['ours'] != 0:
                assert record['ratio'] is None, record  # x / 0 has no ratio (e.g. a peer whose RSS did not grow)
            else:
                assert isinstance(record['ratio'], (int, float)), record
    # the table printed at the end names every measure
    for name in names:
        assert name in proc.stdout
