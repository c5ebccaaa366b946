"""The static flow entry as the core sees it: validated, immutable, independent of any JSON dialect."""
import json
from dataclasses import dataclass, field

from controller.of10.match import FIELD_NAMES

# Floodlight's AppCookie: STATIC_FLOW_APP_ID = 10 in the top 12 bits (APP_ID_SHIFT = 52).
STATIC_FLOW_APP_ID = 10
APP_ID_SHIFT = 52
STATIC_FLOW_COOKIE_BASE = STATIC_FLOW_APP_ID << APP_ID_SHIFT
APP_ID_MASK = 0xfff << APP_ID_SHIFT

# OpenFlow 1.0 match fields in the order ofp_match lays them out (controller.of10.match.MATCH_FIELDS); entries
# keep their match in this order.
MATCH_FIELD_ORDER = FIELD_NAMES


def java_string_hash(text, seed=2311, multiplier=211):
    """Floodlight's flow hash: `h = h * 211 + ch` over UTF-16 code units, with Java int overflow."""
    value = seed
    if text.isascii():  # one UTF-16 unit per character, equal to its code point
        if len(text) <= 64:
            # Reduced once at the end instead of at every step (the same value modulo 2**32): a name is hashed
            # on every push, and for a short one the unreduced number stays a few machine words.
            for unit in text.encode('ascii'):
                value = value * multiplier + unit
            return value & 0xffffffff
        for unit in text.encode('ascii'):
            value = (value * multiplier + unit) & 0xffffffff
        return value
    for unit in _utf16_units(text):
        value = (value * multiplier + unit) & 0xffffffff
    return value


def floodlight_cookie(name):
    """The cookie Floodlight 0.91+ puts on a static flow: (10 << 52) | (hash(name) & 0xffffffff).

    static-flow1 -> 0x00a00000d7014f7f, as in the Floodlight tutorial's dump-flows output.
    """
    return STATIC_FLOW_COOKIE_BASE | java_string_hash(name)


def is_static_flow_cookie(cookie):
    """True for cookies in the static flow pusher's application space (app id 10)."""
    return cookie & APP_ID_MASK == STATIC_FLOW_COOKIE_BASE


def _utf16_units(text):
    data = text.encode('utf-16-be', 'surrogatepass')
    return (high << 8 | low for high, low in zip(data[::2], data[1::2]))


@dataclass(frozen=True, slots=True)
class FlowEntry:
    """One named static flow entry.

    match: tuple of (of10_field, value) in MATCH_FIELD_ORDER; nw_src/nw_dst values are (address, prefix_len).
    actions: tuple of action tuples, e.g. ('output', 3, 65535), ('set_dl_src', '52:54:00:9b:d5:bc').
    request_text: the JSON object as received, serialised (json.dumps), so entries can be stored and re-read
    verbatim; `request` decodes it. None in the entries the static flow table rebuilds for its list: the table
    keeps no request text (docs/performance.md, memory), the store has it.
    actions_given: the request had an `actions` key (Floodlight 0.9x lists "actions": null without one).
    cookie: Floodlight's cookie of the name, computed once (a Python loop over the name's characters).
    """
    name: str
    dpid: int
    priority: int
    match: tuple
    actions: tuple
    active: bool = True
    idle_timeout: int = 0
    hard_timeout: int = 0
    priority_given: bool = True
    request_text: str = field(default='{}', compare=False, hash=False, repr=False)
    actions_given: bool = field(default=False, compare=False, hash=False, repr=False)
    cookie: int = field(init=False, compare=False, hash=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, 'cookie', floodlight_cookie(self.name))

    @property
    def request(self):
        """The JSON object as received (a new dict on every call)."""
        return json.loads(self.request_text)

    def match_dict(self):
        return dict(self.match)
