"""The architecture's rules, checked: pure modules stay free of Ryu's event code; the entry module loads; only
controller/of10 knows OpenFlow 1.0's wire formats (read from the code's syntax tree, not by string search)."""
import ast
import pathlib
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit

ROOT = pathlib.Path(__file__).resolve().parents[2]

PURE_MODULES = ['controller.dpid', 'controller.flowentry', 'controller.staticflow', 'controller.connections',
                'controller.entrystore', 'controller.entrystatus', 'controller.of10', 'controller.ofguard',
                'rest.floodlight', 'controller.failmode', 'controller.ovsdb', 'controller.mastership',
                'controller.pusher']

# Forwarding, link discovery and host tracking (issue 5): the packet-in path is pure too.
PURE_MODULES += ['controller.forwarding', 'controller.topology', 'controller.devices', 'controller.lldp']

# Who writes to which switch (issue 12: decisions out of apps/switches.py).
PURE_MODULES += ['controller.roles', 'controller.options']

# REST handlers are plain functions in route tables; apps/rest_routes.py is their one adapter to Ryu (issue 12).
REST_HANDLERS = ['rest.core', 'rest.connections', 'rest.devices', 'rest.topology', 'rest.stats', 'rest.staticflow']
PURE_MODULES += REST_HANDLERS

# The ACL (issue 14).
PURE_MODULES += ['controller.acl', 'controller.aclstore', 'rest.acl']
# The load balancer (issue 14): its decisions, and its REST handlers.
PURE_MODULES += ['controller.loadbalancer', 'rest.loadbalancer']
REST_HANDLERS.append('rest.loadbalancer')


def assert_loads_none(module, prefixes):
    code = ('import sys, %s; bad = [m for m in sys.modules if m.startswith(%r)]; print(bad); sys.exit(1 if bad else 0)'
            % (module, prefixes))
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize('module', PURE_MODULES)
def test_pure_module_imports_no_ryu_event_code(module):
    assert_loads_none(module, ('ryu.controller', 'ryu.base', 'ryu.app', 'eventlet'))


@pytest.mark.parametrize('module', REST_HANDLERS)
def test_rest_handlers_load_no_web_framework(module):
    assert_loads_none(module, ('webob', 'routes', 'ryu.lib.hub'))


def test_controller_apps_loads_the_apps_package():
    code = ('from apps.ryu_compat import apply_all; apply_all(); '
            'from ryu.base.app_manager import AppManager; m = AppManager(); '
            'm.load_apps(["controller.apps"]); '
            'print(sorted(c.__name__ for c in m.applications_cls.values()))')
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ("['AclApp', 'FirewallApp', 'FloodlightReplacementApp', 'ForwardingApp', "
                                     "'OFPHandler', 'StaticFlowApp', 'StatsApp', 'VirtualNetworkApp']")


# --- only controller/of10 knows OpenFlow 1.0's wire formats ----------------------------------------------------
# Outside controller/of10, in controller/, apps/ and rest/, code may not:
#   struct-import      import struct (byte layouts are of10's)
#   ofproto-import     import ryu.ofproto.ofproto_v1_0 or ofproto_v1_0_parser, in any form (including
#                      `from ryu.ofproto import ofproto_v1_0`, `ryu.ofproto.ofproto_v1_0.X` and import_module)
#   ofmsgs-import      import controller.ofmsgs (a temporary re-export for the modules not yet moved)
#   ofp-constant       define an OpenFlow constant (a name OFP*_... bound to a number): of10 has each once
#   ofproto-attribute  reach Ryu's OpenFlow modules through an attribute, a datapath's above all
#                      (`dp.ofproto.OFPRR_IDLE_TIMEOUT`, `ofp = dp.ofproto`, `dp.ofproto_parser.OFPFlowMod(...)`)
#   byte-offset        read message bytes at a numeric offset, in any of three forms:
#                      - offset arithmetic in a subscript: a variable plus or minus an integer literal other than
#                        0 and 1 (`buf[offset + 12]`, `buf[offset:offset + 8]`, `buf[offset + 18:end]`);
#                      - a fixed byte range: a slice whose bounds are both integer literals, one other than 0 and
#                        1 (`packed[8:56]`);
#                      - bytes assembled into a number: a subscript at a literal index other than 0 and 1,
#                        shifted (`buf[12] << 8`).
#                      A plain `x[12]` or `x[8:]` is not flagged: nothing in the syntax tells a byte string from a
#                      tuple or a str there. Offsets named by of10 (`buf[offset:offset + of10.HEADER_SIZE]`) pass.

