"""Property (hypothesis) against a live controller: a request the REST API rejects changes nothing, neither the
listed entries nor the switch; one it accepts is listed and reaches the switch."""
import json

import pytest
from hypothesis import HealthCheck, given, settings
from ryu.ofproto import ofproto_v1_0 as ofp

from tests.lib import entry_strategies as strat
from tests.protocol.helpers import STATICFLOW_URL, delete

pytestmark = pytest.mark.protocol

DPID = 0x0000000000000e0e
SWITCH = '00:00:00:00:00:00:0e:0e'


SYNC = 'sync'


def listing(controller):
    """Listed entries but the sync marker."""
    status, text, _ = controller.get('/wm/staticflowpusher/list/all/json')
    assert status == 200, text
    return {dpid: [item for item in items if SYNC not in item] for dpid, items in json.loads(text).items()}


def sync(controller, peer):
    """Re-push the marker entry with a new priority and wait for its ADD: the controller sends each switch's
    messages in order, so everything an earlier request caused has reached the peer by then. -> marker cookie."""
    sync.priority = getattr(sync, 'priority', 0) % 60000 + 1
    status, text, _ = controller.post(STATICFLOW_URL, json.dumps({
        'switch': SWITCH, 'name': SYNC, 'priority': str(sync.priority), 'eth_dst': '52:54:00:00:0e:0e',
        'actions': 'output=1'}))
    assert status == 200, text
    fm = peer.wait_for_message(ofp.OFPT_FLOW_MOD, where=lambda m: m.command == ofp.OFPFC_ADD
                               and m.priority == sync.priority)
    return fm.cookie


@settings(max_examples=250, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(body=strat.entry_document(name='prop', switch=SWITCH).map(lambda d: json.dumps(d).encode()) | strat.bodies)
def test_rejected_pushes_change_nothing_accepted_ones_reach_the_switch(controller, connect_peer, body):
    if not hasattr(controller, 'peer'):
        controller.peer = connect_peer(controller, DPID)
    peer = controller.peer
    before = listing(controller)
    mark = peer.mark()
    status, text, _ = controller.post(STATICFLOW_URL, body)
    assert status < 500, (status, text)
    reply = json.loads(text)
    if status != 200:
        assert 400 <= status < 500 and reply['reason'], (status, text)
        assert listing(controller) == before
        marker = sync(controller, peer)
        assert [fm for fm in peer.flow_mods(since=mark) if fm.cookie != marker] == []
        return
    assert reply == {'status': 'Entry pushed'}
    document = json.loads(body)
    after = listing(controller)
    dpid_text = [d for d in after if any(document['name'] in item for item in after[d])]
    if document.get('active', 'true') in ('true', 'True', True) and dpid_text == [SWITCH]:
        peer.wait_for_message(ofp.OFPT_FLOW_MOD, since=mark)
    status, text, _ = delete(controller, document['name'])
    assert status == 200, text
    sync(controller, peer)
