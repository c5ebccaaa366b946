"""controller.acl (Floodlight 1.2's ACL decisions) and controller.aclstore."""
import json

import pytest

from controller import acl
from controller.aclstore import AclStore
from controller.acl import AclConflict, AclFull, AclRuleError, AclState, parse_delete, parse_rule

S1, S2 = 1, 2


def ip(text):
    return int.from_bytes(bytes(int(part) for part in text.split('.')), 'big')


def rule(**body):
    return parse_rule({key.replace('_', '-'): value for key, value in body.items()})


@pytest.mark.parametrize('body, expected', [
    ({'src-ip': '10.0.0.1/32'}, dict(src=acl.Cidr(ip('10.0.0.1'), 32), action='DENY')),
    ({'dst-ip': ' 10.0.0.0 / 8 ', 'action': 'ALLOW'}, dict(dst=acl.Cidr(ip('10.0.0.0'), 8), action='ALLOW')),
    ({'src-ip': '10.0.0.1/32', 'nw-proto': 'udp', 'tp-dst': 53}, dict(nw_proto=17, tp_dst=53)),
    ({'src-ip': '10.0.0.1/32', 'nw-proto': 'Tcp', 'tp-dst': '0'}, dict(nw_proto=6, tp_dst=0)),
    ({'src-ip': '10.0.0.1/32', 'nw-proto': 'icmp'}, dict(nw_proto=1)),
    ({'src-ip': '10.0.0.1/32', 'nw-proto': '47'}, dict(nw_proto=47)),
    ({'src-ip': '10.0.0.1/32', 'dst-ip': '', 'action': ''}, dict(dst=None, action='DENY')),  # empty: skipped
])
def test_rules_parse(body, expected):
    parsed = parse_rule(body)
    for field, value in expected.items():
        assert getattr(parsed, field) == value


@pytest.mark.parametrize('body, key', [
    ({'src-ip': '10.0.0.1'}, 'src-ip'),
    ({'src-ip': '10.0.0.1/-1'}, 'src-ip'),
    ({'src-ip': '1.2.3/8'}, 'src-ip'),
    ({'src-ip': '10.0.0.1/32', 'nw-proto': '256'}, 'nw-proto'),
    ({'src-ip': '10.0.0.1/32', 'nw-proto': 'icmp', 'tp-dst': '7'}, 'tp-dst'),
    ({'src-ip': '10.0.0.1/32', 'nw-proto': 'tcp', 'tp-dst': '65536'}, 'tp-dst'),
    ({'src-ip': '10.0.0.1/32', 'action': 'drop'}, 'action'),
    ({'src-ip': True}, 'src-ip'),
    ({'src-ip': None}, 'src-ip'),
    ({'src-ip': '10.0.0.1/32', 'ruleid': '1'}, 'ruleid'),
    ({'nw-proto': 'tcp'}, None),
])
def test_bad_rules_name_their_key(body, key):
    with pytest.raises(AclRuleError) as raised:
        parse_rule(body)
    assert raised.value.key == key and raised.value.reason


def test_delete_bodies():
    assert parse_delete({'ruleid': '3'}) == 3
    assert parse_delete({'ruleid': 3, 'src-ip': '10.0.0.1/32'}) == 3
    for body in ({}, {'ruleid': '0'}, {'ruleid': 'one'}, {'ruleid': 1, 'src-ip': 'x'}, {'id': 1}):
        with pytest.raises(AclRuleError):
            parse_delete(body)


def test_listing_is_floodlights_with_java_int_prefixes():
    state = AclState()
    state.add_rule(rule(src_ip='192.168.1.0/24', nw_proto='tcp', tp_dst=22, action='allow'))
    assert [r.to_json() for r in state.listed()] == [{
        'id': 1, 'nw_src': '192.168.1.0/24', 'nw_dst': None, 'nw_src_prefix': ip('192.168.1.0') - (1 << 32),
        'nw_src_maskbits': 24, 'nw_dst_prefix': 0, 'nw_dst_maskbits': 0, 'nw_proto': 6, 'tp_dst': 22,
        'action': 'ALLOW'}]