# Not OpenFlow at all, so none of the rules applies:
NOT_OPENFLOW = {
    'rest/server.py',       # HTTP/1.1: request heads and chunked bodies are parsed as bytes
    'controller/lldp.py',   # LLDP frames (the packet-outs' and packet-ins' payload), built and read with struct
}
# Functions that slice a packet's Ethernet frame (Ethernet, VLAN, ARP, IPv4 headers), not an OpenFlow message:
# the byte-offset rule does not apply inside them; every other rule does.
FRAME_PARSERS = {
    'controller/forwarding.py': {'handle_packet_in', '_forward', 'forward_once'},
    'controller/perfmon.py': {'is_lldp'},
    'controller/virtualnetwork.py': {'is_dhcp_frame', 'filter_packet', 'flood_scope'},
    'controller/failmode.py': {'is_fail_open_packet_in'},
    'controller/firewall.py': {'packet_fields'},
}
# The one module allowed an ofproto_v1_0 import outside of10: it adds the missing OFPET_EXPERIMENTER name to Ryu's
# own ofproto_v1_0 (a Ryu fix, apps/ryu_compat.py) and knows no wire format. A listed file that no longer
# violates (or is gone) fails test_not_yet_moved_is_as_small_as_it_can_be, so the list only shrinks.
NOT_YET_MOVED = {'apps/ryu_compat.py'}

_OFP_CONSTANT = re.compile(r'_?OFP[A-Z0-9]*_[A-Z0-9_]+$')
_IMPORTERS = {'import_module', '__import__'}


def _is_ofproto_v1_0(module):
    return module.startswith('ryu.ofproto.ofproto_v1_0')


def _small(node):
    """An integer literal 0 or 1 (a neighbour, not an offset)."""
    return isinstance(node, ast.Constant) and type(node.value) is int and node.value in (0, 1)


def _int_literal(node):
    return isinstance(node, ast.Constant) and type(node.value) is int


def _constant_expression(node):
    return all(isinstance(n, (ast.Constant, ast.BinOp, ast.UnaryOp, ast.operator, ast.unaryop))
               for n in ast.walk(node)) and any(_int_literal(n) for n in ast.walk(node))


def _offset_arithmetic(index):
    """A variable plus or minus an integer literal other than 0/1, anywhere in a subscript's index."""
    for node in ast.walk(index):
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
            sides = (node.left, node.right)
            if any(_int_literal(s) and not _small(s) for s in sides) and not all(_int_literal(s) for s in sides):
                return True
    return False


