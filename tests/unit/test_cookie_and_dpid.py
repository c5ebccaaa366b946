import pytest

from controller.dpid import DpidError, format_dpid, parse_dpid
from controller.flowentry import floodlight_cookie, is_static_flow_cookie, java_string_hash

pytestmark = pytest.mark.unit


@pytest.mark.parametrize('name,cookie', [
    ('static-flow1', 0x00a00000d7014f7f),     # the Floodlight tutorial's dump-flows
    ('flow-mod-1', 45035997351236006),         # every Floodlight version, captures
    ('ghost', 45036000353996712),              # v0.91 capture (masked, positive)
    ('numvals', 45035997090210697),            # v1.2 capture
])
def test_floodlight_cookie(name, cookie):
    assert floodlight_cookie(name) == cookie
    assert is_static_flow_cookie(cookie)


def test_hash_uses_utf16_code_units():
    # Java hashes the surrogate pair of a non-BMP character as two units.
    assert java_string_hash('\U0001F600') == ((2311 * 211 + 0xD83D) * 211 + 0xDE00) & 0xffffffff


def test_other_cookies_are_not_ours():
    assert not is_static_flow_cookie(0)
    assert not is_static_flow_cookie(0xffffffffd7014f7f)


def test_dpid_round_trip():
    assert format_dpid(0xa296ffdd5645) == '00:00:a2:96:ff:dd:56:45'
    assert parse_dpid(format_dpid(12345)) == 12345


@pytest.mark.parametrize('bad', ['', 'zz', '1:2:3:4:5:6:7:8:9', '123:1', '0x', '1' * 17, -1, 1 << 64, True, 1.5,
                                 None])
def test_bad_dpids(bad):
    with pytest.raises(DpidError):
        parse_dpid(bad)