@pytest.mark.parametrize('first, second, refused', [
    (dict(src_ip='10.0.0.0/8'), dict(src_ip='10.0.0.1/32'), True),                       # inside: never matches
    (dict(src_ip='10.0.0.0/8', action='allow'), dict(src_ip='10.1.0.0/16'), True),       # either action
    (dict(src_ip='10.0.0.1/32'), dict(src_ip='10.0.0.0/8'), False),                      # wider: taken
    (dict(src_ip='10.0.0.1/32', dst_ip='10.0.0.2/32'), dict(src_ip='10.0.0.1/32'), False),
    (dict(src_ip='10.0.0.1/32', nw_proto='tcp'), dict(src_ip='10.0.0.1/32'), False),
    (dict(src_ip='10.0.0.1/32'), dict(src_ip='10.0.0.1/32', nw_proto='tcp', tp_dst=80), True),
    (dict(src_ip='10.0.0.1/32', nw_proto='tcp', tp_dst=80), dict(src_ip='10.0.0.1/32', nw_proto='tcp',
                                                                 tp_dst=81), False),
    (dict(dst_ip='10.0.0.1/32'), dict(src_ip='10.0.0.1/32'), False),
])
def test_a_rule_inside_an_earlier_one_is_refused(first, second, refused):
    state = AclState()
    state.add_rule(rule(**first))
    if refused:
        with pytest.raises(AclConflict):
            state.add_rule(rule(**second))
        assert list(state.rules) == [1] and state.next_id == 2
    else:
        assert state.add_rule(rule(**second)).id == 2


def test_deny_goes_on_the_switches_of_the_covered_sources_with_earlier_allows_above():
    state = AclState()
    state.hosts = frozenset({(ip('10.0.0.1'), S1), (ip('10.0.0.2'), S2), (ip('10.1.0.1'), S2)})
    state.add_rule(rule(src_ip='10.0.0.1/32', dst_ip='10.0.0.9/32', action='allow'))  # nothing by itself
    assert state.entries() == {}
    state.add_rule(rule(src_ip='10.0.0.0/24', action='deny'))
    entries = state.entries()
    assert sorted(entries) == ['ACLRule_1_00:00:00:00:00:00:00:01', 'ACLRule_1_00:00:00:00:00:00:00:02',
                               'ACLRule_2_00:00:00:00:00:00:00:01', 'ACLRule_2_00:00:00:00:00:00:00:02']
    assert entries['ACLRule_1_00:00:00:00:00:00:00:01'] == {
        'switch': '00:00:00:00:00:00:00:01', 'name': 'ACLRule_1_00:00:00:00:00:00:00:01', 'active': 'true',
        'priority': '30000', 'eth_type': '0x0800', 'ipv4_src': '10.0.0.1/32', 'ipv4_dst': '10.0.0.9/32',
        'actions': 'output=controller'}
    assert entries['ACLRule_2_00:00:00:00:00:00:00:02'] == {
        'switch': '00:00:00:00:00:00:00:02', 'name': 'ACLRule_2_00:00:00:00:00:00:00:02', 'active': 'true',
        'priority': '29999', 'eth_type': '0x0800', 'ipv4_src': '10.0.0.0/24'}
    # a dst-only rule goes where its destination hosts are; ports and protocol go into the match
    state.add_rule(rule(dst_ip='10.1.0.0/16', nw_proto='udp', tp_dst=53))
    assert state.entries()['ACLRule_3_00:00:00:00:00:00:00:02'] == {
        'switch': '00:00:00:00:00:00:00:02', 'name': 'ACLRule_3_00:00:00:00:00:00:00:02', 'active': 'true',
        'priority': '29998', 'eth_type': '0x0800', 'ipv4_dst': '10.1.0.0/16', 'ip_proto': '17', 'tp_dst': '53'}


def test_new_hosts_get_the_deny_rules_covering_them_once():
    state = AclState()
    state.add_rule(rule(src_ip='10.0.0.5/32', dst_ip='10.0.0.6/32', action='allow'))
    state.add_rule(rule(src_ip='10.0.0.0/24'))
    state.add_rule(rule(src_ip='10.9.0.0/16'))
    assert state.entries() == {}
    assert state.hosts_seen({(ip('10.0.0.7'), S2), (ip('172.16.0.1'), S1)})
    assert {name: e['priority'] for name, e in state.entries().items()} == {
        'ACLRule_1_00:00:00:00:00:00:00:02': '30000', 'ACLRule_2_00:00:00:00:00:00:00:02': '29999'}
    assert not state.hosts_seen({(ip('10.0.0.7'), S2), (ip('10.0.0.8'), S2)})  # already there
    assert not state.hosts_seen(set())
    assert not state.hosts_seen({(ip('10.0.0.7'), S2)})  # gone and back: its entries are there already
    assert len(state.entries()) == 2