def _byte_offset(node):
    """The byte-offset rule for one Subscript or shift."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.LShift, ast.RShift)):
        left = node.left
        return (isinstance(left, ast.Subscript) and _int_literal(left.slice) and not _small(left.slice))
    if not isinstance(node, ast.Subscript):
        return False
    index = node.slice
    if isinstance(index, ast.Slice):
        bounds = [b for b in (index.lower, index.upper) if b is not None]
        if any(_offset_arithmetic(b) for b in bounds):
            return True
        return (len(bounds) == 2 and all(_int_literal(b) for b in bounds)
                and not all(_small(b) for b in bounds))
    return _offset_arithmetic(index)


class _WireKnowledge(ast.NodeVisitor):
    def __init__(self, frame_parsers=()):
        self.frame_parsers = frame_parsers
        self.function = []
        self.found = []

    def flag(self, node, rule):
        self.found.append((node.lineno, rule))

    def visit_FunctionDef(self, node):
        self.function.append(node.name)
        self.generic_visit(node)
        self.function.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Import(self, node):
        for alias in node.names:
            if alias.name == 'struct' or alias.name.startswith('struct.'):
                self.flag(node, 'struct-import')
            if _is_ofproto_v1_0(alias.name):
                self.flag(node, 'ofproto-import')
            if alias.name == 'controller.ofmsgs':
                self.flag(node, 'ofmsgs-import')

    def visit_ImportFrom(self, node):
        module = node.module or ''
        names = [alias.name for alias in node.names]
        if module == 'struct':
            self.flag(node, 'struct-import')
        if _is_ofproto_v1_0(module) or (module == 'ryu.ofproto' and any(n.startswith('ofproto_v1_0') for n in names)):
            self.flag(node, 'ofproto-import')
        if module == 'controller.ofmsgs' or (module == 'controller' and 'ofmsgs' in names):
            self.flag(node, 'ofmsgs-import')

    def visit_Call(self, node):
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, 'id', None)
        if name in _IMPORTERS and node.args and isinstance(node.args[0], ast.Constant):
            module = str(node.args[0].value)
            if module == 'struct':
                self.flag(node, 'struct-import')
            if _is_ofproto_v1_0(module):
                self.flag(node, 'ofproto-import')
        self.generic_visit(node)

    def visit_Attribute(self, node):
        if node.attr.startswith('ofproto_v1_0'):
            self.flag(node, 'ofproto-import')
        if node.attr in ('ofproto', 'ofproto_parser'):
            self.flag(node, 'ofproto-attribute')
        self.generic_visit(node)

    def _assigned(self, node, targets, value):
        if value is not None and _constant_expression(value):
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name) and _OFP_CONSTANT.match(name.id):
                        self.flag(node, 'ofp-constant')

    def visit_Assign(self, node):
        self._assigned(node, node.targets, node.value)
        self.generic_visit(node)

    def visit_AnnAssign(self, node):
        self._assigned(node, [node.target], node.value)
        self.generic_visit(node)

    def visit_Subscript(self, node):
        self._offsets(node)
        self.generic_visit(node)

    def visit_BinOp(self, node):
        self._offsets(node)
        self.generic_visit(node)

    def _offsets(self, node):
        if not (self.function and self.function[-1] in self.frame_parsers) and _byte_offset(node):
            self.flag(node, 'byte-offset')


def wire_knowledge(source, frame_parsers=()):
    """[(line, rule)] of every place in `source` that knows OpenFlow 1.0's wire format (see the rules above)."""
    checker = _WireKnowledge(frame_parsers)
    checker.visit(ast.parse(source))
    return sorted(set(checker.found))


def _checked_files():
    for directory in ('controller', 'apps', 'rest'):
        for path in sorted((ROOT / directory).rglob('*.py')):
            relative = path.relative_to(ROOT).as_posix()
            if not relative.startswith('controller/of10/') and relative not in NOT_OPENFLOW:
                yield relative


def _violations(relative):
    return wire_knowledge((ROOT / relative).read_text(), FRAME_PARSERS.get(relative, ()))


def test_only_of10_knows_openflow_wire_formats():
    found = {relative: _violations(relative) for relative in _checked_files() if relative not in NOT_YET_MOVED}
    assert {relative: rules for relative, rules in found.items() if rules} == {}


def test_not_yet_moved_is_as_small_as_it_can_be():
    moved = [relative for relative in sorted(NOT_YET_MOVED)
             if not (ROOT / relative).exists() or not _violations(relative)]
    assert moved == [], 'no longer violates (or is gone): take it out of NOT_YET_MOVED'


def test_excluded_files_exist():
    assert all((ROOT / relative).exists() for relative in NOT_OPENFLOW | set(FRAME_PARSERS))


