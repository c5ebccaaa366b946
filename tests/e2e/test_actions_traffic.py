"""Every action that changes or steers packets, proven with real traffic through the userspace Open vSwitch.

One tutorial network (h1, h2, h3 on s1, conftest.py) serves the whole module; each test starts from an empty
static flow table (GET /wm/staticflowpusher/clear/all/json). A test pushes one entry over REST, waits until
`ovs-ofctl dump-flows` shows it, sends UDP datagrams from a Mininet host and checks what a user would see on
the receiving host: `tcpdump -e -v` on its interface (the rewritten MACs, addresses, ports, ToS byte and VLAN
tag) and, where the packet is addressed to a socket there, the datagram as that socket receives it (the
receiving kernel drops a datagram whose checksums were not fixed up after a rewrite, so this also proves the
switch left valid packets). "Does not reach" is read from the kernel counters of the switch side veths
(`s1-ethN` tx_packets), taken after the expected copies arrived: OVS sends every copy of a packet in one go.
"""
import json
import os
import re
import select
import subprocess
import sys

import pytest

from controller.flowentry import floodlight_cookie
from tests.e2e.conftest import BRIDGE, DPID_TEXT, H1, H2, H3, Capture, TutorialNetwork, bridge_lock, poll

pytestmark = [
    pytest.mark.e2e,
    # PyPI Mininet 2.3.0.dev6 compares OVS versions with distutils' StrictVersion.
    pytest.mark.filterwarnings('ignore:distutils Version classes are deprecated:DeprecationWarning'),
]

PRIORITY = 40000          # every entry; each test starts from an empty table, so no two entries overlap
COUNT = 3                 # datagrams per check
TRAFFIC_TIMEOUT = 10      # a capture / socket gets its datagrams within this
ENTRY_PUSHED = '{"status" : "Entry pushed"}'
# The hosts share the root file system, so the venv's interpreter runs inside them as well.
PYTHON = sys.executable

SENDER = r'''
import argparse, socket
parser = argparse.ArgumentParser()
parser.add_argument('--dst', required=True)
parser.add_argument('--dport', type=int, required=True)
parser.add_argument('--sport', type=int, default=0)
parser.add_argument('--count', type=int, default=1)
parser.add_argument('--tos', type=lambda text: int(text, 0))
parser.add_argument('--payload', default='e2e')
args = parser.parse_args()
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
if args.tos is not None:
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, args.tos)
sock.bind(('', args.sport))
for number in range(args.count):
    sock.sendto(('%s-%d' % (args.payload, number)).encode(), (args.dst, args.dport))
print('sent', args.count, flush=True)
'''

RECEIVER = r'''
import json, socket, sys, time
port, count, timeout = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(('0.0.0.0', port))
print('READY', flush=True)
deadline = time.monotonic() + timeout
for _ in range(count):
    sock.settimeout(max(0.01, deadline - time.monotonic()))
    try:
        data, (address, source_port) = sock.recvfrom(4096)
    except socket.timeout:
        break
    print(json.dumps([address, source_port, data.decode(errors='replace')]), flush=True)
'''

# Ethernet (optionally 802.1Q-tagged) + IPv4 + UDP, checksums computed, sent as is on an interface.
RAW_SENDER = r'''
import socket, struct, sys
intf, src_mac, dst_mac, src_ip, dst_ip, sport, dport, count = sys.argv[1:9]
vlan = sys.argv[9:]

def checksum(data):
    if len(data) % 2:
        data += b'\x00'
    total = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return ~total & 0xffff

def mac(text):
    return bytes(int(part, 16) for part in text.split(':'))

sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
sock.bind((intf, 0))
src, dst = socket.inet_aton(src_ip), socket.inet_aton(dst_ip)
for number in range(int(count)):
    payload = ('e2e-%d' % number).encode()
    length = 8 + len(payload)
    pseudo = src + dst + struct.pack('!BBH', 0, 17, length)
    udp = struct.pack('!HHHH', int(sport), int(dport), length, 0) + payload
    udp = udp[:6] + struct.pack('!H', checksum(pseudo + udp) or 0xffff) + udp[8:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + length, 0x1000 + number, 0x4000, 64, 17, 0, src, dst)
    ip = ip[:10] + struct.pack('!H', checksum(ip)) + ip[12:]
    ether = mac(dst_mac) + mac(src_mac)
    if vlan:
        ether += struct.pack('!HH', 0x8100, int(vlan[1]) << 13 | int(vlan[0]))
    sock.send(ether + struct.pack('!H', 0x0800) + ip + udp)
print('sent', count, flush=True)
'''


