"""Entries are committed before "Entry pushed": a controller killed with SIGKILL loses none of them."""
import json
import socket

import pytest
from ryu.ofproto import ofproto_v1_0 as ofp

from tests.protocol.helpers import colon_dpid, list_entries, push_ok, wait_synced

pytestmark = pytest.mark.protocol

DPID = 0x0000000000000707


def test_entries_survive_sigkill(start_controller, connect_peer):
    first = start_controller()
    pushed = {}
    for i, priority in enumerate((500, 100, 300)):
        name = 'durable-%d' % i
        push_ok(first, {'switch': colon_dpid(DPID), 'name': name, 'priority': str(priority),
                        'eth_dst': '52:54:00:00:07:%02x' % i, 'actions': 'output=%d' % (i + 1)})
        pushed[name] = priority
    first.kill()  # SIGKILL right after the last reply: no shutdown code runs

    second = start_controller(db_path=first.db_path)
    listing = list_entries(second)
    assert list(listing) == [colon_dpid(DPID)]
    names = {name: body for item in listing[colon_dpid(DPID)] for name, body in item.items()}
    assert {name: int(body['priority']) for name, body in names.items()} == pushed
    assert names['durable-2']['match'] == {'eth_dst': '52:54:00:00:07:02'}
    assert names['durable-2']['actions'] == {'actions': 'output=3'}

    peer = connect_peer(second, DPID, wait='ready')
    sent = wait_synced(peer)
    adds = [m for m in sent if m.msg_type == ofp.OFPT_FLOW_MOD]
    assert [(fm.command, fm.priority) for fm in adds] == [(ofp.OFPFC_ADD, 100), (ofp.OFPFC_ADD, 300),
                                                          (ofp.OFPFC_ADD, 500)], peer.dump()
    assert sent[-1].msg_type == ofp.OFPT_BARRIER_REQUEST


def test_concurrent_pushes_are_all_kept_and_one_flow_has_one_owner(start_controller, connect_peer):
    """Eight keep-alive clients sending at once (pushes that arrive together share one SQLite commit and are
    checked against each other): in each of 20 rounds eight entries race for one match and priority, exactly
    one is accepted and the others are 409, and the switch gets one flow for it; every acknowledged entry
    survives SIGKILL."""
    first = start_controller()
    peer = connect_peer(first, DPID)
    clients = [socket.create_connection(('127.0.0.1', first.rest_port), timeout=10) for _ in range(8)]
    accepted = set()
    for round_ in range(20):
        requests = []
        for k, client in enumerate(clients):
            body = json.dumps({'switch': colon_dpid(DPID), 'name': 'race-%d-%d' % (round_, k), 'priority': '900',
                               'in_port': str(round_ + 1), 'actions': 'output=%d' % (k + 1)}).encode()
            requests.append(b'POST /wm/staticflowpusher/json HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s'
                            % (len(body), body))
        for client, request in zip(clients, requests):
            client.sendall(request)
        statuses = [read_reply(client) for client in clients]
        assert sorted(statuses) == [200] + [409] * 7, (round_, statuses)
        accepted.add('race-%d-%d' % (round_, statuses.index(200)))
    for client in clients:
        client.close()
    flow_mods = peer.wait_for_messages(ofp.OFPT_FLOW_MOD, 20)
    assert sorted(fm.match.in_port for fm in flow_mods) == list(range(1, 21)), peer.dump()
    first.kill()

    second = start_controller(db_path=first.db_path)
    listing = list_entries(second)
    assert {name for item in listing[colon_dpid(DPID)] for name in item} == accepted


def read_reply(client):
    """The status of one HTTP reply on a keep-alive socket (its Content-Length body read and dropped)."""
    data = b''
    while b'\r\n\r\n' not in data:
        chunk = client.recv(65536)
        assert chunk, data
        data += chunk
    head, _, body = data.partition(b'\r\n\r\n')
    length = int([line.split(b':')[1] for line in head.split(b'\r\n') if line.lower().startswith(b'content-length')][0])
    while len(body) < length:
        body += client.recv(65536)
    assert len(body) == length, 'a reply longer than its Content-Length'
    return int(head.split()[1])