def test_remove_and_clear():
    state = AclState()
    state.hosts = frozenset({(ip('10.0.0.1'), S1)})
    state.add_rule(rule(src_ip='10.0.0.1/32', nw_proto='tcp'))
    state.add_rule(rule(src_ip='10.0.0.0/8'))
    state.remove_rule(1)
    assert list(state.entries()) == ['ACLRule_2_00:00:00:00:00:00:00:01']
    with pytest.raises(KeyError):
        state.remove_rule(1)
    assert state.add_rule(rule(dst_ip='10.0.0.1/32')).id == 3  # numbers are not reused
    assert state.entries()['ACLRule_3_00:00:00:00:00:00:00:01']['priority'] == '29998'
    state.clear()
    assert (state.rules, state.flows, state.entries()) == ({}, {}, {})
    assert state.add_rule(rule(src_ip='10.0.0.1/32')).id == 1
    assert state.entries()['ACLRule_1_00:00:00:00:00:00:00:01']['priority'] == '30000'


def test_a_switch_out_of_priorities_refuses_the_rule():
    state = AclState()
    state.hosts = frozenset({(ip('10.0.0.1'), S1)})
    state.next_priority[S1] = acl.LOWEST_PRIORITY
    state.add_rule(rule(src_ip='10.0.0.1/32', nw_proto='tcp'))
    with pytest.raises(AclFull):
        state.copy().add_rule(rule(src_ip='10.0.0.1/32', nw_proto='udp'))


class FakeTable:
    """The two questions plan asks of a StaticFlowTable, on a dict of name -> request."""

    def __init__(self, entries):
        self.entries = entries

    def same_request(self, name, text):
        return name in self.entries and json.dumps(self.entries[name]) == text

    def __contains__(self, name):
        return name in self.entries


def test_plan_pushes_what_is_missing_or_changed_and_deletes_what_no_rule_wants():
    state = AclState()
    state.hosts = frozenset({(ip('10.0.0.1'), S1)})
    state.add_rule(rule(src_ip='10.0.0.1/32', nw_proto='tcp'))
    state.add_rule(rule(src_ip='10.0.0.0/8'))
    wanted = state.entries()
    first, second = wanted
    table = FakeTable({first: wanted[first], second: dict(wanted[second], priority='5'),
                       'ACLRule_9_00:00:00:00:00:00:00:01': {}, 'user-entry': {}})
    push, delete = acl.plan(wanted, table, ['ACLRule_9_00:00:00:00:00:00:00:01', 'user-entry', 'ACLRule_8_x'])
    assert push == [wanted[second]]
    assert delete == ['ACLRule_9_00:00:00:00:00:00:00:01']


def test_host_addresses_reads_a_device_table():
    from controller.devices import DeviceTable
    devices = DeviceTable()
    devices.learn(b'\x02' * 6, 0xffff, S2, 3, 0.0, ip('10.0.0.1'))
    devices.learn(b'\x02' * 6, 0xffff, S2, 3, 1.0, ip('10.0.0.2'))
    devices.learn(b'\x04' * 6, 0xffff, S1, 1, 0.0)  # no address yet
    assert acl.host_addresses(devices) == {(ip('10.0.0.1'), S2), (ip('10.0.0.2'), S2)}


def test_state_round_trips_through_the_store(tmp_path):
    path = str(tmp_path / 'entries.sqlite3')
    state = AclState()
    state.hosts = frozenset({(ip('10.0.0.1'), 0xfedcba9876543210)})
    state.add_rule(rule(src_ip='10.0.0.1/32', dst_ip='10.0.0.2/32', action='allow'))
    state.add_rule(rule(src_ip='10.0.0.0/24', nw_proto='tcp', tp_dst=443))
    state.remove_rule(1)
    store = AclStore(path)
    assert store.load() is None
    store.save(state.document())
    other = AclStore(path)
    loaded = AclState.from_document(other.load())
    assert (loaded.listed(), loaded.next_id, loaded.flows, loaded.next_priority, loaded.entries()) == (
        state.listed(), state.next_id, state.flows, state.next_priority, state.entries())
    assert not other.changed_elsewhere()
    state.clear()
    store.save(state.document())
    assert other.changed_elsewhere()
    assert AclState.from_document(other.load()).rules == {}
    assert not other.changed_elsewhere()
