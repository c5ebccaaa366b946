"""A switch that rejects a flow-mod: the session survives and the entry's status says what the switch said."""
import json

import pytest
from ryu.ofproto import ofproto_v1_0 as ofp

from tests.lib.controller import wait_for
from tests.protocol.helpers import colon_dpid, listed, push_ok

pytestmark = pytest.mark.protocol

DPID = 0x0000000000000808


def statuses(controller, switch='all'):
    status, text, _ = controller.get('/wm/staticflowpusher/status/%s/json' % switch)
    assert status == 200, (status, text)
    return json.loads(text)


def flow(name, priority, port):
    return {'switch': colon_dpid(DPID), 'name': name, 'priority': str(priority), 'in_port': '1',
            'actions': 'output=%d' % port}


def test_rejected_flow_mod_keeps_the_session_and_is_reported(controller, connect_peer):
    push_ok(controller, flow('waits', 5, 2))
    assert statuses(controller)[colon_dpid(DPID)]['waits']['state'] == 'waiting'

    def reject(fm):  # OVS answers an output to a port it cannot use like this
        return (ofp.OFPET_BAD_ACTION, ofp.OFPBAC_BAD_OUT_PORT) if fm.priority == 666 else None
    peer = connect_peer(controller, DPID, reject_flow_mod=reject)

    mark = peer.mark()
    push_ok(controller, flow('good', 10, 2))
    push_ok(controller, flow('bad', 666, 99))
    rejected = peer.wait_for_message(ofp.OFPT_FLOW_MOD, since=mark, where=lambda m: m.priority == 666)
    wait_for(lambda: [m for m in peer.sent if m.msg_type == ofp.OFPT_ERROR and m.xid == rejected.xid], 5.0,
             what='the peer to answer the flow-mod with an error')

    def settled():
        entries = statuses(controller, colon_dpid(DPID))[colon_dpid(DPID)]
        states = {name: entries[name]['state'] for name in ('waits', 'good', 'bad')}
        return entries if states == {'waits': 'installed', 'good': 'installed', 'bad': 'error'} else None
    entries = wait_for(settled, 5.0, what='waits/good installed and bad in error')
    assert entries['bad']['error']['type_name'] == 'OFPET_BAD_ACTION'
    assert entries['bad']['error']['code_name'] == 'OFPBAC_BAD_OUT_PORT'
    assert entries['bad']['xid'] == rejected.xid

    # the error did not cost the switch its session
    assert peer.connected
    assert peer.echo(b'after the error').data == b'after the error'
    assert [s['inetAddress'] for s in listed(controller, DPID)] == ['/127.0.0.1:%d' % peer.local_port]
    mark = peer.mark()
    push_ok(controller, flow('later', 20, 3))
    assert peer.wait_for_message(ofp.OFPT_FLOW_MOD, since=mark).priority == 20
