"""Bad REST requests, by kind: (kind, method, path, body, expected status). Shared by the bad-input test and
docs/reliability.md's figures (`python -m tests.protocol.bad_inputs` prints the count of each kind)."""
import json

PUSH = '/wm/staticflowpusher/json'
SWITCH = '00:00:00:00:00:00:0b:ad'
GOOD = {'switch': SWITCH, 'name': 'probe', 'priority': '100', 'eth_type': '0x0800', 'ipv4_src': '10.0.0.1/32',
        'in_port': '1', 'eth_src': '52:54:00:00:0b:01', 'actions': 'output=2'}
FAMILIES = ('staticflowentrypusher', 'staticflowpusher', 'staticentrypusher')


def _with(**changes):
    body = dict(GOOD)
    for key, value in changes.items():
        key = key.replace('__', '-')
        if value is _DROP:
            body.pop(key, None)
        else:
            body[key] = value
    return json.dumps(body)


_DROP = object()


def _values(key, values, extra=None):
    out = []
    for value in values:
        changes = dict(extra or {})
        changes[key] = value
        out.append(_with(**changes))
    return out


def cases(max_body):
    """Every bad request. `max_body` is the controller's --rest-max-body."""
    good_text = json.dumps(GOOD)
    out = []

    def add(kind, bodies, status=400, method='POST', path=PUSH):
        for body in bodies:
            out.append((kind, method, path, body, status))

    add('empty body', [b'', b' ', b'\n\t\r ', b'\x00'])
    add('empty body', [b''], method='DELETE')
    # every proper prefix of a valid entry is broken JSON
    add('truncated body', [good_text[:n].encode() for n in range(1, len(good_text))])
    add('non-UTF-8 body', [b'\xff', b'\xc3\x28', b'\xc0\xaf', b'{"name":"caf\xe9"}', good_text.encode('utf-16'),
                           good_text.encode('utf-32'), b'{"switch":"\xed\xa0\x80"}',
                           json.dumps(dict(GOOD, name='\ud800')).encode('ascii')])
    add('JSON that is not an object', [b'[]', json.dumps([GOOD]).encode(), b'1', b'"entry"', b'null', b'true',
                                       b'NaN', b'-Infinity', b'1e999'])
    add('nested value', [_with(**{key: nested}) for key in ('name', 'switch', 'priority', 'actions', 'eth_src',
                                                             'in_port', 'active')
                         for nested in ({'a': 1}, [1], None, [], {})])
    add('number out of range', _values('priority', ['-1', '65536', '0x10000', '1e3', 70000, -5, 1.5, True, '']
                                       [:-1]))
    add('number out of range', _values('in_port', ['-1', '65536', '0x1ffff', 2.0, False]))
    add('number out of range', _values('eth_vlan_vid', ['4096', '-1', '65534', '0x1000']))
    add('number out of range', _values('eth_vlan_pcp', ['8', '-1']))
    add('number out of range', _values('idle_timeout', ['65536', '-1', 1e10]))
    add('number out of range', _values('hard_timeout', ['65536', '-1', '99999999999999999999']))
    add('number out of range', _values('tp_src', ['65536', '-1'], {'ip_proto': '6'}))
    add('number out of range', _values('ip_dscp', ['64', '-1']))
    add('number out of range', _values('ip_tos', ['256', '3']))
    add('number out of range', _values('ip_proto', ['256', '-1']))
    add('number out of range', _values('eth_type', ['0x10000', '-1']))
    add('number out of range', _values('actions', ['output=0', 'output=65280', 'output=70000', 'output=-1',
                                                   'set_vlan_vid=4096', 'set_vlan_pcp=8', 'set_tp_src=65536',
                                                   'enqueue=1:4294967295', 'enqueue=65280:1',
                                                   'set_ip_tos=256', 'output=' + '9' * 5000]))
    add('malformed MAC', _values('eth_src', ['52:54:00:9b:d5', '52:54:00:9b:d5:bc:aa', 'zz:54:00:9b:d5:bc',
                                             '525400:9bd5bc', 525400, '52:54:00:9b:d5:bcd', '52::54:00:9b:d5',
                                             ' : : : : : ', '52:54:00:9b:d5:1000']))
    add('malformed MAC', _values('set-src-mac', ['52:54:00'], {'actions': _DROP}))
    add('malformed MAC', _values('actions', ['set_eth_dst=52:54', 'set_eth_src=']))
    add('malformed IP or CIDR', _values('ipv4_src', ['10.0.0.256', '10.0.0', '::1', 'a.b.c.d', 167772161,
                                                     '10.0.0.0/33', '10.0.0.0/-1', '10.0.0.0/255.0.255.0',
                                                     '10.0.0.0/', '10.0.0.0/8/8', '10.0.0.1/8 8', '0x0a000001']))
    add('malformed IP or CIDR', _values('ipv4_dst', ['1.2.3.4.5'], {}))
    add('malformed IP or CIDR', _values('actions', ['set_ipv4_src=10.0.0.300', 'set_ipv4_dst=10.0.0.0/8']))
    add('malformed DPID', _values('switch', ['00:00:00:00:00:00:00:00:01', 'g', '-1', '0x1ffffffffffffffff',
                                             2 ** 64, -1, '00:00:00:00:00:00:00:0g', '::', '1:2:3:4:5:6:7:8:9', ' ',
                                             '0' * 17]))
    add('malformed DPID', [b''], method='GET', path='/wm/staticflowpusher/list/zz/json')
    for family in FAMILIES:
        for bad in ('zz', '-1', '00:00:00:00:00:00:00:00:01', '0x1ffffffffffffffff', 'al'):
            for what in ('list', 'clear', 'status'):
                out.append(('malformed DPID', 'GET', '/wm/%s/%s/%s/json' % (family, what, bad), None, 400))
    add('unknown action', _values('actions', ['foo=1', 'output', 'output=', 'drop', 'output=1;output=2',
                                              'strip_vlan=1', 'enqueue=1', 'set_vlan_vid', 'output=bogus',
                                              'goto_table=1', 'output=1,foo', 'output=1 2', 'output=controller:1']))
    add('unknown or unusable key', _values('nonsense', ['1']) + _values('ipv6_src', ['::1'])
        + _values('instruction_apply_actions', ['output=1']) + _values('tcp_flags', ['1']))
    add('missing name or switch', [_with(name=_DROP), _with(switch=_DROP), b'{}', _with(name='')])
    add('missing name or switch', [b'{}', b'{"name":""}', b'{"name":{}}', b'{"nam":"x"}'], method='DELETE')
    add('missing prerequisite', [_with(eth_type=_DROP), _with(tp_dst='80'), _with(eth_type='0x0806')])
    depth = max_body // 8  # as deep as fits the body limit
    add('deeply nested JSON', [b'[' * n + b']' * n for n in (1000, depth)]
        + [b'{"a":' * n + b'1' + b'}' * n for n in (1000, depth)]
        + [('{"name":' + '[' * depth + ']' * depth + '}').encode()])
    add('body over the limit', [b'{"name":"' + b'x' * max_body + b'"}', b' ' * (max_body + 1)], status=413)
    for family in FAMILIES:
        base = '/wm/' + family
        for method, suffix in (('PUT', '/json'), ('PATCH', '/json'), ('GET', '/json'), ('GET', '/json/store'),
                               ('DELETE', '/json/store'), ('GET', '/json/delete'), ('POST', '/list/all/json'),
                               ('DELETE', '/list/all/json'), ('POST', '/clear/all/json'),
                               ('PUT', '/status/all/json')):
            out.append(('wrong method', method, base + suffix, b'{}' if method != 'GET' else None, 405))
    out.append(('wrong method', 'POST', '/wm/core/controller/switches/json', b'{}', 405))
    out.append(('wrong method', 'DELETE', '/wm/core/controller/switches/json', None, 405))
    for path in ('/uix', '/wm', '/wm/', '/wm/nothing/json', '/wm/staticflowpusher', '/wm/staticflowpusher/list/all',
                 '/wm/staticflowpusher/list/all/json/extra', '/wm/core/controller/switches/json/x',
                 '/wm/staticflowpusher/%00/json', '/wm/staticflowpusher/list//json', '/' + 'a' * 4000,
                 '/wm/staticflowpusher/json/', '/WM/STATICFLOWPUSHER/JSON', '/wm/core/controller/switches',
                 '/wm/nothing%0Ahere/json'):  # an encoded newline: still the JSON 404, not webob's HTML page
        out.append(('unknown path', 'GET', path, None, 404))
        out.append(('unknown path', 'POST', path, good_text.encode(), 404))
    return out


