"""The topology cannot be forged (signed LLDP) and the host table is bounded (docs/reliability.md)."""
import os
import stat
import struct

import pytest

from controller import forwarding, of10
from controller.devices import DeviceTable
from controller.lldp import check_lldp, lldp_frame, load_secret, parse_lldp

KEY = b'k' * 32
OTHER_KEY = b'o' * 32
NOW = 1_700_000_000.0
A, B = 0xa1, 0xb2


def mac(n):
    return struct.pack('!HI', 0x0200, n)


# --- the LLDP authenticator -------------------------------------------------------------------------------

def test_a_signed_frame_is_valid_and_still_reads_as_before():
    frame = lldp_frame(A, 7, mac(1), KEY, NOW)
    assert check_lldp(frame, 14, KEY, NOW + 1, 35) == ((A, 7), None)
    assert parse_lldp(frame) == (A, 7)


def test_ryu_topology_still_reads_a_signed_frame():
    from apps import ryu_compat
    ryu_compat.apply_all()
    from ryu.topology.switches import LLDPPacket
    assert LLDPPacket.lldp_parse(lldp_frame(A, 7, mac(1), KEY, NOW)) == (A, 7)


def _replace(frame, old, new):
    assert frame.count(old) == 1
    return frame.replace(old, new)


@pytest.mark.parametrize('what', ['chassis', 'dpid tlv', 'port'])
def test_a_tampered_dpid_or_port_is_refused(what):
    frame = lldp_frame(A, 7, mac(1), KEY, NOW)
    if what == 'chassis':
        frame = _replace(frame, b'dpid:%016x' % A, b'dpid:%016x' % B)
    elif what == 'dpid tlv':
        frame = _replace(frame, bytes.fromhex('0026e100') + struct.pack('!Q', A),
                         bytes.fromhex('0026e100') + struct.pack('!Q', B))
    else:
        frame = _replace(frame, b'\x02' + struct.pack('!I', 7), b'\x02' + struct.pack('!I', 8))
    assert parse_lldp(frame) != (A, 7)
    assert check_lldp(frame, 14, KEY, NOW, 35)[0] is None


def test_a_frame_claiming_another_switch_both_ways_is_refused():
    forged = lldp_frame(B, 7, mac(1))[:-2] + lldp_frame(A, 7, mac(1), KEY, NOW)[-2 - 30:]  # A's authenticator on B
    assert check_lldp(forged, 14, KEY, NOW, 35) == (None, 'bad-authenticator')


def test_wrong_key_stale_future_and_missing_tlv_are_refused():
    frame = lldp_frame(A, 7, mac(1), KEY, NOW)
    assert check_lldp(frame, 14, OTHER_KEY, NOW, 35) == (None, 'bad-authenticator')
    assert check_lldp(frame, 14, KEY, NOW + 36, 35) == (None, 'stale')
    assert check_lldp(frame, 14, KEY, NOW - 6, 35, skew=5) == (None, 'future')
    assert check_lldp(frame, 14, KEY, NOW - 4, 35, skew=5) == ((A, 7), None)
    assert check_lldp(lldp_frame(A, 7, mac(1)), 14, KEY, NOW, 35) == (None, 'unsigned')
    assert check_lldp(frame[:20], 14, KEY, NOW, 35) == (None, None)  # not LLDP we can read at all
    # the authenticator's time itself is covered: an old frame with a newer time no longer matches
    newer = lldp_frame(A, 7, mac(1), KEY, NOW + 100)
    stamp_old, stamp_new = struct.pack('!Q', int(NOW * 1000)), struct.pack('!Q', int((NOW + 100) * 1000))
    assert check_lldp(_replace(frame, stamp_old, stamp_new), 14, KEY, NOW + 100, 35) == (None, 'bad-authenticator')
    assert check_lldp(newer, 14, KEY, NOW + 100, 35) == ((A, 7), None)


def test_secret_file_is_made_once_private_and_shared(tmp_path):
    path = str(tmp_path / 'var' / 'lldp-secret')
    first = load_secret(path)
    assert len(first) >= 32 and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_secret(path) == first  # a second instance (or a restart) reads the same one
    assert os.listdir(tmp_path / 'var') == ['lldp-secret']
    (tmp_path / 'short').write_bytes(b'abc\n')
    with pytest.raises(ValueError, match='short.*at least 16'):
        load_secret(str(tmp_path / 'short'))


def _two_switches(secret):
    state = forwarding.ForwardingState(lldp_secret=secret, quarantine=0)
    ports = {p: mac(100 + p) for p in (1, 2, 3)}
    forwarding.switch_connected(state, A, ports, NOW)
    forwarding.switch_connected(state, B, ports, NOW)
    return state


