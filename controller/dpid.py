"""Datapath IDs: parse what Floodlight users type, print Floodlight's canonical form."""

import re

DPID_MAX = (1 << 64) - 1
# The canonical form (8 two-digit octets), as every Floodlight client sends it: read without the piece checks.
_CANONICAL = re.compile('(?:[0-9a-f]{2}:){7}[0-9a-f]{2}')


class DpidError(ValueError):
    """A DPID that cannot be read as a 64-bit datapath ID."""


def format_dpid(dpid):
    """Return the canonical colon form Floodlight uses everywhere: 00:00:a2:96:ff:dd:56:45."""
    return dpid.to_bytes(8, 'big').hex(':')


def parse_dpid(value):
    """Read a DPID as Floodlight users write it.

    Accepted: the colon form with 1-2 hex digits per piece (`00:00:00:00:00:00:00:01`, `0:0:0:0:0:0:0:1`),
    a plain hex string of up to 16 digits with an optional 0x (`0000000000000001`, `a296ffdd5645`),
    or a JSON integer. A string without colons is hex, as Floodlight's HexString.toLong reads it.
    """
    if isinstance(value, bool):
        raise DpidError('a DPID is not a boolean')
    if isinstance(value, int):
        if 0 <= value <= DPID_MAX:
            return value
        raise DpidError('DPID %d is not a 64-bit unsigned value' % value)
    if not isinstance(value, str):
        raise DpidError('a DPID must be a string or an integer')
    text = value.strip().lower()
    if _CANONICAL.fullmatch(text):
        return int(text.replace(':', ''), 16)
    if ':' in text:
        pieces = text.split(':')
        if len(pieces) > 8 or not all(1 <= len(p) <= 2 and _is_hex(p) for p in pieces):
            raise DpidError('%r is not a DPID: expected up to 8 colon-separated hex octets' % value)
        return int(''.join(p.rjust(2, '0') for p in pieces), 16)
    if text.startswith('0x'):
        text = text[2:]
    if not 1 <= len(text) <= 16 or not _is_hex(text):
        raise DpidError('%r is not a DPID: expected 00:11:22:33:44:55:66:77 or up to 16 hex digits' % value)
    return int(text, 16)


def _is_hex(text):
    return all(c in '0123456789abcdef' for c in text)