# ---------------------------------------------------------------------------------------------------------
# The network, shared by the module.

@pytest.fixture(scope='module')
def network(tmp_path_factory):
    workdir = tmp_path_factory.mktemp('actions')
    for name, text in (('udp_send.py', SENDER), ('udp_receive.py', RECEIVER), ('raw_send.py', RAW_SENDER)):
        with open(os.path.join(str(workdir), name), 'w') as handle:
            handle.write(text)
    net = TutorialNetwork(workdir)
    with bridge_lock():
        try:
            net.start_controller()
            net.start_network()
            quiet_switch_ports()
            yield net
        finally:
            net.stop()
    for process in net.processes:
        process.assert_clean_log()


def quiet_switch_ports():
    """Stop the root namespace's kernel from sending its own IPv6 (DAD, MLD, router solicitations) on s1-ethN.

    Those frames leave through the switch side veth without passing through OVS, so without this a host's
    capture sees stray ICMPv6 now and then, and the tx counters used for "did not reach" count them too.
    The bridge and its veths belong to these tests (conftest.py); they go away with the network.
    """
    for spec in (H1, H2, H3):
        with open('/proc/sys/net/ipv6/conf/%s-eth%d/disable_ipv6' % (BRIDGE, spec.port), 'w') as handle:
            handle.write('1')


@pytest.fixture
def net(request, network):
    """The shared network with an empty static flow table; failures get its diagnostics (conftest hook)."""
    request.node.e2e_network = network
    status, text = network.rest('GET', '/wm/staticflowpusher/clear/all/json')
    assert status == 200, (status, text)
    network.wait_flows(lambda flows: not flows, 'no static flow left after clear/all')
    return network


# ---------------------------------------------------------------------------------------------------------
# Helpers.

def script(net, name):
    return os.path.join(net.workdir, name)


def ovs(*command):
    result = subprocess.run(list(command), capture_output=True, text=True, timeout=20)
    assert result.returncode == 0, '%s failed: %s' % (' '.join(command), result.stderr or result.stdout)
    return result.stdout


def udp_match(dport, in_port=1):
    return {'in_port': str(in_port), 'eth_type': '0x800', 'ip_proto': '17', 'udp_dst': str(dport)}


def push(net, name, match, actions, ovs_actions):
    """Push one entry at PRIORITY; wait for its flow in dump-flows and check OVS holds the actions asked for."""
    entry = dict(match, switch=DPID_TEXT, name=name, priority=str(PRIORITY), active='true', actions=actions)
    status, text = net.push(entry)
    assert (status, text) == (200, ENTRY_PUSHED), 'pushing %s: %s %s' % (name, status, text)
    cookie = floodlight_cookie(name)
    flows = net.wait_flows(lambda flows: any(f.cookie == cookie for f in flows), 'entry %s in dump-flows' % name)
    flow, = [f for f in flows if f.cookie == cookie]
    assert flow.priority == PRIORITY and flow.actions == ovs_actions, \
        'entry %s: expected actions %s, OVS has\n%s' % (name, ovs_actions, flow.line)
    return flow


def send_udp(net, spec, dst, dport, sport, count=COUNT, tos=None):
    """`count` UDP datagrams e2e-0, e2e-1... from a socket on `spec` (bound to port `sport`) to dst:dport."""
    command = [PYTHON, script(net, 'udp_send.py'), '--dst', dst, '--dport', str(dport), '--sport', str(sport),
               '--count', str(count)]
    if tos is not None:
        command += ['--tos', str(tos)]
    proc = net.host(spec).popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0, 'UDP sender on %s failed: %s' % (spec.name, out.decode(errors='replace'))