# --- the rule itself, on snippets (the flagged ones are today's code in the modules not yet moved) -------------

@pytest.mark.parametrize('source,rules', [
    # controller/hardening.py
    ('import struct\n_HEADER = struct.Struct("!BBHI")', ['struct-import']),
    ('check.check(buf[offset:offset + 8])', ['byte-offset']),
    ('OFPT_PACKET_IN = 10\nOFPT_BARRIER_REPLY = 19', ['ofp-constant', 'ofp-constant']),
    ('from ryu.ofproto import ofproto_parser as _ofproto_parser', []),
    # apps/forwarding.py
    ('total_len = buf[offset + 12] << 8 | buf[offset + 13]', ['byte-offset']),
    ('if total_len < msg_len - 18:\n    end = offset + 18 + total_len', []),  # no subscript: not reading bytes
    ('out = handle(state, dpid, buf[offset + 14] << 8 | buf[offset + 15], buf[offset + 18:end], now)',
     ['byte-offset']),
    ('OFPPC_PORT_DOWN = 1\nOFPPS_LINK_DOWN = 1 << 0', ['ofp-constant', 'ofp-constant']),
    ('from controller import forwarding, hardening, ofmsgs, options', ['ofmsgs-import']),
    # apps/staticflow.py
    ('xid = buf[offset + 4] << 24 | buf[offset + 5] << 16 | buf[offset + 6] << 8 | buf[offset + 7]',
     ['byte-offset']),
    ('ofp = msg.datapath.ofproto\nif msg.reason not in (ofp.OFPRR_IDLE_TIMEOUT,): pass', ['ofproto-attribute']),
    ('mod = datapath.ofproto_parser.OFPFlowMod(datapath)', ['ofproto-attribute']),
    ('if msg.reason == msg.datapath.ofproto.OFPRR_IDLE_TIMEOUT: pass', ['ofproto-attribute']),
    # the modules moved in this change, as they were
    ('return packed[8:56] == other[8:56] and packed[62:64] == other[62:64]', ['byte-offset']),
    ('OFPP_LOCAL = 0xfffe', ['ofp-constant']),
    ('from ryu.ofproto import ofproto_v1_0 as ofp', ['ofproto-import']),
    ('import ryu.ofproto.ofproto_v1_0_parser', ['ofproto-import']),
    ('from ryu.ofproto.ofproto_v1_0 import OFPP_NONE', ['ofproto-import']),
    ('import ryu\nx = ryu.ofproto.ofproto_v1_0.OFPP_NONE', ['ofproto-attribute', 'ofproto-import']),
    ('importlib.import_module("ryu.ofproto.ofproto_v1_0")', ['ofproto-import']),
    ('from struct import unpack_from', ['struct-import']),
    ('def f(buf):\n    return buf[12] << 8 | buf[13]', ['byte-offset']),
    ('header = data[offset] << 8 | data[offset + 1]', []),
    # not offsets into bytes
    ('pair = (lo[1], hi[2])\nkey = (l[2], l[3])', []),
    ('hop_out = adjacency[switch][path[i + 1]]', []),
    ('number = int(text[2:], 16)', []),
    ('units = zip(data[::2], data[1::2])', []),
    ('frame = buf[start:end]\nhead = buf[offset:offset + of10.HEADER_SIZE]', []),
    ('OFPP_LOCAL = of10.OFPP_LOCAL\nfrom controller.of10 import OFPP_NONE', []),
    ('from controller import of10\nxid = of10.xid_at(buf, offset)', []),
])
def test_the_wire_knowledge_rule(source, rules):
    assert [rule for _, rule in wire_knowledge(source)] == rules


def test_frame_parsers_may_slice_frames_but_nothing_else():
    source = ('def handle_packet_in(data):\n    return data[12] << 8 | data[13], data[6:12]\n'
              'def other(buf):\n    return buf[6:12]\n')
    assert wire_knowledge(source, {'handle_packet_in'}) == [(4, 'byte-offset')]
