"""Entries are committed before "Entry pushed": a controller killed with SIGKILL loses none of them."""
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
