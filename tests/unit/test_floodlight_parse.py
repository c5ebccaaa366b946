"""rest.floodlight: both dialects' keys, value formats, strict validation, the action grammar."""
import json

import pytest

from controller.flowentry import floodlight_cookie
from rest import floodlight as fl
from rest.floodlight import DIALECT_V0, DIALECT_V1, FlowValidationError

pytestmark = pytest.mark.unit

TUTORIAL = {"switch": "00:00:a2:96:ff:dd:56:45", "name": "static-flow1", "cookie": "0", "priority": "32768",
            "src-mac": "52:54:00:9b:d5:bc", "active": "true", "actions": "output=3"}


def parse(doc, dialect=DIALECT_V1):
    return fl.parse_entry(doc, dialect)


def error_of(doc, dialect=DIALECT_V1):
    with pytest.raises(FlowValidationError) as info:
        fl.parse_entry(doc, dialect)
    return info.value


def test_tutorial_entry():
    entry = parse(TUTORIAL)
    assert entry.name == 'static-flow1'
    assert entry.dpid == 0x0000a296ffdd5645
    assert entry.priority == 32768
    assert entry.match == (('dl_src', '52:54:00:9b:d5:bc'),)
    assert entry.actions == (('output', 3, 65535),)
    assert entry.active is True
    assert entry.cookie == 0x00a00000d7014f7f


def test_both_spellings_of_mac_and_port_mean_the_same():
    old = parse({"switch": "1", "name": "a", "src-mac": "52:54:00:9b:d5:bc", "dst-mac": "52:54:00:9b:d5:be",
                 "ingress-port": "2"})
    new = parse({"switch": "1", "name": "a", "eth_src": "52:54:00:9b:d5:bc", "eth_dst": "52:54:00:9b:d5:be",
                 "in_port": 2})
    assert old.match == new.match == (('in_port', 2), ('dl_src', '52:54:00:9b:d5:bc'),
                                      ('dl_dst', '52:54:00:9b:d5:be'))


@pytest.mark.parametrize('value', [32768, '32768', '0x8000'])
def test_numbers_as_strings_json_numbers_or_hex(value):
    assert parse({"switch": "1", "name": "a", "priority": value}).priority == 32768


@pytest.mark.parametrize('switch,dpid', [
    ('00:00:00:00:00:00:00:01', 1), ('0:0:0:0:0:0:0:1', 1), ('0000000000000001', 1), ('1', 1), (1, 1),
    ('00:00:a2:96:ff:dd:56:45', 0xa296ffdd5645), ('a296ffdd5645', 0xa296ffdd5645)])
def test_dpid_forms(switch, dpid):
    assert parse({"switch": switch, "name": "a"}).dpid == dpid


@pytest.mark.parametrize('active,expected', [('true', True), ('TRUE', True), (True, True), ('false', False),
                                             (False, False)])
def test_active(active, expected):
    assert parse({"switch": "1", "name": "a", "active": active}).active is expected


def test_defaults_per_dialect():
    v0 = parse({"switch": "1", "name": "a", "actions": "output=1"}, DIALECT_V0)
    v1 = parse({"switch": "1", "name": "a", "actions": "output=1"}, DIALECT_V1)
    assert (v0.priority, v0.actions) == (32767, (('output', 1, 32767),))
    assert (v1.priority, v1.actions) == (65535, (('output', 1, 65535),))


def test_cookie_is_accepted_and_ignored():
    entry = parse(dict(TUTORIAL, cookie="12345"))
    assert entry.cookie == floodlight_cookie('static-flow1')


