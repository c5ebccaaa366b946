"""`python -m bench.hosttable`: what the host table and the tracked forwarding flows cost, without a switch.

Drives controller.forwarding.handle_packet_in in this process (no sockets, no Ryu), with the host bounds raised
so that nothing is evicted: one switch of 48 ports, a server on port 48, then `hosts` hosts on ports 1-47, each
announcing itself with an ARP (learned: MAC, IPv4 address, attachment point, last seen), then each sending one
IPv4 packet to the server (one tracked forwarding flow per host, as cbench's packet-ins make). tracemalloc counts
the Python allocations that stay: bytes per learned host, then per tracked flow. The same packets time the
packet-in path: microseconds per call while learning (new hosts), while installing flows (known hosts), and for a
host seen again where it is known (the refresh every later packet-in makes).
"""
import argparse
import gc
import struct
import time
import tracemalloc

from controller import forwarding

SWITCH = 0xa1
PORTS = 48
SERVER_PORT = 48
SERVER_MAC = bytes((0x02, 0xff, 0, 0, 0, 1))
SERVER_IP = bytes((10, 255, 0, 1))
NOW = 1_700_000_000.0


def host_mac(n):
    return bytes((0x02, 0x00)) + struct.pack('!I', n)


def host_ip(n):
    return bytes((10, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff))


def arp_frame(mac, ip):
    body = struct.pack('!HHBBH', 1, 0x0800, 6, 4, 1) + mac + ip + bytes(6) + SERVER_IP
    return b'\xff' * 6 + mac + b'\x08\x06' + body + bytes(18)


def ipv4_frame(mac, ip):
    header = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 46, 1, 0, 64, 17, 0, ip, SERVER_IP)
    return SERVER_MAC + mac + b'\x08\x00' + header + bytes(26)


def new_state(hosts):
    state = forwarding.ForwardingState(quarantine=0, max_hosts=hosts + 10, max_hosts_per_port=hosts + 10)
    forwarding.switch_connected(state, SWITCH, {p: bytes((2, 1, 0, 0, 0, p)) for p in range(1, PORTS + 1)}, NOW)
    forwarding.handle_packet_in(state, SWITCH, SERVER_PORT, arp_frame(SERVER_MAC, SERVER_IP), NOW)
    return state


def port_of(n):
    return 1 + n % (PORTS - 1)


def learn(state, hosts, now=NOW):
    handle = forwarding.handle_packet_in
    for n in range(hosts):
        handle(state, SWITCH, port_of(n), arp_frame(host_mac(n), host_ip(n)), now + n * 1e-5)


def send_to_server(state, hosts, now=NOW + 1):
    handle = forwarding.handle_packet_in
    for n in range(hosts):
        handle(state, SWITCH, port_of(n), ipv4_frame(host_mac(n), host_ip(n)), now + n * 1e-5)


def host_count(state):
    return len(state.devices.by_mac)


def memory(hosts):
    """-> {'bytes_per_host', 'bytes_per_flow', 'hosts', 'flows'} as tracemalloc counts them."""
    gc.collect()
    tracemalloc.start()
    try:
        state = new_state(hosts)
        gc.collect()
        base = tracemalloc.get_traced_memory()[0]
        learn(state, hosts)
        gc.collect()
        learned = tracemalloc.get_traced_memory()[0]
        send_to_server(state, hosts)
        gc.collect()
        tracked = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    held, flows = host_count(state) - 1, state.flow_count()
    assert held == hosts and flows == hosts, (held, flows)
    return {'hosts': held, 'flows': flows, 'bytes_per_host': (learned - base) / held,
            'bytes_per_flow': (tracked - learned) / flows}


def speed(hosts, rounds=3):
    """-> microseconds of CPU time per handle_packet_in call, best of `rounds`: learning new hosts, their first packet to the
    server (a flow installed), and a known host seen again where it is known."""
    best = {'learn_us': float('inf'), 'install_us': float('inf'), 'refresh_us': float('inf')}
    frames = [(port_of(n), arp_frame(host_mac(n), host_ip(n)), ipv4_frame(host_mac(n), host_ip(n)))
              for n in range(hosts)]
    handle = forwarding.handle_packet_in
    for _ in range(rounds):
        state = new_state(hosts)
        gc.disable()
        try:
            began = time.process_time()
            for port, arp, _ip in frames:
                handle(state, SWITCH, port, arp, NOW)
            learned = time.process_time()
            for port, _arp, ip in frames:
                handle(state, SWITCH, port, ip, NOW + 1)
            installed = time.process_time()
            for port, arp, _ip in frames:
                handle(state, SWITCH, port, arp, NOW + 2)
            refreshed = time.process_time()
        finally:
            gc.enable()
        for key, seconds in (('learn_us', learned - began), ('install_us', installed - learned),
                             ('refresh_us', refreshed - installed)):
            best[key] = min(best[key], seconds / hosts * 1e6)
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m bench.hosttable', description=__doc__.splitlines()[0])
    parser.add_argument('--hosts', type=int, default=100000)
    parser.add_argument('--speed-hosts', type=int, default=100000)
    parser.add_argument('--rounds', type=int, default=3)
    args = parser.parse_args(argv)
    result = memory(args.hosts)
    print('%d hosts: %.0f bytes per learned host, %.0f bytes per tracked flow (tracemalloc)' % (
        result['hosts'], result['bytes_per_host'], result['bytes_per_flow']))
    if args.speed_hosts:
        timing = speed(args.speed_hosts, args.rounds)
        print('handle_packet_in, %d hosts, best of %d: %.2f us learning, %.2f us installing a flow, %.2f us a known '
              'host again' % (args.speed_hosts, args.rounds, timing['learn_us'], timing['install_us'],
                              timing['refresh_us']))


if __name__ == '__main__':
    main()
