"""Floodlight's firewall URLs (/wm/firewall/..., the same for v0.91 and v1.2): rule JSON <-> controller.firewall.Rule
and a route table of pure handlers (mounted by apps/firewall.py).

Rule bodies are parsed as rest/floodlight.py parses static entries: every key is in RULE_KEYS, anything else and
every value that does not parse is a 400 with a JSON reason (Floodlight logged those and stored an allow-all rule,
or a rule without the field). Replies keep Floodlight's hand-built status strings. Where the two generations
answer the same URL differently, the rule list carries both generations' flag keys (wildcard_* and any_*), and
--floodlight-api picks the values they disagree on (docs/compatibility.md).
"""
import ipaddress
import json

from controller import firewall
from controller.firewall import ALLOW, DENY, Rule
from controller.dpid import format_dpid
from controller.storefaults import StoreFault
from rest import floodlight
from rest.floodlight import FlowValidationError
from rest.http import HttpError, Route
from rest.staticflow import store_refusal

API_V0 = '0.9'
API_V1 = '1.x'


def _any_or(convert):
    """A converter for fields Floodlight let be "ANY" (or, for switchid, "-1"): those give None, i.e. any."""
    def parse(value):
        if isinstance(value, str) and value.strip().upper() in ('ANY', '-1'):
            return None
        return convert(value)
    return parse


def _cidr(value):
    if not isinstance(value, str):
        raise ValueError('an IPv4 address or prefix must be a string like 10.0.0.0/8')
    try:
        network = ipaddress.IPv4Network(value.strip(), strict=False)
    except ValueError:
        raise ValueError('%r is not an IPv4 address or prefix like 10.0.0.0/8' % value) from None
    return (int(network.network_address), network.prefixlen)


def _dl_type(value):
    text = value.strip().upper() if isinstance(value, str) else value
    types = {'ARP': firewall.ETH_TYPE_ARP, 'IPV4': firewall.ETH_TYPE_IPV4}
    if text not in types:
        raise ValueError('%r is not ARP or IPv4 (the only dl-type values Floodlight knew)' % (value,))
    return types[text]


def _nw_proto(value):
    text = value.strip().upper() if isinstance(value, str) else value
    protocols = {'TCP': firewall.IP_PROTO_TCP, 'UDP': firewall.IP_PROTO_UDP, 'ICMP': firewall.IP_PROTO_ICMP}
    if text not in protocols:
        raise ValueError('%r is not TCP, UDP or ICMP (the only nw-proto values Floodlight knew)' % (value,))
    return protocols[text]


def _action(value):
    text = value.strip().lower() if isinstance(value, str) else None
    actions = {'allow': ALLOW, 'accept': ALLOW, 'deny': DENY, 'drop': DENY}
    if text not in actions:
        raise ValueError('%r is not allow, accept, deny or drop' % (value,))
    return actions[text]


# Floodlight's request keys (FirewallRulesResource.jsonToFirewallRule, both generations) -> (Rule field,
# converter). Keys are compared case-insensitively, as Floodlight did.
RULE_KEYS = {
    'ruleid': ('ruleid', floodlight.int_range(-0x80000000, 0x7fffffff)),
    'switchid': ('dpid', _any_or(floodlight.to_dpid)),
    'src-inport': ('in_port', floodlight.int_range(0, 0xffff)),
    'src-mac': ('dl_src', _any_or(floodlight.to_mac)),
    'dst-mac': ('dl_dst', _any_or(floodlight.to_mac)),
    'dl-type': ('dl_type', _dl_type),
    'src-ip': ('nw_src', _any_or(_cidr)),
    'dst-ip': ('nw_dst', _any_or(_cidr)),
    'nw-proto': ('nw_proto', _nw_proto),
    'tp-src': ('tp_src', floodlight.int_range(0, 0xffff)),
    'tp-dst': ('tp_dst', floodlight.int_range(0, 0xffff)),
    'priority': ('priority', floodlight.int_range(-0x80000000, 0x7fffffff)),
    'action': ('action', _action),
}


def parse_rule(document):
    """A decoded JSON object -> Rule (ruleid as given, 0 when absent), or FlowValidationError naming the key."""
    values = {}
    for key, raw in document.items():
        spec = RULE_KEYS.get(key.lower())
        if spec is None:
            raise FlowValidationError('unknown key %s (known: %s)' % (key, ', '.join(RULE_KEYS)), key)
        if isinstance(raw, (dict, list, bool)) or raw is None:
            raise FlowValidationError('%s must be a string or a number' % key, key)
        if raw == '':
            continue  # Floodlight skips fields whose text is empty
        field, convert = spec
        try:
            values[field] = convert(raw)
        except ValueError as error:
            raise FlowValidationError('bad value for %s: %s' % (key, error), key) from None
    # Floodlight's implications: an address or a protocol makes the rule an IPv4 rule.
    ip_keys = [f for f in ('nw_src', 'nw_dst', 'nw_proto') if values.get(f) is not None]
    if ip_keys:
        if values.setdefault('dl_type', firewall.ETH_TYPE_IPV4) != firewall.ETH_TYPE_IPV4:
            raise FlowValidationError('src-ip, dst-ip and nw-proto need dl-type IPv4, not ARP', 'dl-type')
    for field, key in (('tp_src', 'tp-src'), ('tp_dst', 'tp-dst')):
        if values.get(field) and values.get('nw_proto') not in (firewall.IP_PROTO_TCP, firewall.IP_PROTO_UDP):
            # Floodlight stored such a rule and never looked at the port: it matched every protocol.
            raise FlowValidationError('%s needs nw-proto TCP or UDP in the same rule' % key, key)
        if values.get(field) == 0:
            values[field] = None  # port 0 is Floodlight's "any port"
    return Rule(**values)


