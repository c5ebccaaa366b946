"""Log line formats (controller/logformat.py): text with ISO time, level, module; JSON one object a line."""
import json
import logging
import re
import sys

import pytest

from controller import logformat

pytestmark = pytest.mark.unit
TEXT_LINE = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+: .*$')


def record(message, *args, name='apps.switches', level=logging.INFO, created=1796439662.345, **extra):
    rec = logging.LogRecord(name, level, __file__, 1, message, args, None)
    rec.created, rec.msecs = created, 345.0
    rec.__dict__.update(extra)
    return rec


def test_text_line_is_iso_utc_time_level_module_message():
    line = logformat.TextFormatter().format(record('switch %s connected', '00:00:00:00:00:00:00:01'))
    assert line == '2026-12-05T03:01:02.345Z INFO apps.switches: switch 00:00:00:00:00:00:00:01 connected'
    assert TEXT_LINE.match(line)


def test_json_line_has_the_dpid_a_line_names_or_carries():
    formatter = logformat.JsonFormatter()
    named = json.loads(formatter.format(record('switch %s: barrier reply failed', '00:00:00:00:00:00:00:2a',
                                               level=logging.ERROR)))
    assert named == {'time': '2026-12-05T03:01:02.345Z', 'level': 'ERROR', 'module': 'apps.switches',
                     'message': 'switch 00:00:00:00:00:00:00:2a: barrier reply failed',
                     'dpid': '00:00:00:00:00:00:00:2a'}
    assert json.loads(formatter.format(record('reconciled', dpid=42)))['dpid'] == '00:00:00:00:00:00:00:2a'
    assert 'dpid' not in json.loads(formatter.format(record('REST on http://127.0.0.1:8080')))


def test_a_traceback_stays_in_its_json_line():
    try:
        raise RuntimeError('boom')
    except RuntimeError:
        rec = logging.LogRecord('apps.forwarding', logging.ERROR, __file__, 1, 'failed', (), sys.exc_info())
    line = logformat.JsonFormatter().format(rec)
    assert '\n' not in line
    assert 'RuntimeError: boom' in json.loads(line)['traceback']


def test_install_formats_handlers_without_a_formatter_and_keeps_a_configured_one():
    root = logging.Logger('test-root')
    bare, configured = logging.StreamHandler(), logging.StreamHandler()
    configured.setFormatter(logging.Formatter('%(message)s'))
    root.addHandler(bare)
    root.addHandler(configured)
    assert logformat.install('text', root) == 1
    assert isinstance(bare.formatter, logformat.TextFormatter)
    assert logformat.install('json', root) == 1  # again, another format: ours is replaced
    assert isinstance(bare.formatter, logformat.JsonFormatter)
    assert type(configured.formatter) is logging.Formatter
    with pytest.raises(ValueError):
        logformat.install('xml', root)
