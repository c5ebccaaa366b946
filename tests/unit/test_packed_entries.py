"""The static flow table's packed representation (docs/performance.md, memory) says exactly what Ryu's
messages (tests/lib/of10_oracle) and the parsed entry say: the same wire bytes for ADD, MODIFY_STRICT and
DELETE_STRICT, the same entry rebuilt from the bytes, the same flow as a switch would report it, and the same flow
key whether taken from the bytes or from the flow read back."""
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller import of10
from controller.staticflow import StaticFlowTable
from rest import floodlight
from tests.lib import entry_strategies as strat
from tests.lib import of10_oracle as oracle

pytestmark = pytest.mark.unit

DIALECTS = st.sampled_from([floodlight.DIALECT_V0, floodlight.DIALECT_V1])
SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

EXAMPLES = [
    {"in_port": "1", "actions": "output=3"},
    {"eth_type": "0x800", "ipv4_dst": "10.0.0.7/24", "ip_proto": "6", "tcp_dst": "22", "idle_timeout": "30",
     "actions": "set_eth_dst=00:00:00:00:00:01,output=controller"},
    {"eth_type": "0x800", "ipv4_src": "10.0.0.7/0", "ipv4_dst": "1.2.3.4",
     "actions": "set_ipv4_src=1.2.3.4,set_ipv4_dst=5.6.7.8,set_tp_src=5,set_tp_dst=6,set_ip_tos=8,strip_vlan,"
                "set_vlan_vid=7,set_vlan_pcp=3,enqueue=3:7,set_eth_src=aa:bb:cc:dd:ee:ff"},
    {"eth_src": "00:00:00:00:00:00", "eth_dst": "ff:ff:ff:ff:ff:ff", "eth_vlan_vid": "0xffff",
     "eth_vlan_pcp": "3", "eth_type": "0x806", "arp_opcode": "1", "arp_spa": "10.0.0.1/8", "hard_timeout": "9",
     "priority": "0"},
    {"eth_type": "0x800", "ip_dscp": "3", "ip_proto": "1", "icmpv4_type": "8", "icmpv4_code": "0",
     "active": "false"},
]


def check(entry):
    packed = of10.pack_flow_add(entry)
    assert packed == of10.serialize(oracle.flow_add(entry))
    for command, build in ((of10.FLOW_MODIFY_STRICT, oracle.flow_modify_strict),
                           (of10.FLOW_DELETE_STRICT, oracle.flow_delete_strict)):
        msg = of10.packed_flow_mod(packed, entry.name, command)
        assert of10.serialize(msg, xid=9) == of10.serialize(build(entry), xid=9)
    reported, = oracle.installed([oracle.flow_add(entry)])  # the flow as the switch's flow stats reply has it
    assert of10.packed_expected_flow(packed)[:6] == reported[:6]
    assert of10.flow_key(entry.dpid, entry.priority, packed=packed) == of10.flow_key(
        entry.dpid, entry.priority, match_key=reported.match)
    assert of10.unpack_match(packed) == entry.match and of10.unpack_actions(packed) == entry.actions
    table = StaticFlowTable()
    table.push(entry)
    rebuilt = table.get(entry.name)
    assert rebuilt == entry
    assert (rebuilt.priority_given, rebuilt.actions_given, rebuilt.cookie) == (
        entry.priority_given, entry.actions_given, entry.cookie)
    assert table.same_request(entry.name, entry.request_text)


@pytest.mark.parametrize('dialect', [floodlight.DIALECT_V0, floodlight.DIALECT_V1], ids=lambda d: d.name)
@pytest.mark.parametrize('document', EXAMPLES)
def test_examples(document, dialect):
    check(floodlight.parse_entry(dict({"switch": "00:00:00:00:00:00:00:01", "name": "e"}, **document), dialect))


@SETTINGS
@given(strat.entry_document(), DIALECTS)
def test_every_accepted_entry(document, dialect):
    try:
        entry = floodlight.parse_entry(json.loads(json.dumps(document)), dialect)
    except floodlight.FlowValidationError:
        return
    check(entry)


def test_a_changed_request_is_not_the_same_request():
    entry = floodlight.parse_entry({"switch": "1", "name": "e", "actions": "output=1"}, floodlight.DIALECT_V1)
    table = StaticFlowTable()
    table.push(entry)
    assert not table.same_request('e', json.dumps({"switch": "1", "name": "e", "actions": "output=2"}))
    assert not table.same_request('other', entry.request_text)


class _Counter:
    """What a batch needs of ryu's Datapath: its xid counter."""
    xid = 0

    def set_xid(self, msg):
        self.xid += 1
        msg.set_xid(self.xid)


def test_a_batch_writes_what_its_flow_mods_write_with_consecutive_xids():
    table = StaticFlowTable()
    for i in range(5):
        table.push(floodlight.parse_entry({"switch": "1", "name": "e%d" % i, "in_port": str(i + 1),
                                           "actions": "output=1"}, floodlight.DIALECT_V1))
    table.switch_connected(1)
    msgs = table.reconcile(1, [])[0][1]
    batched = of10.batch_flow_mods(msgs, size=3)
    assert [type(m).__name__ for m in batched] == ['PackedFlowModBatch', 'PackedFlowModBatch',
                                                   'OFPBarrierRequest']
    counter = _Counter()
    for msg in batched[:2]:
        msg.datapath = counter
        counter.set_xid(msg)
        msg.serialize()
    assert counter.xid == 5
    assert b''.join(bytes(m.buf) for m in batched[:2]) == b''.join(
        of10.serialize(m, xid=i + 1) for i, m in enumerate(msgs[:5]))
    assert [pair for m in batched[:2] for pair in m.sent_entries()] == [('e%d' % i, i + 1) for i in range(5)]
    assert of10.is_write(batched[0])
