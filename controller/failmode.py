"""What a bridge does while its primary controllers are away, as pure functions of OVSDB facts and `now`.

OVS facts (../shared/reference/ovs-controllers.md §2): a standalone bridge fails open 3 x inactivity_probe after
the last message it received from any primary; it then flushes every flow and forwards with a hidden NORMAL
flow. While failed open with a primary connected but not yet admitted, it sends a bogus RARP packet-in every 2 s
from in_port OFPP_LOCAL with a Nicira-OUI source MAC. A secure bridge keeps its flows and drops new traffic.
"""
from controller.of10 import OFPP_LOCAL
ETH_TYPE_RARP = 0x8035
NICIRA_OUI = b'\x00\x23\x20'

STANDALONE = 'standalone'
SECURE = 'secure'
UNKNOWN = 'unknown'
DEFAULT_INACTIVITY_PROBE_MS = 5000


def is_fail_open_packet_in(in_port, data):
    """True for the fake packet-ins of a failed-open OVS bridge; forwarding and learning must ignore them."""
    return (in_port == OFPP_LOCAL and len(data) >= 14 and data[6:9] == NICIRA_OUI
            and int.from_bytes(data[12:14], 'big') == ETH_TYPE_RARP)


def normalize_fail_mode(ovsdb_value):
    """Bridge.fail_mode as OVSDB gives it: empty means standalone."""
    if ovsdb_value in ('', None, [], ['set', []]):
        return STANDALONE
    return ovsdb_value if ovsdb_value in (STANDALONE, SECURE) else UNKNOWN


def fail_open_at(fail_mode, last_received, inactivity_probe_ms):
    """Epoch seconds when a bridge that has heard nothing from its primaries since `last_received` fails open.

    None when it never does (secure). The multiplier uses the configured probe, not rconn's 5 s floor; the
    bridge turns sub-second values into 1 s. An unknown mode is assumed to be OVS's default, standalone.
    """
    if fail_mode == SECURE:
        return None
    probe_s = max(1, (inactivity_probe_ms or DEFAULT_INACTIVITY_PROBE_MS) // 1000)
    return last_received + 3 * probe_s