def parse_rule_id(document):
    """The ruleid of a DELETE body (a whole rule may be sent; only its ruleid counts, as in Floodlight)."""
    rule = parse_rule(document)
    if not any(key.lower() == 'ruleid' for key in document):
        raise FlowValidationError('the request has no ruleid', 'ruleid')
    return rule.ruleid


def parse_subnet_mask(document):
    """{"subnet-mask": "255.255.0.0"} -> the mask as an int."""
    unknown = [key for key in document if key != 'subnet-mask']
    if unknown or 'subnet-mask' not in document:
        raise FlowValidationError('send {"subnet-mask": "255.255.255.0"}', unknown[0] if unknown else 'subnet-mask')
    value = document['subnet-mask']
    try:
        if not isinstance(value, str):
            raise ValueError
        return int(ipaddress.IPv4Network('0.0.0.0/' + value.strip()).netmask)
    except ValueError:
        raise FlowValidationError('bad value for subnet-mask: %r is not a netmask like 255.255.255.0' % (value,),
                                  'subnet-mask') from None


# --- replies ----------------------------------------------------------------------------------------------

def _ipv4_text(value):
    return str(ipaddress.IPv4Address(value))


def _mask_int(prefix):
    """A prefix length as Floodlight 1.x stored it: the mask as a signed 32-bit int (/32 -> -1)."""
    mask = (0xffffffff << (32 - prefix)) & 0xffffffff
    return mask - (1 << 32) if mask & 0x80000000 else mask


# The flag of each rule field, as each generation named it.
FLAGS = (('dpid', 'dpid'), ('in_port', 'in_port'), ('dl_src', 'dl_src'), ('dl_dst', 'dl_dst'),
         ('dl_type', 'dl_type'), ('nw_src', 'nw_src'), ('nw_dst', 'nw_dst'), ('nw_proto', 'nw_proto'),
         ('tp_src', 'tp_src'), ('tp_dst', 'tp_dst'))


def _wildcard_dpid(api):
    return 0xffffffffffffffff if api == API_V0 else 0


def rule_json(rule, api):
    """Floodlight's FirewallRuleSerializer shape. Both generations' flag keys are there (v0.91's wildcard_*,
    v1.2's any_*), in the order of `api`'s generation first; `api` picks the values the generations disagree
    on: a wildcarded dpid (ff:..:ff vs 00:..:00) and in_port (0 vs -1), and the deny action (DENY vs DROP)."""
    src, src_bits = rule.nw_src or (0, 0)
    dst, dst_bits = rule.nw_dst or (0, 0)
    body = {
        'ruleid': rule.ruleid,
        'dpid': format_dpid(_wildcard_dpid(api) if rule.dpid is None else rule.dpid),
        'in_port': (0 if api == API_V0 else -1) if rule.in_port is None else rule.in_port,
        'dl_src': rule.dl_src or '00:00:00:00:00:00',
        'dl_dst': rule.dl_dst or '00:00:00:00:00:00',
        'dl_type': rule.dl_type or 0,
        'nw_src_prefix': _ipv4_text(src),
        'nw_src_maskbits': src_bits,
        'nw_dst_prefix': _ipv4_text(dst),
        'nw_dst_maskbits': dst_bits,
        'nw_proto': rule.nw_proto or 0,
        'tp_src': rule.tp_src or 0,
        'tp_dst': rule.tp_dst or 0,
    }
    prefixes = ('wildcard_', 'any_') if api == API_V0 else ('any_', 'wildcard_')
    for prefix in prefixes:
        for field, name in FLAGS:
            body[prefix + name] = getattr(rule, field) is None
    body['priority'] = rule.priority
    body['action'] = action_name(rule.action, api)
    return body


def action_name(action, api):
    return 'DROP' if action == DENY and api == API_V1 else action