def counts(max_body=65536):
    return _tally(cases(max_body))


def _tally(rows):
    tally = {}
    for kind, *_ in rows:
        tally[kind] = tally.get(kind, 0) + 1
    return tally


def _print(tally):
    for kind, count in tally.items():
        print('%-28s %4d' % (kind, count))
    print('%-28s %4d' % ('total', sum(tally.values())))


# --- the firewall, ACL, load balancer and statistics routes (issue 14) -------------------------------------------

FIREWALL = '/wm/firewall/rules/json'
ACL = '/wm/acl/rules/json'
LB = '/quantum/v1.0'
# What the bad requests below must leave as it is (pushed first by the test): a firewall rule, an ACL rule, and a
# VIP with a pool and a member. (method, path, body)
SERVICE_BASELINE = (
    ('POST', FIREWALL, {'src-ip': '10.0.0.1/32', 'dst-ip': '10.0.0.2/32', 'action': 'ALLOW', 'priority': '5'}),
    ('POST', ACL, {'src-ip': '10.0.0.1/32', 'dst-ip': '10.0.0.2/32', 'action': 'deny'}),
    ('POST', LB + '/vips/', {'id': 'v1', 'address': '10.0.0.100', 'protocol': 'tcp', 'port': '80'}),
    ('POST', LB + '/pools/', {'id': 'p1', 'vip_id': 'v1', 'protocol': 'tcp'}),
    ('POST', LB + '/members/', {'id': 'm1', 'pool_id': 'p1', 'address': '10.0.0.3', 'port': '80'}),
)


