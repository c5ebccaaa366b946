"""The topology cannot be forged and the host table is bounded, against scripted OpenFlow 1.0 switches over TCP
(docs/reliability.md, "The topology cannot be forged")."""
import re
import struct
import time

import pytest

from controller.lldp import lldp_frame
from tests.lib.controller import wait_for
from tests.protocol.helpers import colon_dpid
from tests.protocol.ofpeer import DATAPATH, PacketIn, encode
from tests.protocol.test_forwarding import DPID_A, DPID_B, FAST, cable, get_json

pytestmark = pytest.mark.protocol

FORGER_PORT = 1  # a host port of switch B


def links(controller):
    return sorted((l['src-switch'], l['src-port'], l['dst-switch'], l['dst-port'])
                  for l in get_json(controller, '/wm/topology/directed-links/json'))


def test_forged_lldp_from_a_host_makes_no_link_and_removes_none(start_controller, connect_peer):
    controller = start_controller(FAST)
    a = connect_peer(controller, DPID_A)
    b = connect_peer(controller, DPID_B)
    cable(a, 3, b, 3)  # a real cable A:3 -> B:3, announced by the controller's own (signed) LLDP
    real = [(colon_dpid(DPID_A), 3, colon_dpid(DPID_B), 3)]
    wait_for(lambda: links(controller) == real, 5, what='the real link')

    # A host on B:1 claims to be A:3 (which would replace the real link) and A:2: unsigned, and signed with a
    # key that is not the controller's.
    b.send_packet_in(FORGER_PORT, lldp_frame(DPID_A, 3, bytes(6)))
    b.send_packet_in(FORGER_PORT, lldp_frame(DPID_A, 2, bytes(6), b'not the secret' * 3, time.time()))
    b.echo()  # the packet-ins before it are handled
    assert links(controller) == real
    assert get_json(controller, '/wm/topology/links/json')[0]['src-port'] == 3
    counts = get_json(controller, '/wm/topology/lldp/json')
    assert counts['signed'] is True and counts['accepted'] >= 1
    assert counts['rejected']['unsigned'] == 1 and counts['rejected']['bad-authenticator'] == 1
    wait_for(lambda: 'ignored 2 LLDP frame(s)' in controller.log(), 5, what='the warning line')


def test_mac_flood_on_one_port_keeps_the_per_port_bound(start_controller, connect_peer):
    bound = 300
    controller = start_controller(FAST + ('--max-hosts-per-port', str(bound)))
    a = connect_peer(controller, DPID_A)
    wait_for(lambda: a.echo() and True, 5)
    time.sleep(0.3)  # past the port quarantine
    # another host, on another port, learned first: a flood elsewhere must not push it out
    a.send_packet_in(2, b'\xff' * 6 + bytes.fromhex('02000000ff01') + b'\x08\x06' + bytes(46))
    flood = 20000
    batch = []
    for n in range(flood):
        src = struct.pack('!HI', 0x0a00, n)
        batch.append(encode(PacketIn(DATAPATH, 1, b'\xff' * 6 + src + b'\x08\x00' + bytes(46)), 0x10000 + n))
        if len(batch) == 1000:
            a.send_raw(b''.join(batch))
            batch = []
    a.echo(timeout=60)
    hosts = get_json(controller, '/wm/device/')
    on_port_1 = [h for h in hosts if h['attachmentPoint'][0]['port'] == 1]
    assert len(on_port_1) == bound
    # the most recently seen are kept
    assert {h['mac'][0] for h in on_port_1} == {
        ':'.join('%02x' % b for b in struct.pack('!HI', 0x0a00, n)) for n in range(flood - bound, flood)}
    assert [h['mac'] for h in hosts if h['attachmentPoint'][0]['port'] == 2] == [['02:00:00:00:ff:01']]
    wait_for(lambda: [l for l in controller.log().splitlines() if '--max-hosts-per-port' in l], 5, what='the warning')
    time.sleep(1.5)  # three more rounds of the forwarding timer: still one line (the next may come in a minute)
    lines = [l for l in controller.log().splitlines() if '--max-hosts-per-port' in l]
    assert len(lines) == 1, lines
    evicted = int(re.search(r'(\d+) least recently seen', lines[0]).group(1))
    assert 0 < evicted <= flood - bound  # those evicted by the time of the line; the rest go into the next one