class Receiver:
    """A UDP socket bound on a host, known to be bound before traffic is sent."""

    def __init__(self, net, spec, port, count=COUNT, timeout=TRAFFIC_TIMEOUT + 5):
        self.proc = net.host(spec).popen([PYTHON, script(net, 'udp_receive.py'), str(port), str(count),
                                          str(timeout)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.timeout = timeout
        line = self._readline(10)
        assert line == 'READY', 'UDP receiver on %s:%d did not start: %r' % (spec.name, port, line)

    def _readline(self, timeout):
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        return self.proc.stdout.readline().decode(errors='replace').strip() if ready else ''

    def datagrams(self):
        """-> [(source address, source port, payload)] once `count` arrived or the receiver's deadline passed."""
        try:
            out, _ = self.proc.communicate(timeout=self.timeout + 5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        return [tuple(json.loads(line)) for line in out.decode(errors='replace').splitlines()
                if line.startswith('[')]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


class VerboseCapture(Capture):
    """conftest's Capture with `tcpdump -v` (ToS byte), only packets coming in, and no buffering delay.

    A record is one packet: tcpdump -v continues a packet on indented lines, joined here into one string.
    """

    def __init__(self, host, intf, count, bpf='', ready_timeout=10):
        super().__init__(host, intf, bpf, count, ready_timeout, options=('-v', '--immediate-mode', '-Q', 'in'))

    def records(self, timeout=TRAFFIC_TIMEOUT):
        lines, complete = self.packets(timeout)
        records = []
        for line in lines:
            if line[:1].isspace() and records:
                records[-1] += ' ' + line.strip()
            else:
                records.append(line.strip())
        return records, complete


def capture(net, spec, count=COUNT, bpf=''):
    return VerboseCapture(net.host(spec), spec.intf, count, bpf)


def tx_packets(port):
    """Frames the switch has sent out of its port `port` (the kernel counter of the switch side veth)."""
    with open('/sys/class/net/%s-eth%d/statistics/tx_packets' % (BRIDGE, port)) as handle:
        return int(handle.read())


def assert_captured(cap, what, patterns, count=COUNT):
    """`cap` saw `count` packets and every one matches every regex in `patterns`."""
    records, complete = cap.records()
    shown = '\n'.join(records) or '(nothing)'
    assert complete and len(records) == count, \
        '%s: expected %d packets, tcpdump (%s) saw:\n%s' % (what, count, ' '.join(cap.command), shown)
    for pattern in patterns:
        bad = [record for record in records if not re.search(pattern, record)]
        assert not bad, '%s: packets not matching %r:\n%s' % (what, pattern, shown)
    return records


# ---------------------------------------------------------------------------------------------------------
# Header rewrites, h1 -> h3. Each case: (actions, what OVS shows, send, expected tcpdump, expected socket).
#   send:    (destination IP, destination port, source port, ToS byte of the socket or None)
#   tcpdump: regexes every captured packet on h3-eth0 must match
#   socket:  (port bound on h3, source address and port it must see) or None when h3's stack drops the
#            packet by design (a destination MAC that is not h3's)

MAC_X = '02:00:00:00:00:aa'
MAC_Y = '02:00:00:00:00:bb'
ETHER = r'%s > %s, ethertype IPv4'
# tcpdump names some UDP ports' protocols (5060: SIP), so the protocol is read from the IP header (-v).
UDP = r'proto UDP \(17\).* %s\.%d > %s\.%d: '

REWRITES = {
    'set-src-mac': (
        'set-src-mac=%s,output=3' % MAC_X, 'mod_dl_src:%s,output:3' % MAC_X,
        (H3.ip, 5001, 40001, None),
        [ETHER % (MAC_X, H3.mac), UDP % (H1.ip, 40001, H3.ip, 5001)],
        (5001, (H1.ip, 40001))),
    'set-dst-mac': (
        'set-dst-mac=%s,output=3' % MAC_Y, 'mod_dl_dst:%s,output:3' % MAC_Y,
        (H3.ip, 5002, 40002, None),
        [ETHER % (H1.mac, MAC_Y), UDP % (H1.ip, 40002, H3.ip, 5002)],
        None),
    'set-src-ip': (
        'set-src-ip=10.10.10.99,output=3', 'mod_nw_src:10.10.10.99,output:3',
        (H3.ip, 5003, 40003, None),
        [ETHER % (H1.mac, H3.mac), UDP % ('10.10.10.99', 40003, H3.ip, 5003)],
        (5003, ('10.10.10.99', 40003))),
    # h1 sends to h2 (h2's address and, by h1's static ARP, h2's MAC); the entry steers it to h3.
    'set-dst-ip': (
        'set-dst-ip=%s,set-dst-mac=%s,output=3' % (H3.ip, H3.mac), 'mod_nw_dst:%s,mod_dl_dst:%s,output:3' % (
            H3.ip, H3.mac),
        (H2.ip, 5004, 40004, None),
        [ETHER % (H1.mac, H3.mac), UDP % (H1.ip, 40004, H3.ip, 5004)],
        (5004, (H1.ip, 40004))),
    # ToS 0x20 is DSCP 8 (CS1); tcpdump -v prints the whole byte.
    'set-tos-bits': (
        'set-tos-bits=0x20,output=3', 'mod_nw_tos:32,output:3',
        (H3.ip, 5005, 40005, 0),
        [r'\(tos 0x20,', UDP % (H1.ip, 40005, H3.ip, 5005)],
        (5005, (H1.ip, 40005))),
    # Sent as DSCP EF with ECT(0) (0xba): the DSCP is replaced, the ECN bits are kept (OpenFlow 1.0 sets DSCP).
    'set_ip_tos keeps ECN': (
        'set_ip_tos=32,output=3', 'mod_nw_tos:32,output:3',
        (H3.ip, 5006, 40006, 0xba),
        [r'\(tos 0x22, ?ECT\(0\),', UDP % (H1.ip, 40006, H3.ip, 5006)],
        (5006, (H1.ip, 40006))),
    'set-src-port': (
        'set-src-port=4444,output=3', 'mod_tp_src:4444,output:3',
        (H3.ip, 5007, 40007, None),
        [UDP % (H1.ip, 4444, H3.ip, 5007)],
        (5007, (H1.ip, 4444))),
    'set-dst-port': (
        'set_tp_dst=6008,output=3', 'mod_tp_dst:6008,output:3',
        (H3.ip, 5008, 40008, None),
        [UDP % (H1.ip, 40008, H3.ip, 6008)],
        (6008, (H1.ip, 40008))),
    'both ports': (
        'set_tp_src=4445,set-dst-port=6009,output=3', 'mod_tp_src:4445,mod_tp_dst:6009,output:3',
        (H3.ip, 5009, 40009, None),
        [UDP % (H1.ip, 4445, H3.ip, 6009)],
        (6009, (H1.ip, 4445))),
}


@pytest.mark.parametrize('case', list(REWRITES))
def test_rewrite_arrives_changed(net, case):
    actions, ovs_actions, (dst, dport, sport, tos), patterns, expect_socket = REWRITES[case]
    name = 'rewrite-' + re.sub(r'\W+', '-', case)
    push(net, name, udp_match(dport), actions, ovs_actions)

    receiver = Receiver(net, H3, expect_socket[0]) if expect_socket else None
    try:
        cap = capture(net, H3)
        try:
            send_udp(net, H1, dst, dport, sport, tos=tos)
            assert_captured(cap, '%s: h1 -> h3' % case, patterns)
        finally:
            cap.stop()
        if receiver is not None:
            got = receiver.datagrams()
            source = expect_socket[1]
            assert sorted(got) == [source + ('e2e-%d' % n,) for n in range(COUNT)], \
                '%s: the socket on h3 port %d should get %d datagrams from %s:%d, got %r' % (
                    case, expect_socket[0], COUNT, source[0], source[1], got)
    finally:
        if receiver is not None:
            receiver.stop()


# ---------------------------------------------------------------------------------------------------------
# VLAN tags. This kernel has no 802.1Q devices (CONFIG_VLAN_8021Q is off: `ip link add ... type vlan` fails),
# so tagged traffic is sent as raw frames from h1 (AF_PACKET, tag in the frame). h3 has no VLAN interface
# either: it sees tagged frames in tcpdump only, and untagged ones reach its UDP socket.

def send_raw_udp(net, spec, dst_mac, dst_ip, dport, sport, vlan=None, pcp=0, count=COUNT):
    command = [PYTHON, script(net, 'raw_send.py'), spec.intf, spec.mac, dst_mac, spec.ip, dst_ip, str(sport),
               str(dport), str(count)]
    if vlan is not None:
        command += [str(vlan), str(pcp)]
    proc = net.host(spec).popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0, 'raw sender on %s failed: %s' % (spec.name, out.decode(errors='replace'))


TAGGED = r'%s > %s, ethertype 802\.1Q \(0x8100\), length \d+: vlan %d, p %d, ethertype IPv4'


def test_set_vlan_id_and_priority_tag_an_untagged_packet(net):
    push(net, 'vlan-push', udp_match(5020), 'set-vlan-id=20,set-vlan-priority=5,output=3',
         'mod_vlan_vid:20,mod_vlan_pcp:5,output:3')
    cap = capture(net, H3)
    try:
        send_udp(net, H1, H3.ip, 5020, 40020)
        assert_captured(cap, 'set-vlan-id 20 + set-vlan-priority 5: h1 -> h3', [
            TAGGED % (H1.mac, H3.mac, 20, 5), UDP % (H1.ip, 40020, H3.ip, 5020)])
    finally:
        cap.stop()


def test_set_vlan_id_retags_and_keeps_the_priority(net):
    # h1 sends VLAN 30, priority 3; the entry matches that tag and changes only the VID.
    match = dict(udp_match(5021), **{'vlan-id': '30', 'vlan-priority': '3'})
    flow = push(net, 'vlan-retag', match, 'set_vlan_vid=20,output=3', 'mod_vlan_vid:20,output:3')
    assert flow.match.get('dl_vlan') == '30' and flow.match.get('dl_vlan_pcp') == '3', flow.line
    cap = capture(net, H3)
    try:
        send_raw_udp(net, H1, H3.mac, H3.ip, 5021, 40021, vlan=30, pcp=3)
        assert_captured(cap, 'set-vlan-id 20 on VLAN 30: h1 -> h3', [
            TAGGED % (H1.mac, H3.mac, 20, 3), UDP % (H1.ip, 40021, H3.ip, 5021)])
    finally:
        cap.stop()


def test_strip_vlan_untags_the_packet(net):
    # The entry matches vlan-id 30, so only frames that left h1 tagged can take it; it strips the tag, and the
    # datagrams reach h3's socket (h3 has no VLAN interface: its kernel drops frames tagged with a VID other
    # than 0 before IP sees them).
    match = dict(udp_match(5030), **{'vlan-id': '30'})
    flow = push(net, 'vlan-strip', match, 'strip-vlan,output=3', 'strip_vlan,output:3')
    assert flow.match.get('dl_vlan') == '30', flow.line
    receiver = Receiver(net, H3, 5030)
    try:
        cap = capture(net, H3)
        try:
            send_raw_udp(net, H1, H3.mac, H3.ip, 5030, 40030, vlan=30, pcp=3)
            records = assert_captured(cap, 'strip-vlan: h1 VLAN 30 -> h3', [
                ETHER % (H1.mac, H3.mac), UDP % (H1.ip, 40030, H3.ip, 5030)])
            assert not [r for r in records if '802.1Q' in r or 'vlan' in r], \
                'the tag should be gone:\n' + '\n'.join(records)
        finally:
            cap.stop()
        got = receiver.datagrams()
    finally:
        receiver.stop()
    assert sorted(got) == [(H1.ip, 40030, 'e2e-%d' % n) for n in range(COUNT)], \
        'h3\'s socket should receive h1\'s VLAN 30 datagrams untagged, got %r' % (got,)


# ---------------------------------------------------------------------------------------------------------
# enqueue=port:queue
#
# What OVS 3.1's userspace datapath does with OpenFlow 1.0 ENQUEUE (found with these tests and ofproto/trace):
# it never drops, and nothing checks that the port has the queue. `enqueue:3:1` becomes the datapath actions
# `set(skb_priority(0x1)),3`. Without QoS the packet simply leaves on port 3 (OFPST_QUEUE lists no queue).
# With a linux-htb QoS on the port, OVS builds the tc classes (queue 1 = class 1:2, which the kernel datapath
# would select with priority 0x10002), but the userspace datapath's priority 1 selects no class, so htb sends
# every packet through its default class: `ovs-ofctl queue-stats` counts them in queue 0, whatever queue the
# entry named, including queue 7 that the port does not have. Asserted here is what a user can rely on:
# enqueued packets arrive on the port, through that port's QoS when it has one.

def queue_packets(port):
    """{queue id: tx packets} from `ovs-ofctl queue-stats` for one port ({} when it has no queues)."""
    text = ovs('ovs-ofctl', '-O', 'OpenFlow10', 'queue-stats', BRIDGE, str(port))
    return {int(q): int(n) for q, n in re.findall(r'port %d queue (\d+): bytes=\d+, pkts=(\d+)' % port, text)}


def enqueue_delivers(net, name, dport, queue):
    push(net, name, udp_match(dport), 'enqueue=3:%d' % queue, 'enqueue:3:%d' % queue)
    receiver = Receiver(net, H3, dport)
    try:
        cap = capture(net, H3)
        try:
            send_udp(net, H1, H3.ip, dport, 40000 + dport)
            assert_captured(cap, 'enqueue=3:%d: h1 -> h3' % queue, [ETHER % (H1.mac, H3.mac),
                                                                   UDP % (H1.ip, 40000 + dport, H3.ip, dport)])
        finally:
            cap.stop()
        got = receiver.datagrams()
    finally:
        receiver.stop()
    assert sorted(got) == [(H1.ip, 40000 + dport, 'e2e-%d' % n) for n in range(COUNT)], \
        'enqueue=3:%d: h3\'s socket got %r' % (queue, got)


def test_enqueue_on_a_port_without_qos_still_delivers(net):
    assert queue_packets(H3.port) == {}, 'port 3 should have no QoS queue in this test'
    enqueue_delivers(net, 'enqueue-no-qos', 5050, 1)


@pytest.fixture
def htb_queue_on_port_3(net):
    """A linux-htb QoS with queue 1 on s1-eth3; its QoS and Queue rows are destroyed afterwards.

    QoS and Queue are root tables in the OVS schema: clearing the port's qos column alone would leave the
    rows in the database, so they are destroyed by the UUIDs `create` printed.
    """
    intf = '%s-eth%d' % (BRIDGE, H3.port)
    out = ovs('ovs-vsctl', '--timeout=10', 'set', 'port', intf, 'qos=@qos', '--',
              '--id=@qos', 'create', 'qos', 'type=linux-htb', 'other-config:max-rate=100000000',
              'queues:1=@q1', '--', '--id=@q1', 'create', 'queue', 'other-config:max-rate=10000000')
    qos_uuid, queue_uuid = out.split()
    try:
        poll(lambda: 1 in queue_packets(H3.port), 10, 'queue 1 of port 3 in ovs-ofctl queue-stats')
        yield
    finally:
        ovs('ovs-vsctl', '--timeout=10', 'clear', 'port', intf, 'qos', '--', 'destroy', 'qos', qos_uuid,
            '--', 'destroy', 'queue', queue_uuid)


def test_enqueue_through_an_htb_queue_delivers(net, htb_queue_on_port_3):
    for name, dport, queue in (('enqueue-queue-1', 5051, 1), ('enqueue-missing-queue-7', 5052, 7)):
        before = sum(queue_packets(H3.port).values())
        enqueue_delivers(net, name, dport, queue)
        # The datagrams went through port 3's QoS (tc dequeued them before h3 got them).
        sent = sum(queue_packets(H3.port).values()) - before
        assert sent == COUNT, 'enqueue=3:%d: queues of port 3 sent %d packets, expected %d:\n%s' % (
            queue, sent, COUNT, ovs('ovs-ofctl', '-O', 'OpenFlow10', 'queue-stats', BRIDGE))


# ---------------------------------------------------------------------------------------------------------
# Reserved output ports. The captures prove the copies that must arrive; the tx counters of the other switch
# ports, read once those arrived, prove nothing else left (OVS sends all copies of a packet together).

PORTS = {H1.port: H1, H2.port: H2, H3.port: H3}

OUTPUTS = {
    # (action, as OVS shows it, port 2 set to no-flood, hosts that receive h1's datagrams)
    'flood': ('output=flood', 'FLOOD', False, (H2, H3)),
    'all': ('output=all', 'ALL', False, (H2, H3)),
    'in_port': ('output=in_port', 'IN_PORT', False, (H1,)),
    # OFPP_FLOOD skips ports configured OFPPC_NO_FLOOD; OFPP_ALL does not.
    'flood, port 2 no-flood': ('output=flood', 'FLOOD', True, (H3,)),
    'all, port 2 no-flood': ('output=all', 'ALL', True, (H2, H3)),
}


def set_no_flood(port, on):
    ovs('ovs-ofctl', '-O', 'OpenFlow10', 'mod-port', BRIDGE, str(port), 'no-flood' if on else 'flood')
    poll(lambda: ('NO_FLOOD' in port_config(port)) == on, 10, 'port %d %s' % (port, 'no-flood' if on else 'flood'))


def port_config(port):
    """The `config:` line of `ovs-ofctl show` for one port."""
    text = ovs('ovs-ofctl', '-O', 'OpenFlow10', 'show', BRIDGE)
    block = re.search(r'^ %d\(.*?\n((?:     .*\n)*)' % port, text, re.M)
    assert block, text
    config = re.search(r'config:\s*(.*)', block.group(1))
    return config.group(1) if config else ''


@pytest.mark.parametrize('case', list(OUTPUTS))
def test_output_reserved_port(net, case):
    action, ovs_action, no_flood, receivers = OUTPUTS[case]
    dport = 5060 + list(OUTPUTS).index(case)
    name = 'output-' + re.sub(r'\W+', '-', case)
    if no_flood:
        set_no_flood(H2.port, True)
    try:
        push(net, name, udp_match(dport), action, ovs_action)
        silent = [port for port, spec in PORTS.items() if spec not in receivers]
        before = {port: tx_packets(port) for port in silent}
        caps = [(spec, capture(net, spec)) for spec in receivers]
        try:
            send_udp(net, H1, H3.ip, dport, 41000 + dport)
            for spec, cap in caps:
                assert_captured(cap, '%s: h1 -> %s' % (case, spec.name), [
                    ETHER % (H1.mac, H3.mac), UDP % (H1.ip, 41000 + dport, H3.ip, dport)])
        finally:
            for _, cap in caps:
                cap.stop()
        after = {port: tx_packets(port) for port in silent}
        assert after == before, '%s: ports %s should have sent nothing, tx_packets went %s -> %s' % (
            case, silent, before, after)
    finally:
        if no_flood:
            set_no_flood(H2.port, False)


def test_output_normal_is_a_learning_switch(net):
    """NORMAL works on a fail_mode=secure bridge: OVS's own L2 switching, with MAC learning."""
    ovs('ovs-appctl', 'fdb/flush', BRIDGE)
    push(net, 'normal', {'eth_type': '0x800'}, 'output=normal', 'NORMAL')

    # h3's MAC is unknown: h1's datagram is flooded (h2 gets a copy), and h3's socket receives it.
    receiver = Receiver(net, H3, 5070, count=1)
    try:
        caps = [(spec, capture(net, spec, count=1)) for spec in (H2, H3)]
        try:
            send_udp(net, H1, H3.ip, 5070, 40070, count=1)
            for spec, cap in caps:
                assert_captured(cap, 'normal, h3 unknown: h1 -> %s' % spec.name, [
                    ETHER % (H1.mac, H3.mac), UDP % (H1.ip, 40070, H3.ip, 5070)], count=1)
        finally:
            for _, cap in caps:
                cap.stop()
        assert receiver.datagrams() == [(H1.ip, 40070, 'e2e-0')]
    finally:
        receiver.stop()

    # Replies go back through NORMAL too; once h3 has sent, the switch knows where both live.
    net.assert_pings_succeed([(H3, H1)])
    fdb = ovs('ovs-appctl', 'fdb/show', BRIDGE)
    for spec in (H1, H3):
        assert re.search(r'^\s*%d\s+\d+\s+%s\s' % (spec.port, spec.mac), fdb, re.M), fdb

    before = tx_packets(H2.port)
    cap = capture(net, H3)
    try:
        send_udp(net, H1, H3.ip, 5071, 40071)
        assert_captured(cap, 'normal, h3 learned: h1 -> h3', [ETHER % (H1.mac, H3.mac),
                                                             UDP % (H1.ip, 40071, H3.ip, 5071)])
    finally:
        cap.stop()
    assert tx_packets(H2.port) == before, 'h3 is learned: h2 should get nothing (tx_packets %d -> %d)' % (
        before, tx_packets(H2.port))