def _json_bodies(good, key_values):
    """The broken bodies every JSON route gets, then `good` with each (key, value) of key_values put in."""
    text = json.dumps(good)
    out = [b'', b' ', b'\xff', b'[]', b'1', b'null', b'"rule"', json.dumps([good]).encode(), b'{',
           text[:len(text) // 2].encode(), b'{"a":' * 2000 + b'1' + b'}' * 2000]
    out += [json.dumps(dict(good, **{key: value})).encode() for key, value in key_values]
    return out


JSON_TYPE = {'Content-Type': 'application/json'}


def service_cases():
    """(kind, method, path, body, expected status, request headers) for the firewall, ACL, load balancer and
    statistics routes, and the other routes of docs/openapi.yaml that take a body or a path parameter."""
    out = []

    def add(kind, method, path, bodies, status=400, headers=None):
        for body in bodies:
            out.append((kind, method, path, body, status, headers))

    rule = {'src-ip': '10.0.0.7/32', 'action': 'DENY'}
    add('firewall rule', 'POST', FIREWALL, _json_bodies(rule, [
        ('nonsense', '1'), ('src-ip', '10.0.0.256'), ('src-ip', '10.0.0.0/33'), ('dst-ip', [1]),
        ('src-mac', '52:54:00'), ('dst-mac', 'zz:zz:zz:zz:zz:zz'), ('switchid', 'g'), ('switchid', {}),
        ('src-inport', '70000'), ('src-inport', '-1'), ('tp-src', '80'), ('tp-dst', '70000'),
        ('nw-proto', 'XYZ'), ('dl-type', 'IPV9'), ('action', 'maybe'), ('priority', '99999999999'),
        ('priority', 1.5), ('action', None)]))
    add('firewall rule', 'POST', FIREWALL, [json.dumps(SERVICE_BASELINE[0][2]).encode()], 409)  # the same rule
    add('firewall delete', 'DELETE', FIREWALL, [b'', b'{}', b'{"ruleid":"abc"}', b'{"ruleid":[1]}', b'[]',
                                                b'{"ruleid":"1","nonsense":1}'])
    add('firewall delete', 'DELETE', FIREWALL, [b'{"ruleid":"12345"}'], 404)
    add('firewall subnet mask', 'POST', '/wm/firewall/module/subnet-mask/json', [
        b'', b'{}', b'[]', b'{"subnet-mask":"255.0.255.0"}', b'{"subnet-mask":"300.0.0.0"}',
        b'{"subnet-mask":[255]}', b'{"subnet-mask":"255.255.255.0","x":1}'])
    add('wrong method', 'DELETE', '/wm/firewall/module/status/json', [None], 405)
    add('wrong method', 'POST', '/wm/firewall/module/enable/json', [b'{}'], 405)
    add('wrong method', 'PUT', FIREWALL, [b'{}'], 405)
    add('unknown path', 'GET', '/wm/firewall/module/reboot/json', [None], 404)

    acl = {'src-ip': '10.0.0.8/32', 'action': 'deny'}
    add('ACL rule', 'POST', ACL, _json_bodies(acl, [
        ('nonsense', '1'), ('src-ip', '10.0.0.256/32'), ('dst-ip', 'a.b.c.d/8'), ('src-ip', [1]),
        ('nw-proto', 'XYZ'), ('nw-proto', '256'), ('tp-dst', '80'), ('action', 'maybe'), ('action', {})]))
    add('ACL rule', 'POST', ACL, [json.dumps(dict(acl, **{'nw-proto': 'TCP', 'tp-dst': '70000'})).encode()])
    add('ACL rule', 'POST', ACL, [json.dumps(SERVICE_BASELINE[1][2]).encode()], 409)  # inside the existing rule
    add('ACL delete', 'DELETE', ACL, [b'', b'{}', b'{"ruleid":"abc"}', b'{"ruleid":{}}', b'[]'])
    add('ACL delete', 'DELETE', ACL, [b'{"ruleid":"999"}'], 404)
    add('wrong method', 'PUT', ACL, [b'{}'], 405)
    add('wrong method', 'POST', '/wm/acl/clear/json', [b'{}'], 405)

    vip = {'id': 'v9', 'address': '10.0.0.109', 'protocol': 'tcp', 'port': '80'}
    add('load balancer VIP', 'POST', LB + '/vips/', _json_bodies(vip, [
        ('nonsense', '1'), ('address', '10.0.0.300'), ('address', 167772260), ('port', '70000'), ('port', '-1'),
        ('protocol', 'XYZ'), ('name', {}), ('id', ['x'])]))
    add('load balancer VIP', 'POST', LB + '/vips/', [json.dumps(dict(vip, address='10.0.0.100')).encode()], 409)
    add('load balancer VIP', 'POST', LB + '/vips/', [json.dumps(dict(vip, pool_id='nope')).encode()], 404)
    add('load balancer VIP', 'PUT', LB + '/vips/v1', [json.dumps(dict(vip, id='v2')).encode()])
    add('load balancer pool', 'POST', LB + '/pools/', _json_bodies({'id': 'p9', 'protocol': 'tcp'}, [
        ('lb_method', '70000'), ('protocol', 'XYZ'), ('nonsense', '1')]))
    add('load balancer pool', 'POST', LB + '/pools/', [b'{"id":"p9","vip_id":"nope"}'], 404)
    add('load balancer member', 'POST', LB + '/members/', _json_bodies(
        {'id': 'm9', 'pool_id': 'p1', 'address': '10.0.0.9'}, [
            ('address', 'x'), ('port', '70000'), ('connection_limit', '-1'), ('nonsense', '1')]))
    add('load balancer member', 'POST', LB + '/members/', [b'{"id":"m9","pool_id":"p1"}',
                                                           b'{"id":"m9","address":"10.0.0.9"}'])
    add('load balancer member', 'POST', LB + '/members/', [b'{"id":"m9","pool_id":"nope","address":"10.0.0.9"}'],
        404)
    for plural in ('vips', 'pools', 'members'):
        add('load balancer unknown id', 'GET', '%s/%s/nope' % (LB, plural), [None], 404)
        add('load balancer unknown id', 'DELETE', '%s/%s/nope' % (LB, plural), [None], 404)
        add('wrong method', 'DELETE', '%s/%s/' % (LB, plural), [None], 405)
    add('load balancer unknown id', 'GET', LB + '/pools/nope/members', [None], 404)
    add('wrong method', 'POST', LB + '/health_monitors/', [b'{}'], 405)
    add('unknown path', 'GET', LB + '/networks/', [None], 404)

    for path in ('/wm/statistics/bandwidth/zz/1/json', '/wm/statistics/bandwidth/all/-1/json',
                 '/wm/statistics/bandwidth/all/70000/json', '/wm/statistics/bandwidth/all/x/json',
                 '/wm/statistics/bandwidth/00:00:00:00:00:00:00:00:01/all/json',
                 '/wm/core/switch/zz/flow/json', '/wm/core/switch/-1/port/json',
                 '/wm/core/counter/categories/zz/OFPacketIn/L3/json'):
        add('malformed DPID or port', 'GET', path, [None])
    for path in ('/wm/core/switch/00:00:00:00:00:00:0b:ad/bogus/json',
                 '/wm/core/switch/00:00:00:00:00:00:00:09/flow/json',
                 '/wm/statistics/bandwidth/all/all', '/wm/statistics/config/json'):
        add('unknown path', 'GET', path, [None], 404)
    for method in ('GET', 'DELETE'):
        for what in ('enable', 'disable'):
            add('wrong method', method, '/wm/statistics/config/%s/json' % what, [None], 405)
    add('wrong method', 'POST', '/wm/statistics/bandwidth/all/all/json', [b'{}'], 405)

    # the load balancer's other ways in: PUT on a collection, POST/PUT on one object; health monitors
    for plural, good in (('vips', {'address': '10.0.0.109'}), ('pools', {'protocol': 'tcp'}),
                         ('members', {'address': '10.0.0.9', 'pool_id': 'p1'})):
        bodies = _json_bodies(good, [('nonsense', '1'), ('port', '70000')])[:8]
        add('load balancer %s' % plural, 'PUT', '%s/%s/' % (LB, plural), bodies)
        for method in ('POST', 'PUT'):
            add('load balancer %s' % plural, method, '%s/%s/x9' % (LB, plural), bodies)
    for method in ('GET', 'DELETE'):
        add('load balancer unknown id', method, LB + '/health_monitors/h1', [None], 404)
    # the static flow pusher's other URLs (the push table above is /wm/staticflowpusher/json's)
    for family in FAMILIES:
        for method, suffix in (('POST', '/json'), ('POST', '/json/store'), ('POST', '/json/delete'),
                               ('DELETE', '/json')):
            add('static flow family', method, '/wm/%s%s' % (family, suffix),
                [b'', b'[]', b'{', b'{"name":{}}', json.dumps(dict(GOOD, actions='output=bogus')).encode()
                 if method == 'POST' and suffix != '/json/delete' else b'{"nam":"x"}'])
    # roles: JSON only (415 otherwise), one of MASTER, SLAVE, EQUAL
    for method in ('POST', 'PUT'):
        add('role', method, '/wm/core/role/json', [b'{"role":"MASTER"}'], 415)
        add('role', method, '/wm/core/role/json', [b'', b'{', b'[]', b'{"role":"KING"}', b'{"role":1}', b'{}',
                                                   b'{"role":null}'], headers=JSON_TYPE)
    for path in ('/wm/core/switch/zz/role/json', '/wm/core/controller/connections/zz/history/json',
                 '/wm/topology/route/zz/1/00:00:00:00:00:00:00:02/1/json',
                 '/wm/topology/route/1/70000/2/1/json', '/wm/topology/route/1/1/2/x/json'):
        add('malformed DPID or port', 'GET', path, [None])
    add('wrong method', 'POST', '/wm/core/switch/all/flow/json', [b'{}'], 405)
    add('wrong method', 'POST', '/wm/core/counter/all/json', [b'{}'], 405)
    return out


if __name__ == '__main__':
    _print(counts())
    print()
    _print(_tally(service_cases()))