def test_forged_lldp_makes_no_link_and_removes_none_and_is_counted():
    state = _two_switches(KEY)
    # a real cable A:3 - B:3, from the frames the controller itself sends
    forwarding.handle_packet_in(state, B, 3, lldp_frame(A, 3, mac(103), KEY, NOW), NOW)
    assert set(state.topology.links) == {(A, 3, B, 3)}
    # a host on B:1 claims to be A:3 (unsigned), then A:2 signed with another key, then replays B:1's own frame
    for frame in (lldp_frame(A, 3, mac(103)), lldp_frame(A, 2, mac(102), OTHER_KEY, NOW),
                  lldp_frame(B, 1, mac(101), KEY, NOW)):
        assert forwarding.handle_packet_in(state, B, 1, frame, NOW + 1) == ()
    assert set(state.topology.links) == {(A, 3, B, 3)}
    counts = forwarding.lldp_counts(state)
    assert counts['accepted'] == 1 and counts['rejected-total'] == 3
    assert counts['rejected']['unsigned'] == 1 and counts['rejected']['bad-authenticator'] == 1
    assert counts['rejected']['looped'] == 1
    lines = forwarding.warnings(state, NOW + 1)
    assert len(lines) == 1 and 'ignored 3 LLDP' in lines[0]
    assert forwarding.warnings(state, NOW + 2) == []


def test_lldp_sent_is_signed():
    state = _two_switches(KEY)
    out = forwarding.switch_connected(state, A, {1: mac(1)}, NOW)
    frames = [msg.buf[msg.buf.index(b'\x01\x80\xc2'):] for _, msg in out]
    assert frames and all(check_lldp(f, 14, KEY, NOW, 35)[0] == (A, 1) for f in frames)


# --- the host table's bounds ----------------------------------------------------------------------------------

def test_per_port_bound_evicts_the_least_recently_seen_of_that_port():
    table = DeviceTable(max_hosts=100, max_per_port=3)
    for n in range(3):
        table.learn(mac(n), 0, A, 1, NOW + n)
    table.learn(mac(50), 0, A, 2, NOW)         # another port is not touched
    table.learn(mac(0), 0, A, 1, NOW + 10)  # 0 seen again: 1 is now the least recently seen on A:1
    table.learn(mac(3), 0, A, 1, NOW + 11)
    assert set(table.by_mac) == {mac(0), mac(2), mac(3), mac(50)}
    assert table.evicted == {mac(1)}
    assert table.eviction_warnings(NOW + 11) == [(A, 1, 1)]


def test_total_bound_evicts_the_least_recently_seen_of_all():
    table = DeviceTable(max_hosts=3, max_per_port=100)
    for n in range(3):
        table.learn(mac(n), 0, A, n + 1, NOW + n)
    table.learn(mac(0), 0, A, 1, NOW + 5)  # seen again (learn on the same port refreshes too)
    table.learn(mac(9), 0, B, 1, NOW + 6)
    assert set(table.by_mac) == {mac(0), mac(2), mac(9)}
    assert (A, 2) not in table.by_port  # an emptied port leaves nothing behind
    assert table.eviction_warnings(NOW + 6) == [(None, None, 1)]


def test_a_mac_flood_keeps_the_bound_and_warns_once_a_minute():
    state = forwarding.ForwardingState(max_hosts=100000, max_hosts_per_port=100, quarantine=0)
    forwarding.switch_connected(state, A, {1: mac(1), 2: mac(2)}, NOW)
    frame = b'\xff' * 6
    for n in range(5000):
        forwarding.handle_packet_in(state, A, 1, frame + mac(1000 + n) + b'\x08\x00' + bytes(46), NOW + n / 1000)
    assert len(state.devices.by_mac) == 100
    assert set(state.devices.by_mac) == {mac(1000 + n) for n in range(4900, 5000)}  # the most recent ones
    lines = forwarding.warnings(state, NOW + 5)
    assert len(lines) == 1 and '4900 least recently seen' in lines[0]
    forwarding.handle_packet_in(state, A, 1, frame + mac(99999) + b'\x08\x00' + bytes(46), NOW + 6)
    assert forwarding.warnings(state, NOW + 30) == []          # within the minute: counted, not logged
    assert '1 least recently seen' in forwarding.warnings(state, NOW + 66)[0]


