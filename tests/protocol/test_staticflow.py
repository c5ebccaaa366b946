"""The static flow pusher's REST calls, seen from the switch: which flow-mods arrive, in what order."""
import json
import socket

import pytest
from ryu.lib import addrconv
from ryu.ofproto import ofproto_v1_0 as ofp
from ryu.ofproto import ofproto_v1_0_parser as parser

from tests.protocol.helpers import STATICFLOW_URL, delete, list_entries, push, push_ok
from tests.lib.controller import wait_for
from tests.protocol.ofpeer import describe

pytestmark = pytest.mark.protocol

DPID = 0x0000a296ffdd5645
# The Floodlight tutorial's entry, as users paste it.
FLOW1 = {"switch": "00:00:a2:96:ff:dd:56:45", "name": "static-flow1", "cookie": "0", "priority": "32768",
         "src-mac": "52:54:00:9b:d5:bc", "active": "true", "actions": "output=3"}
FLOW1_COOKIE = 0x00a00000d7014f7f  # (10 << 52) | Java hash of "static-flow1": what `ovs-ofctl dump-flows` shows
NO_BUFFER = 0xffffffff
ONLY_DL_SRC = ofp.OFPFW_ALL & ~ofp.OFPFW_DL_SRC  # every field wildcarded except dl_src


def mac(text):
    return addrconv.mac.text_to_bin(text)


def next_message(peer, msg):
    """The message the controller sent right after `msg` (ignoring its keepalive probes)."""
    later = peer.received(since=peer.received().index(msg) + 1)
    later = [m for m in later if m.msg_type != ofp.OFPT_ECHO_REQUEST]
    return later[0] if later else None


def wait_batch(peer, since, count=1):
    """Wait for `count` flow-mods after `since` and the BARRIER_REQUEST the controller sends right after them.

    Everything the controller sends for one REST call is queued before that barrier, so once it is here the
    returned list is all the flow-mods the call produced.
    """
    fms = peer.wait_for_messages(ofp.OFPT_FLOW_MOD, count, since=since)
    barrier = peer.wait_for_message(ofp.OFPT_BARRIER_REQUEST, since=peer.received().index(fms[-1]) + 1)
    assert next_message(peer, fms[-1]) is barrier, 'no barrier right after the flow-mods:\n' + peer.dump(since)
    return peer.flow_mods(since=since)


def assert_flow1_wire(fm, command, dl_src='52:54:00:9b:d5:bc', port=3):
    assert fm.command == command, describe(fm)
    assert fm.cookie == FLOW1_COOKIE, describe(fm)
    assert fm.priority == 32768
    assert fm.match.wildcards == ONLY_DL_SRC, hex(fm.match.wildcards)
    assert fm.match.dl_src == mac(dl_src)
    assert fm.idle_timeout == 0 and fm.hard_timeout == 0
    assert fm.out_port == ofp.OFPP_NONE
    if command in (ofp.OFPFC_ADD, ofp.OFPFC_MODIFY_STRICT):
        assert fm.buffer_id == NO_BUFFER
        assert len(fm.actions) == 1 and isinstance(fm.actions[0], parser.OFPActionOutput), fm.actions
        assert fm.actions[0].port == port


def test_push_reply_is_floodlights_exact_text(controller):
    status, text, headers = push(controller, FLOW1)
    assert status == 200
    assert text == '{"status" : "Entry pushed"}'
    assert headers['Content-Type'] == 'application/json; charset=UTF-8'


def test_push_modify_replace_delete_reach_the_switch(controller, connect_peer):
    peer = connect_peer(controller, DPID)

    mark = peer.mark()
    push_ok(controller, FLOW1)
    [add] = wait_batch(peer, mark)
    assert_flow1_wire(add, ofp.OFPFC_ADD)
    assert add.flags == 0

    # Same name, same match and priority, new action: changed in place.
    mark = peer.mark()
    push_ok(controller, dict(FLOW1, actions='output=2'))
    [modify] = wait_batch(peer, mark)
    assert_flow1_wire(modify, ofp.OFPFC_MODIFY_STRICT, port=2)

    # Same name, other match: the old flow goes, then the new one comes.
    mark = peer.mark()
    push_ok(controller, dict(FLOW1, **{'src-mac': '52:54:00:00:00:01', 'actions': 'output=2'}))
    delete_old, add_new = wait_batch(peer, mark, count=2)
    assert_flow1_wire(delete_old, ofp.OFPFC_DELETE_STRICT)
    assert_flow1_wire(add_new, ofp.OFPFC_ADD, dl_src='52:54:00:00:00:01', port=2)
    assert list(peer.flow_table().values()) == [add_new]

    mark = peer.mark()
    status, text, _ = delete(controller, 'static-flow1')
    assert (status, text) == (200, '{"status" : "Entry static-flow1 deleted"}')
    [delete_new] = wait_batch(peer, mark)
    assert_flow1_wire(delete_new, ofp.OFPFC_DELETE_STRICT, dl_src='52:54:00:00:00:01')
    assert peer.flow_table() == {}
    assert list_entries(controller, '00:00:a2:96:ff:dd:56:45') == {'00:00:a2:96:ff:dd:56:45': []}
    assert not peer.received(ofp.OFPT_ERROR)


