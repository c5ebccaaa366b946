"""REST calls the protocol tests make, and DPID spelling kept independent of the code under test."""
import json

from ryu.ofproto import ofproto_v1_0 as ofp

from tests.lib.controller import wait_for

STATICFLOW_URL = '/wm/staticflowpusher/json'
SWITCHES_URL = '/wm/core/controller/switches/json'


def colon_dpid(dpid):
    """0xa296ffdd5645 -> '00:00:a2:96:ff:dd:56:45' (Floodlight's form, written out here on purpose)."""
    return ':'.join('%02x' % ((dpid >> shift) & 0xff) for shift in range(56, -8, -8))


def push(controller, entry):
    """POST one static flow entry (a dict, or a str sent verbatim) -> (status, text, headers)."""
    body = entry if isinstance(entry, str) else json.dumps(entry)
    return controller.post(STATICFLOW_URL, body)


def push_ok(controller, entry):
    status, text, _ = push(controller, entry)
    assert (status, text) == (200, '{"status" : "Entry pushed"}'), (status, text)


def delete(controller, name):
    return controller.request('DELETE', STATICFLOW_URL, json.dumps({'name': name}))


def switches(controller):
    status, text, _ = controller.get(SWITCHES_URL)
    assert status == 200, (status, text)
    return json.loads(text)


def listed(controller, dpid):
    """The switches-list entries for one DPID."""
    return [s for s in switches(controller) if s.get('switchDPID') == colon_dpid(dpid)]


def wait_listed(controller, peer, timeout=5.0):
    """Until the switches list shows `peer`'s DPID with `peer`'s address; returns the entry."""
    address = '/%s:%d' % peer.local_address
    return wait_for(lambda: [s for s in listed(controller, peer.dpid) if s.get('inetAddress') == address],
                    timeout, what='%s listed as %s' % (colon_dpid(peer.dpid), address))[0]


def wait_unlisted(controller, dpid, timeout=5.0):
    wait_for(lambda: not listed(controller, dpid), timeout, what='%s to leave the switches list' % colon_dpid(dpid))


def list_entries(controller, switch='all'):
    status, text, _ = controller.get('/wm/staticflowpusher/list/%s/json' % switch)
    assert status == 200, (status, text)
    return json.loads(text)


def wait_synced(peer, timeout=5.0):
    """Until the controller's connect-time exchange with `peer` is over, and return what it sent for it.

    After the handshake (and its barrier) the controller reads the switch's flow table with a FLOW stats request,
    then sends the flow-mods that make the table match the stored entries, closed by a barrier. Returns the
    messages after the stats request up to and including that barrier.
    """
    request = peer.wait_for_message(ofp.OFPT_STATS_REQUEST, timeout, where=lambda m: m.type == ofp.OFPST_FLOW)
    start = peer.received().index(request) + 1
    barrier = peer.wait_for_message(ofp.OFPT_BARRIER_REQUEST, timeout, since=start)
    after = peer.received(since=start)
    return after[:after.index(barrier) + 1]
