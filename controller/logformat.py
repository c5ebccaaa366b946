"""How log lines look: `2026-12-05T03:01:02.345Z INFO apps.switches: switch 00:00:00:00:00:00:00:01 connected ...`
(ISO 8601 time in UTC with milliseconds, level, the logger's module, the message), or with --log-format json one
JSON object per line, {"time", "level", "module", "message"} and "dpid" when the line is about one switch, for
log collectors (Loki, Elasticsearch, journald's JSON readers) that should not parse text.

A switch is always named "switch <DPID>" in our lines (controller.dpid.format_dpid's colon form), so the JSON
formatter finds the DPID there, or in a record's `dpid` attribute (logging's `extra={'dpid': ...}`). A traceback
stays part of its line's record: after the line in text, a "traceback" member in JSON (still one line).

`install(log_format, root)` puts the formatter on the root logger's handlers that have none: the ones ryu-manager
made from --use-stderr, --log-file, --use-syslog (ryu/log.py's init_log leaves them Python's bare "%(message)s"),
so every app's lines, Ryu's included, look the same. A handler a --log-config-file gave a formatter keeps it.
No Ryu here: logging only.
"""
import json
import logging
import re
import time

TEXT, JSON = 'text', 'json'
FORMATS = (TEXT, JSON)
SWITCH_NAMED = re.compile(r'\bswitch ((?:[0-9a-f]{2}:){7}[0-9a-f]{2})\b')


def iso_time(created, msecs):
    return '%s.%03dZ' % (time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(created)), msecs)


class TextFormatter(logging.Formatter):
    def format(self, record):
        line = '%s %s %s: %s' % (iso_time(record.created, record.msecs), record.levelname, record.name,
                                 record.getMessage())
        extra = _traceback(self, record)
        return line + '\n' + extra if extra else line


class JsonFormatter(logging.Formatter):
    def format(self, record):
        message = record.getMessage()
        line = {'time': iso_time(record.created, record.msecs), 'level': record.levelname, 'module': record.name,
                'message': message}
        dpid = record_dpid(record, message)
        if dpid is not None:
            line['dpid'] = dpid
        extra = _traceback(self, record)
        if extra:
            line['traceback'] = extra
        return json.dumps(line, ensure_ascii=False, default=str)


def record_dpid(record, message):
    """The DPID (colon form) a line is about: its `dpid` extra, else the "switch <DPID>" it names; None."""
    dpid = getattr(record, 'dpid', None)
    if isinstance(dpid, int):
        return dpid.to_bytes(8, 'big').hex(':')
    if dpid is not None:
        return str(dpid)
    found = SWITCH_NAMED.search(message)
    return found.group(1) if found else None


def _traceback(formatter, record):
    parts = []
    if record.exc_info:
        if not record.exc_text:
            record.exc_text = formatter.formatException(record.exc_info)
    if record.exc_text:
        parts.append(record.exc_text)
    if record.stack_info:
        parts.append(formatter.formatStack(record.stack_info))
    return '\n'.join(parts)


def formatter(log_format):
    if log_format not in FORMATS:
        raise ValueError('log format %r: one of %s' % (log_format, ', '.join(FORMATS)))
    return JsonFormatter() if log_format == JSON else TextFormatter()


def install(log_format, root=None):
    """Our formatter on every handler of `root` (the root logger) that has no formatter of its own, or one of
    ours (a second install, e.g. another format). -> how many handlers it was put on."""
    root = root if root is not None else logging.getLogger()
    chosen = formatter(log_format)
    count = 0
    for handler in root.handlers:
        if handler.formatter is None or isinstance(handler.formatter, (TextFormatter, JsonFormatter)):
            handler.setFormatter(chosen)
            count += 1
    return count
