"""Ten thousand stored entries on one switch: all installed and confirmed on connect, while the REST API and
another switch keep being served."""
import json

import pytest
from ryu.ofproto import ofproto_v1_0 as ofp

from controller.entrystore import EntryStore
from rest import floodlight
from tests.lib.controller import wait_for
from tests.protocol.helpers import colon_dpid

pytestmark = pytest.mark.protocol

BIG, SMALL = 0x0000000000001000, 0x0000000000002000
COUNT = 10000


def stored_entries(path):
    store = EntryStore(path)
    for i in range(COUNT):
        doc = {'switch': colon_dpid(BIG), 'name': 'bulk-%05d' % i, 'eth_type': '0x800',
               'ipv4_dst': '10.%d.%d.0/24' % (i // 256, i % 256), 'actions': 'output=2'}
        store.save(floodlight.parse_entry(doc, floodlight.DIALECT_V1), floodlight.DIALECT_V1.name)
    store.save(floodlight.parse_entry({'switch': colon_dpid(SMALL), 'name': 'small', 'in_port': '1',
                                       'actions': 'output=2'}, floodlight.DIALECT_V1), floodlight.DIALECT_V1.name)
    store.close()


def installed_count(controller, dpid):
    status, body, _ = controller.get('/wm/staticflowpusher/status/%s/json' % colon_dpid(dpid))
    assert status == 200, body
    return sum(1 for s in json.loads(body)[colon_dpid(dpid)].values() if s and s['state'] == 'installed')


def test_ten_thousand_entries_reconcile_without_starving_others(start_controller, connect_peer, tmp_path):
    db_path = str(tmp_path / 'big.sqlite3')
    stored_entries(db_path)
    controller = start_controller(db_path=db_path)
    big = connect_peer(controller, BIG, wait='ready')
    small = connect_peer(controller, SMALL, wait='ready')
    # While the big switch is being filled, REST answers and the other switch gets its entry.
    status, body, _ = controller.get('/wm/core/controller/switches/json')
    assert status == 200 and colon_dpid(SMALL) in body
    small.wait_for_message(ofp.OFPT_FLOW_MOD, timeout=20, where=lambda m: m.command == ofp.OFPFC_ADD)
    adds = big.wait_for_messages(ofp.OFPT_FLOW_MOD, COUNT, timeout=60,
                                 where=lambda m: m.command == ofp.OFPFC_ADD)
    assert len({(m.match.nw_dst, m.cookie) for m in adds}) == COUNT
    wait_for(lambda: installed_count(controller, BIG) == COUNT, 30, what='all entries confirmed installed')
    assert installed_count(controller, SMALL) == 1