def storage_row(rule, api):
    """A rule as Floodlight's storage table `controller_firewallrules` held it (every value a string: dpid, MACs
    and addresses as decimal numbers; the action as its ordinal, deny 0, allow 1)."""
    src, src_bits = rule.nw_src or (0, 0)
    dst, dst_bits = rule.nw_dst or (0, 0)
    signed = (lambda v: v - (1 << 32) if v & 0x80000000 else v)
    dpid = _wildcard_dpid(api) if rule.dpid is None else rule.dpid
    row = {
        'ruleid': rule.ruleid,
        'dpid': dpid - (1 << 64) if dpid >> 63 else dpid,
        'in_port': (0 if api == API_V0 else -1) if rule.in_port is None else rule.in_port,
        'dl_src': int((rule.dl_src or '0').replace(':', ''), 16),
        'dl_dst': int((rule.dl_dst or '0').replace(':', ''), 16),
        'dl_type': rule.dl_type or 0,
        'nw_src_prefix': signed(src),
        'nw_src_maskbits': src_bits if api == API_V0 else _mask_int(src_bits) if rule.nw_src else 0,
        'nw_dst_prefix': signed(dst),
        'nw_dst_maskbits': dst_bits if api == API_V0 else _mask_int(dst_bits) if rule.nw_dst else 0,
        'nw_proto': rule.nw_proto or 0,
        'tp_src': rule.tp_src or 0,
        'tp_dst': rule.tp_dst or 0,
    }
    prefix = 'wildcard_' if api == API_V0 else 'any_'
    for field, name in FLAGS:
        row[('wildcard_' if name == 'dpid' else prefix) + name] = getattr(rule, field) is None
    row['priority'] = rule.priority
    row['action'] = 0 if rule.action == DENY else 1
    return {key: str(value).lower() if isinstance(value, bool) else str(value) for key, value in row.items()}


def status_result(enabled):
    return '{"result" : "firewall %s"}' % ('enabled' if enabled else 'disabled')


RUNNING = '{"status" : "success", "details" : "firewall running"}'
STOPPED = '{"status" : "success", "details" : "firewall stopped"}'
SUBNET_MASK_SET = '{"status" : "subnet mask set"}'
RULE_DELETED = '{"status" : "Rule deleted"}'


def rule_added(ruleid):
    return '{"status" : "Rule added", "rule-id" : %s}' % json.dumps(str(ruleid))


def subnet_mask_body(mask, api):
    """v0.91 answered the bare address (as a JSON content type), v1.2 an object."""
    text = _ipv4_text(mask)
    return text if api == API_V0 else '{"subnet-mask":%s}' % json.dumps(text)


# --- handlers: handler(app, request) -> body; `app` is apps/firewall.FirewallApp ---------------------------------

def _body(request):
    try:
        return floodlight.decode_body(request.body)
    except FlowValidationError as error:
        raise HttpError(400, 'Could not parse firewall rule: %s' % error.reason) from None


def get_status(app, request):
    return status_result(app.fw.enabled)


def enable(app, request):
    app.set_enabled(True)
    return RUNNING


def disable(app, request):
    app.set_enabled(False)
    return STOPPED


def get_subnet_mask(app, request):
    return subnet_mask_body(app.fw.subnet_mask, app.api)


def set_subnet_mask(app, request):
    app.set_subnet_mask(parse_subnet_mask(floodlight.decode_body(request.body)))
    return SUBNET_MASK_SET


def storage_rules(app, request):
    return [storage_row(rule, app.api) for rule in app.fw.rules]


def list_rules(app, request):
    return [rule_json(rule, app.api) for rule in app.fw.rules]


def add_rule(app, request):
    rule = parse_rule(_body(request))
    try:
        rule = app.add_rule(rule)
    except firewall.DuplicateRuleError as error:
        raise HttpError(409, str(error)) from None
    except StoreFault as error:
        raise store_refusal(error) from None
    return rule_added(rule.ruleid)


def delete_rule(app, request):
    ruleid = parse_rule_id(_body(request))
    try:
        deleted = app.delete_rule(ruleid)
    except StoreFault as error:
        raise store_refusal(error) from None
    if not deleted:
        raise HttpError(404, "Can't delete, a rule with this ID doesn't exist.")
    return RULE_DELETED


ROUTES = [
    Route(('GET',), '/wm/firewall/module/status/json', get_status),
    # v0.91 enabled and disabled on GET, v1.2 on PUT (its GET was a 405): both are served.
    Route(('GET', 'PUT'), '/wm/firewall/module/enable/json', enable),
    Route(('GET', 'PUT'), '/wm/firewall/module/disable/json', disable),
    Route(('GET',), '/wm/firewall/module/subnet-mask/json', get_subnet_mask),
    Route(('POST',), '/wm/firewall/module/subnet-mask/json', set_subnet_mask),
    Route(('GET',), '/wm/firewall/module/storageRules/json', storage_rules),
    Route(('GET',), '/wm/firewall/rules/json', list_rules),
    Route(('POST',), '/wm/firewall/rules/json', add_rule),
    Route(('DELETE',), '/wm/firewall/rules/json', delete_rule),
]
