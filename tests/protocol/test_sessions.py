"""Switch sessions and the entries that follow them: not yet connected, reconnecting, two sessions for one DPID."""
import socket

import pytest
from ryu.lib import addrconv
from ryu.ofproto import ofproto_v1_0 as ofp
from ryu.ofproto import ofproto_v1_0_parser as parser

from tests.lib.controller import wait_for
from tests.protocol.helpers import colon_dpid, listed, push_ok, wait_listed, wait_synced, wait_unlisted
from tests.protocol.ofpeer import describe, make_flow_mod

pytestmark = pytest.mark.protocol

STATIC_FLOW_APP = 10  # Floodlight's application id in the top 12 bits of the cookie


def entry(dpid, name, priority, src_mac, port):
    return {'switch': colon_dpid(dpid), 'name': name, 'priority': str(priority), 'src-mac': src_mac,
            'active': 'true', 'actions': 'output=%d' % port}


def wire(fm):
    """What identifies a static flow on the wire, for comparing lists of flow-mods."""
    return (fm.command, fm.priority, addrconv.mac.bin_to_text(fm.match.dl_src), fm.actions[0].port if fm.actions
            else None)


def connect_time_flow_mods(sent):
    """The flow-mods of a connect-time batch (helpers.wait_synced), which must end with a barrier."""
    assert sent[-1].msg_type == ofp.OFPT_BARRIER_REQUEST, [describe(m) for m in sent]
    return [m for m in sent if m.msg_type == ofp.OFPT_FLOW_MOD]


def test_entries_for_an_absent_switch_are_kept_and_sent_on_every_connect(controller, connect_peer):
    dpid = 0x0000000000000404
    # pushed in no particular priority order, before the switch exists
    pushed = [entry(dpid, 'pending-high', 40000, '52:54:00:00:04:03', 3),
              entry(dpid, 'pending-low', 100, '52:54:00:00:04:01', 1),
              entry(dpid, 'pending-mid', 20000, '52:54:00:00:04:02', 2)]
    for body in pushed:
        push_ok(controller, body)
    expected = [(ofp.OFPFC_ADD, 100, '52:54:00:00:04:01', 1), (ofp.OFPFC_ADD, 20000, '52:54:00:00:04:02', 2),
                (ofp.OFPFC_ADD, 40000, '52:54:00:00:04:03', 3)]

    first = connect_peer(controller, dpid, wait='ready')
    adds = connect_time_flow_mods(wait_synced(first))
    assert [wire(fm) for fm in adds] == expected, first.dump()  # lowest priority first
    assert all(fm.cookie >> 52 == STATIC_FLOW_APP for fm in adds) and len({fm.cookie for fm in adds}) == 3
    assert all(fm.buffer_id == 0xffffffff for fm in adds)

    # The switch goes away and comes back without its flows (a restarted OVS): everything is sent again.
    first.close()
    wait_unlisted(controller, dpid)
    second = connect_peer(controller, dpid, wait='ready')
    assert [wire(fm) for fm in connect_time_flow_mods(wait_synced(second))] == expected, second.dump()

    # An immediate reconnect, before the controller has seen the old session end, works the same way.
    second.close()
    third = connect_peer(controller, dpid, wait='ready')
    assert [wire(fm) for fm in connect_time_flow_mods(wait_synced(third))] == expected, third.dump()
    wait_for(lambda: [s['inetAddress'] for s in listed(controller, dpid)] == ['/127.0.0.1:%d' % third.local_port],
             5.0, what='only the newest session listed')


def test_reconnect_reconciles_against_the_switch_flow_table(controller, connect_peer):
    dpid = 0x0000000000000505
    push_ok(controller, entry(dpid, 'kept', 300, '52:54:00:00:05:01', 1))
    push_ok(controller, entry(dpid, 'lost', 200, '52:54:00:00:05:02', 2))
    first = connect_peer(controller, dpid)
    table = first.flow_table()
    assert sorted(fm.priority for fm in table.values()) == [200, 300]
    first.close()
    wait_unlisted(controller, dpid)

    kept = [fm for fm in table.values() if fm.priority == 300]
    # A static-flow cookie no entry accounts for (left over from an entry deleted while the switch was away),
    # and a flow someone else installed (cookie 0).
    orphan = make_flow_mod(kept[0].match, (STATIC_FLOW_APP << 52) | 0x1234, 250, kept[0].actions)
    foreign = make_flow_mod(kept[0].match, 0, 260, kept[0].actions)
    second = connect_peer(controller, dpid, wait='ready', flows=kept + [orphan, foreign])
    fms = connect_time_flow_mods(wait_synced(second))
    lost_cookie = [fm.cookie for fm in table.values() if fm.priority == 200][0]
    assert sorted((fm.command, fm.priority, fm.cookie) for fm in fms) == [
        (ofp.OFPFC_ADD, 200, lost_cookie),                 # the lost one comes back
        (ofp.OFPFC_DELETE_STRICT, 250, orphan.cookie),     # the orphan goes; the kept and foreign flows stay
    ], second.dump()
    assert sorted(fm.priority for fm in second.flow_table().values()) == [200, 260, 300]