@pytest.mark.parametrize('doc,key', [
    ({"switch": "1"}, 'name'),
    ({"name": "a"}, 'switch'),
    ({"switch": "zz:1", "name": "a"}, 'switch'),
    ({"switch": "1", "name": "a", "src-mac": "52:54:00:9b:d5"}, 'src-mac'),
    ({"switch": "1", "name": "a", "eth_dst": "not-a-mac"}, 'eth_dst'),
    ({"switch": "1", "name": "a", "priority": "65536"}, 'priority'),
    ({"switch": "1", "name": "a", "priority": "-1"}, 'priority'),
    ({"switch": "1", "name": "a", "priority": "high"}, 'priority'),
    ({"switch": "1", "name": "a", "in_port": "abc"}, 'in_port'),
    ({"switch": "1", "name": "a", "active": "yes"}, 'active'),
    ({"switch": "1", "name": "a", "colour": "blue"}, 'colour'),
    ({"switch": "1", "name": "a", "actions": "output=bogus"}, 'actions'),
    ({"switch": "1", "name": "a", "actions": "fly=1"}, 'actions'),
    ({"switch": "1", "name": "a", "actions": "output=3", "nested": {"a": 1}}, 'nested'),
    ({"switch": "1", "name": "a", "priority": [1]}, 'priority'),
    ({"switch": "1", "name": "a", "ipv4_src": "10.0.0.1"}, 'ipv4_src'),          # no eth_type
    ({"switch": "1", "name": "a", "eth_type": "0x800", "tcp_dst": "22"}, 'tcp_dst'),  # no ip_proto
    ({"switch": "1", "name": "a", "instruction_apply_actions": "output=1"}, 'instruction_apply_actions'),
    ({"switch": "1", "name": "a", "ipv6_src": "::1"}, 'ipv6_src'),
    ({"switch": "1", "name": "a", "src-mac": "52:54:00:9b:d5:bc", "eth_src": "52:54:00:9b:d5:bd"}, 'eth_src'),
])
def test_bad_entries_name_the_key(doc, key):
    error = error_of(doc)
    assert error.key == key
    body = error.to_json()
    assert body['status'].startswith('Error! ') and body['key'] == key


def test_ip_fields_with_eth_type_parse():
    entry = parse({"switch": "1", "name": "a", "eth_type": "0x0800", "ipv4_src": "10.0.0.0/24",
                   "ip_proto": "6", "tcp_dst": "22", "ip_dscp": "4"})
    assert entry.match_dict() == {'dl_type': 0x800, 'nw_src': ('10.0.0.0', 24), 'nw_proto': 6, 'tp_dst': 22,
                                  'nw_tos': 16}


def test_old_dialect_tos_bits_are_dscp():
    entry = parse({"switch": "1", "name": "a", "ether-type": "2048", "tos-bits": "4"}, DIALECT_V0)
    assert entry.match_dict()['nw_tos'] == 16


def test_full_action_grammar_in_order():
    text = ('set-vlan-id=20,set_vlan_pcp=2,set-src-mac=00:00:00:00:00:0a,set_eth_dst=00:00:00:00:00:0b,'
            'set-tos-bits=8,set_ipv4_src=1.2.3.4,set-dst-ip=5.6.7.8,set-src-port=1000,set_tp_dst=2000,'
            'strip-vlan,enqueue=3:7,output=flood,output=all,output=controller,output=local,'
            'output=ingress-port,output=normal,output=3')
    actions = fl.parse_actions(text, DIALECT_V1)
    assert actions == (
        ('set_vlan_vid', 20), ('set_vlan_pcp', 2), ('set_dl_src', '00:00:00:00:00:0a'),
        ('set_dl_dst', '00:00:00:00:00:0b'), ('set_nw_tos', 8), ('set_nw_src', '1.2.3.4'),
        ('set_nw_dst', '5.6.7.8'), ('set_tp_src', 1000), ('set_tp_dst', 2000), ('strip_vlan',),
        ('enqueue', 3, 7), ('output', 0xfffb, 65535), ('output', 0xfffc, 65535), ('output', 0xfffd, 65535),
        ('output', 0xfffe, 65535), ('output', 0xfff8, 65535), ('output', 0xfffa, 65535), ('output', 3, 65535))


def test_no_actions_means_drop():
    assert parse({"switch": "1", "name": "a"}).actions == ()
    assert parse({"switch": "1", "name": "a", "actions": ""}).actions == ()