def test_flows_of_an_evicted_host_are_deleted_and_a_returning_one_counts_as_moved():
    state = forwarding.ForwardingState(max_hosts=100, max_hosts_per_port=2, quarantine=0)
    forwarding.switch_connected(state, A, {1: mac(1), 2: mac(2)}, NOW)
    h1, h2 = mac(11), mac(22)
    forwarding.handle_packet_in(state, A, 1, b'\xff' * 6 + h1 + b'\x08\x00' + bytes(46), NOW)
    out = forwarding.handle_packet_in(state, A, 2, h1 + h2 + b'\x08\x00' + bytes(46), NOW)
    assert state.flow_count() == 1 and any(m.msg_type == of10.OFPT_FLOW_MOD for _, m in out)
    for n in range(3):  # a flood on h1's port pushes h1 out
        forwarding.handle_packet_in(state, A, 1, b'\xff' * 6 + mac(500 + n) + b'\x08\x00' + bytes(46), NOW + 1)
    assert h1 not in state.devices.by_mac
    deletes = [m for _, m in forwarding.tick(state, NOW + 2) if m.msg_type == of10.OFPT_FLOW_MOD]
    assert len(deletes) == 1 and state.flow_count() == 0
    assert not state.devices.evicted
    # evicted again, then back on another port before the timer ran: its flows go at once (it may have moved)
    forwarding.handle_packet_in(state, A, 2, h1 + h2 + b'\x08\x00' + bytes(46), NOW + 3)  # h2 -> h1: flooded
    state.devices.learn(h1, 0xffff, A, 1, NOW + 3)
    forwarding.handle_packet_in(state, A, 2, h1 + h2 + b'\x08\x00' + bytes(46), NOW + 3)
    assert state.flow_count() == 1
    for n in range(3):
        forwarding.handle_packet_in(state, A, 1, b'\xff' * 6 + mac(600 + n) + b'\x08\x00' + bytes(46), NOW + 4)
    out = forwarding.handle_packet_in(state, A, 2, b'\xff' * 6 + h1 + b'\x08\x00' + bytes(46), NOW + 5)
    assert state.flow_count() == 0 and out and out[0][1].msg_type == of10.OFPT_FLOW_MOD


# --- large replies in pieces ------------------------------------------------------------------------------------

@pytest.mark.parametrize('batch', [1, 2, 3, 200])
def test_streamed_replies_are_the_json_of_the_whole(batch):
    from rest.http import json_bytes, streamed_list, streamed_object
    groups = [(1, list(range(5))), (2, []), (3, list(range(7)))]

    def as_lists(chunk):  # drops the multiples of 3, as a listing drops entries deleted meanwhile
        return {'g%d' % g: ['é%d' % i for i in items if i % 3] for g, items in chunk.items()}

    def as_objects(chunk):
        return {'g%d' % g: {'n%d' % i: {'i': i} for i in items if i != 0} for g, items in chunk.items()}

    for build in (as_lists, as_objects):
        pieces = list(streamed_object(iter(groups), build, batch).pieces)
        assert b''.join(pieces) == json_bytes(build(dict(groups)))[0]
        assert len(pieces) > 3
    assert b''.join(streamed_object(iter([]), as_lists).pieces) == b'{}'
    items = list(range(11))
    assert b''.join(streamed_list(items, lambda i: {'i': i}, batch).pieces) == json_bytes([{'i': i} for i in items])[0]
    assert b''.join(streamed_list([], str).pieces) == b'[]'


def test_a_large_plain_body_is_encoded_in_pieces_to_the_same_json():
    from rest.http import PIECE_ITEMS, is_large, json_bytes, streamed_json
    flows = [{'cookie': str(i), 'match': {'eth_src': '02:00:00:00:00:%02x' % (i % 256)}, 'name': 'é'} for i in
             range(PIECE_ITEMS * 3 + 7)]
    for body in ({'00:01': {'flows': flows}, '00:02': {'flows': []}, '00:03': {'ERROR': 'x'}}, {'flows': flows},
                 flows, {str(i): i for i in range(PIECE_ITEMS + 1)}, [flows, flows[:3]],
                 # GET /wm/core/role/json with more than 100 switches: strings beside a large member
                 {'role': 'MASTER', 'instance': 'h:1:x',
                  'switches': {str(i): 'SLAVE' for i in range(PIECE_ITEMS + 1)}}):
        assert is_large(body)
        pieces = list(streamed_json(body).pieces)
        assert len(pieces) > 3 and b''.join(pieces) == json_bytes(body)[0]
    assert not is_large({'a': [1, 2], 'b': {'c': 3}}) and not is_large('[1]')