def test_second_session_for_a_dpid_replaces_a_first_that_no_longer_answers(controller, connect_peer):
    """A switch that reconnects before its old session is seen to drop (its old session answers no echo any
    more); one whose old session still answers keeps it (tests/protocol/test_takeover.py)."""
    dpid = 0x0000a296ffdd5645
    push_ok(controller, entry(dpid, 'dup-flow', 1000, '52:54:00:00:06:01', 1))
    older = connect_peer(controller, dpid, answer_echo=False)
    assert [fm.priority for fm in older.flow_mods()] == [1000]
    wait_listed(controller, older)

    newer = connect_peer(controller, dpid, wait='ready')
    assert older.wait_closed(5.0), 'the controller kept the older session open:\n' + older.dump()
    assert older.closed_by_controller
    adds = connect_time_flow_mods(wait_synced(newer))
    assert [wire(fm) for fm in adds] == [(ofp.OFPFC_ADD, 1000, '52:54:00:00:06:01', 1)], newer.dump()

    wait_for(lambda: [s['inetAddress'] for s in listed(controller, dpid)] == ['/127.0.0.1:%d' % newer.local_port],
             5.0, what='one entry for %s, with the newer address' % colon_dpid(dpid))
    # The older session's end does not take the newer one down: later pushes reach the newer switch.
    mark = newer.mark()
    push_ok(controller, entry(dpid, 'after-dup', 1001, '52:54:00:00:06:02', 2))
    fm = newer.wait_for_message(ofp.OFPT_FLOW_MOD, since=mark)
    assert wire(fm) == (ofp.OFPFC_ADD, 1001, '52:54:00:00:06:02', 2)
    assert newer.connected
    assert [s['inetAddress'] for s in listed(controller, dpid)] == ['/127.0.0.1:%d' % newer.local_port]


def test_large_flow_table_is_read_in_full(controller, connect_peer):
    """A flow table too big for one stats reply comes in OFPSF_REPLY_MORE parts: all of them count."""
    dpid = 0x0000000000000606
    push_ok(controller, entry(dpid, 'the-one', 9, '52:54:00:00:06:09', 1))
    orphans = [make_flow_mod(parser.OFPMatch(in_port=i), (STATIC_FLOW_APP << 52) | i, 10, [])
               for i in range(1, 1201)]
    peer = connect_peer(controller, dpid, wait='ready', flows=orphans)
    sent = wait_synced(peer, timeout=15.0)
    stats = [m for m in peer.sent if m.msg_type == ofp.OFPT_STATS_REPLY]
    assert len(stats) >= 2 and stats[0].flags & ofp.OFPSF_REPLY_MORE, 'the table fitted in one reply'
    fms = connect_time_flow_mods(sent)
    deleted = sorted(fm.match.in_port for fm in fms if fm.command == ofp.OFPFC_DELETE_STRICT)
    assert deleted == list(range(1, 1201))
    assert [fm.priority for fm in fms if fm.command == ofp.OFPFC_ADD] == [9]
    assert [fm.priority for fm in peer.flow_table().values()] == [9]


def test_connections_that_end_early_leave_no_trace(controller, connect_peer):
    """Health checks, port scanners and switches that crash mid-handshake must not disturb the controller."""
    with socket.create_connection(('127.0.0.1', controller.ofp_port)):
        pass                                                         # TCP only, closed at once
    hello_only = connect_peer(controller, 0x0000000000000a01, wait=None, answer_features=False)
    hello_only.wait_for_message(ofp.OFPT_FEATURES_REQUEST)
    hello_only.close()                                               # gone before FEATURES_REPLY
    crashed = connect_peer(controller, 0x0000000000000a02)
    wait_listed(controller, crashed)
    crashed.close(abort=True)                                        # TCP reset after the handshake
    wait_unlisted(controller, crashed.dpid)

    healthy = connect_peer(controller, 0x0000000000000a03)
    assert healthy.echo(b'ok').data == b'ok'
    assert [s['switchDPID'] for s in wait_for(lambda: listed(controller, healthy.dpid), 5.0)] == [
        colon_dpid(healthy.dpid)]
    assert not listed(controller, 0x0000000000000a01)


def test_push_during_connect_reconciliation_is_sent_once(controller, connect_peer):
    dpid = 0x0000000000000b0b
    peer = connect_peer(controller, dpid, wait='ready', hold_replies={ofp.OFPT_STATS_REQUEST})
    peer.wait_for(lambda msgs: peer.held, what='the flow stats request')
    # The switch has read its (empty) table; its answer is still on the way when the push arrives.
    push_ok(controller, entry(dpid, 'mid-reconcile', 77, '52:54:00:00:0b:01', 1))
    peer.wait_for_message(ofp.OFPT_FLOW_MOD)
    assert peer.release_held() == 1
    # barriers: after the handshake, after the push, after the reconciliation
    peer.wait_for_messages(ofp.OFPT_BARRIER_REQUEST, 3)
    assert [fm.priority for fm in peer.flow_table().values()] == [77]
    assert [wire(fm) for fm in peer.flow_mods()] == [(ofp.OFPFC_ADD, 77, '52:54:00:00:0b:01', 1)], peer.dump()