@pytest.mark.parametrize('body', [b'', b'   ', b'{"name":', b'[1,2]', b'"text"', b'\xff\xfe', b'[' * 100000])
def test_decode_body_rejects_non_objects(body):
    with pytest.raises(FlowValidationError):
        fl.decode_body(body)


def test_reply_bodies_are_floodlights():
    assert fl.ENTRY_PUSHED == '{"status" : "Entry pushed"}'
    assert fl.entry_deleted_body('numvals') == '{"status" : "Entry numvals deleted"}'
    assert fl.clear_body(None) == '{"status":"Deleted all flows."}'
    assert fl.clear_body('00:00:00:00:00:00:00:01') == \
        '{"status":"Deleted all flows for switch 00:00:00:00:00:00:00:01."}'


def test_v1_list_entry_matches_floodlight_capture():
    # floodlight-captures/v1.2/097_sfp_list_sw1.txt, entry flow-mod-1
    entry = parse({"switch": "00:00:00:00:00:00:00:01", "name": "flow-mod-1", "cookie": "0",
                   "priority": "32768", "in_port": "1", "active": "true", "actions": "output=2"})
    listed = json.dumps(fl.v1_list({1: [entry]}, DIALECT_V1), separators=(',', ':'))
    assert listed == ('{"00:00:00:00:00:00:00:01":[{"flow-mod-1":{"version":"OF_10","command":"ADD",'
                      '"cookie":"45035997351236006","priority":"-32768","idleTimeoutSec":"0","hardTimeoutSec":"0",'
                      '"outPort":"any","match":{"in_port":"1"},"actions":{"actions":"output=2"}}}]}')


def test_v1_list_default_priority_and_drop():
    entry = parse({"switch": "00:00:00:00:00:00:00:01", "name": "drop1", "in_port": "3"})
    assert fl.v1_entry_json(entry, DIALECT_V1)['priority'] == '2147483647'
    assert fl.v1_entry_json(entry, DIALECT_V1)['actions'] == {'none': 'drop'}


def _capture_entry(version, capture, dpid, name):
    import pathlib
    path = pathlib.Path(__file__).resolve().parents[1] / 'fixtures' / 'floodlight' / version / capture
    body = path.read_text().rstrip('\n').splitlines()[-1]
    return json.loads(body)[dpid][name]


@pytest.mark.parametrize('request_doc,name', [
    ({"switch": "00:00:00:00:00:00:00:01", "name": "flow-mod-1", "cookie": "0", "priority": "32768",
      "ingress-port": "1", "active": "true", "actions": "output=2"}, 'flow-mod-1'),
    ({"switch": "00:00:00:00:00:00:00:01", "name": "static-flow1", "priority": "100", "ingress-port": "2",
      "src-mac": "00:00:00:00:00:01", "dst-mac": "00:00:00:00:00:02", "vlan-id": "10", "vlan-priority": "3",
      "ether-type": "0x0800", "tos-bits": "4", "protocol": "6", "src-ip": "10.0.0.1", "dst-ip": "10.0.0.0/24",
      "src-port": "80", "dst-port": "8080",
      "actions": "set-vlan-id=20,set-vlan-priority=2,set-src-mac=00:00:00:00:00:0a,set-dst-mac=00:00:00:00:00:0b,"
                 "set-tos-bits=8,set-src-ip=1.2.3.4,set-dst-ip=5.6.7.8,set-src-port=1000,set-dst-port=2000,"
                 "strip-vlan,enqueue=3:7,output=flood,output=all,output=controller,output=local,"
                 "output=ingress-port,output=normal,output=3"}, 'static-flow1'),
    ({"switch": "00:00:00:00:00:00:00:01", "name": "drop1", "ingress-port": "3"}, 'drop1'),
])
def test_v0_list_entry_matches_floodlight_091_capture(request_doc, name):
    entry = fl.parse_entry(request_doc, DIALECT_V0)
    expected = _capture_entry('v0.91', '080_sfp_list_all.txt', '00:00:00:00:00:00:00:01', name)
    assert json.dumps(fl.v0_entry_json(entry)) == json.dumps(expected)