BROKEN_JSON = '{"switch": "00:00:a2:96:ff:dd:56:45", "name": "static-flow1", "actions": "output=1"'
BAD_REQUESTS = [
    # (body, key the reply must name (None: the body as a whole), words the reason must contain)
    (BROKEN_JSON, None, 'JSON'),
    ({k: v for k, v in FLOW1.items() if k != 'name'}, 'name', 'name'),
    (dict(FLOW1, **{'src-mack': '52:54:00:9b:d5:bc'}), 'src-mack', 'src-mack'),
    (dict(FLOW1, **{'src-mac': '52:54:00:9b:d5', 'actions': 'output=1'}), 'src-mac', '52:54:00:9b:d5'),
    (dict(FLOW1, **{'src-mac': 'zz:54:00:9b:d5:bc', 'name': 'never-pushed'}), 'src-mac', 'zz:54:00:9b:d5:bc'),
]


def test_bad_input_is_400_and_sends_nothing(controller, connect_peer):
    peer = connect_peer(controller, DPID)
    push_ok(controller, FLOW1)
    peer.wait_for_message(ofp.OFPT_FLOW_MOD, where=lambda m: m.cookie == FLOW1_COOKIE)

    mark = peer.mark()
    for body, key, words in BAD_REQUESTS:
        status, text, headers = push(controller, body)
        assert status == 400, (body, status, text)
        assert headers['Content-Type'].startswith('application/json'), headers
        reply = json.loads(text)
        assert words in reply['reason'] and reply['status'].startswith('Error!'), (body, reply)
        assert reply.get('key') == key, (body, reply)
    status, text, _ = controller.request('DELETE', STATICFLOW_URL, '{"switch": "00:00:a2:96:ff:dd:56:45"}')
    assert status == 400 and json.loads(text)['key'] == 'name', (status, text)

    # A good push after the bad ones: its flow-mod must be the first and only one since the mark, because the
    # controller sends each call's flow-mods before it answers.
    push_ok(controller, dict(FLOW1, name='marker', priority='7'))
    fms = wait_batch(peer, mark)
    assert [(fm.command, fm.priority) for fm in fms] == [(ofp.OFPFC_ADD, 7)], peer.dump(mark)

    # static-flow1 is untouched by the rejected re-pushes of its name.
    [entry] = [e['static-flow1'] for e in list_entries(controller)['00:00:a2:96:ff:dd:56:45'] if 'static-flow1' in e]
    assert entry['actions'] == {'actions': 'output=3'}
    assert entry['match'] == {'eth_src': '52:54:00:9b:d5:bc'}


def test_switch_that_never_answers_the_flow_table_read_still_gets_its_entries(start_controller, connect_peer):
    controller = start_controller(('--reconcile-timeout', '1'))
    push_ok(controller, FLOW1)  # stored while no switch is connected
    peer = connect_peer(controller, DPID, wait='ready', hold_replies={ofp.OFPT_STATS_REQUEST})
    peer.wait_for_message(ofp.OFPT_STATS_REQUEST, 5, where=lambda m: m.type == ofp.OFPST_FLOW)
    add = peer.wait_for_message(ofp.OFPT_FLOW_MOD, 10, where=lambda m: m.command == ofp.OFPFC_ADD)
    assert add.cookie == FLOW1_COOKIE
    assert 'did not answer the flow table read within 1 s' in controller.log()
    # The late answer changes nothing: no second ADD, no delete.
    assert peer.release_held() == 1
    peer.echo()  # a round trip through the session after the late reply
    assert len(peer.received(ofp.OFPT_FLOW_MOD)) == 1


@pytest.mark.parametrize('delay', ['0.5', '0'])
def test_pushes_in_quick_succession_share_one_barrier_and_are_all_confirmed(start_controller, connect_peer, delay):
    """Five pushes pipelined on one keep-alive connection: five replies, five flow-mods in push order, then one
    barrier (a push's barrier waits --push-barrier-delay for the next pushes; the default is 5 ms, 0.5 s here so
    that a slow machine cannot split the five), and its reply makes every entry `installed`. With 0: a barrier
    after each flow-mod."""
    controller = start_controller(('--push-barrier-delay', delay))
    peer = connect_peer(controller, DPID)
    names = ['burst-%d' % i for i in range(5)]
    bodies = [json.dumps(dict(FLOW1, name=name, priority=str(100 + i))).encode() for i, name in enumerate(names)]
    requests = b''.join(b'POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n'
                        b'\r\n%s' % (STATICFLOW_URL.encode(), len(body), body) for body in bodies)
    mark = peer.mark()
    with socket.create_connection(('127.0.0.1', controller.rest_port), timeout=10) as client:
        client.sendall(requests)
        replies = b''
        while replies.count(b'{"status" : "Entry pushed"}') < 5:
            data = client.recv(65536)
            assert data, replies
            replies += data
    fms = peer.wait_for_messages(ofp.OFPT_FLOW_MOD, 5, since=mark)
    assert [fm.priority for fm in fms] == [100, 101, 102, 103, 104]
    barrier = peer.wait_for_message(ofp.OFPT_BARRIER_REQUEST, since=peer.received().index(fms[-1]) + 1)
    between = peer.received(since=mark)[:peer.received().index(barrier) - mark]
    shared = [ofp.OFPT_FLOW_MOD] * 5 if delay != '0' else [ofp.OFPT_FLOW_MOD, ofp.OFPT_BARRIER_REQUEST] * 4 + [
        ofp.OFPT_FLOW_MOD]
    assert [m.msg_type for m in between if m.msg_type != ofp.OFPT_ECHO_REQUEST] == shared, peer.dump(mark)

    def installed():
        status, text, _ = controller.get('/wm/staticflowpusher/status/all/json')
        entries = json.loads(text)['00:00:a2:96:ff:dd:56:45']
        return all(entries[name]['state'] == 'installed' for name in names)
    wait_for(installed, 5.0, what='every pushed entry installed')
