"""The cbench-like benchmark: switches that behave as cbench's fake switch does, saturated for a fixed time.

What a controller sees of cbench (oflops' `cbench -c HOST -p 6633 -m 5000 -l 10 -s 16 -M 1000 -t`), and this
switch reproduces: it buffers every packet (packet-ins name a buffer id), sends one ARP from port 2 as soon as its
FEATURES_REPLY is out (cbench's "learn the destination MAC"), then writes packet-ins as fast as the connection
takes them (cbench's throughput mode, -t: its output buffer kept at 64 KiB whether or not anything is answered),
each from the next of `macs` source MACs and all to the ARP's sender; it answers GET_CONFIG with the length in host byte
order and miss_send_len 0 (until a SET_CONFIG, whose bytes it echoes back), refuses Nicira role requests with
BAD_VENDOR and ignores flow statistics requests. Echo requests are answered.

Per controller, one run of `seconds` (the issue's saturation for 60 s or more) reports: packet-ins answered per
second, how many switches the controller dropped (the liveness check: must be 0), the share of answers that were
floods (a switch whose ARP was lost floods every packet for the whole run), messages per answered packet-in
(Floodlight and ours: 1 for a buffered packet), whether any answer sent the frame back, and the controller's
resident memory at the end (16 switches x 100,000 MACs: 1.6 M hosts learned by a learning controller).
"""
import asyncio
import json
import struct
import time
import urllib.request

from bench import ofwire as w
from bench.controllers import Controller
from bench.switch import EmulatorLoop, Switch

DPID_BASE = 0x0000000000c00000
OFPBRC_BAD_VENDOR = 3
ARP_PORT, LOAD_PORT = 2, 1


def learned_mac(dpid):
    """The MAC of the host behind port 2 that the ARP at connect announces (cbench: 80:00:00:00:00:<id>)."""
    return bytes((0x80, 0, 0, 0, (dpid >> 8) & 0xff, dpid & 0xff))


def arp_reply_frame(dpid):
    mac = learned_mac(dpid)
    ip = bytes((192, 168, dpid & 0xff, 40))
    body = struct.pack('!HHBBH', 1, 0x0800, 6, 4, 2) + mac + ip + mac + ip
    return b'\xff' * 6 + mac + b'\x08\x06' + body + bytes(18)


class CbenchSwitch(Switch):
    TAIL = w.ipv4_udp_frame_tail()
    OUTPUT_BUFFER = 65536  # bytes of packet-ins kept waiting to be written, as cbench's msgbuf
    PUMP_INTERVAL = 0.001

    def __init__(self, dpid, macs):
        super().__init__(dpid, store_flows=False)
        self.macs = macs
        self.config = None        # the last SET_CONFIG's bytes (cbench echoes them back on GET_CONFIG)
        self.next_seq = 0         # packet-ins sent; packet n carries buffer id n
        self.outstanding = set()  # buffer ids sent and not answered yet
        self.answered = 0
        self.floods = 0           # answers that were PACKET_OUTs to more than one port or to FLOOD
        self.messages = 0         # PACKET_OUTs and FLOW_MODs received, answers or not
        self.frames_back = 0      # answers that carried the frame back although the switch buffered it
        self.running = False
        self.loop = None

    # --- what cbench's fake switch answers ------------------------------------------------------------

    def handle(self, msg_type, msg, out):
        xid = w.UINT32.unpack_from(msg, 4)[0]
        if msg_type == w.PACKET_OUT or msg_type == w.FLOW_MOD:
            self.answer(msg_type, msg, out)
        elif msg_type == w.GET_CONFIG_REQUEST:
            reply = bytearray(self.config or w.message(w.GET_CONFIG_REPLY, 0, w.STATS_FIXED.pack(0, 0)))
            reply[1] = w.GET_CONFIG_REPLY
            struct.pack_into('!I', reply, 4, xid)
            if self.config is None:
                struct.pack_into('<H', reply, 2, len(reply))  # cbench's static reply: length in host order
            out.append(bytes(reply))
        elif msg_type == w.SET_CONFIG:
            self.config = bytes(msg)
        elif msg_type == w.VENDOR:
            out.append(w.message(w.ERROR, xid, struct.pack('!HH', w.OFPET_BAD_REQUEST, OFPBRC_BAD_VENDOR)
                                 + bytes(msg[:64])))
        elif msg_type == w.STATS_REQUEST:
            if w.UINT16.unpack_from(msg, 8)[0] == w.OFPST_DESC:
                super().handle(msg_type, msg, out)
        elif msg_type == w.FEATURES_REQUEST:
            super().handle(msg_type, msg, out)
            out.append(self.packet_in(w.NO_BUFFER, ARP_PORT, arp_reply_frame(self.dpid)))
        else:
            super().handle(msg_type, msg, out)

    def packet_in(self, buffer_id, in_port, frame):
        return w.PACKET_IN_FIXED.pack(w.VERSION, w.PACKET_IN, 18 + len(frame), 0, buffer_id, len(frame), in_port,
                                      0) + frame

    def load_packet(self, seq):
        frame = learned_mac(self.dpid) + w.host_mac(self.dpid, 1 + seq % self.macs) + self.TAIL
        return self.packet_in(seq, LOAD_PORT, frame)

    def answer(self, msg_type, msg, out):
        self.messages += 1
        if msg_type == w.PACKET_OUT:
            buffer_id, _in_port, actions_len = w.PACKET_OUT_FIXED.unpack_from(msg, 8)
            outputs = [w.UINT16.unpack_from(msg, 16 + i + 4)[0] for i in range(0, actions_len, 8)]
            carried_frame = len(msg) > 16 + actions_len
        else:
            if w.UINT16.unpack_from(msg, 56)[0] != w.OFPFC_ADD:
                return
            buffer_id = w.UINT32.unpack_from(msg, 64)[0]
            outputs, carried_frame = [], False
        if buffer_id not in self.outstanding:
            return
        self.outstanding.discard(buffer_id)
        self.answered += 1
        if len(outputs) > 1 or w.OFPP_FLOOD in outputs:
            self.floods += 1
        if carried_frame:
            self.frames_back += 1

    def start(self):
        """Called in the loop: from now on the output buffer is topped up every millisecond."""
        self.running = True
        self.loop = asyncio.get_running_loop()
        self.pump()

    def pump(self):
        if not self.running or self.transport is None:
            return
        size = len(self.load_packet(0))
        room = self.OUTPUT_BUFFER - self.transport.get_write_buffer_size()
        if room >= size:
            packets = []
            for _ in range(room // size):
                self.next_seq += 1
                self.outstanding.add(self.next_seq)
                packets.append(self.load_packet(self.next_seq))
            self.transport.write(b''.join(packets))
        self.loop.call_later(self.PUMP_INTERVAL, self.pump)

    def stop(self):
        self.running = False


def hosts_held(controller):
    """The hosts our controller holds ('# hosts' of /wm/core/controller/summary/json), or None if it cannot say."""
    try:
        with urllib.request.urlopen(controller.base_url + '/wm/core/controller/summary/json', timeout=30) as reply:
            return json.loads(reply.read())['# hosts']
    except (OSError, ValueError, KeyError):
        return None


def saturate(kind, ctx, switches, macs, seconds, extra_args=(), pinning=None):
    """-> dict(rate, answered, dropped, flood_share, messages_per_answer, frames_back, rss_mib, bytes_per_host, ...).

    bytes_per_host: resident memory grown during the run per host the controller holds (its REST summary's
    '# hosts' for ours, whose table is bounded; for a peer, the distinct source MACs of the packets it answered,
    an upper bound of what it learned): what a learning controller keeps per host, its per-flow state included.
    pinning: the controller's (bench.controllers.Pinning), ctx.pinning by default."""
    loop = EmulatorLoop()
    try:
        with Controller(kind, ctx.workdir, pinning or ctx.pinning, extra_args=extra_args) as controller:
            emus = [CbenchSwitch(DPID_BASE + i + 1, macs) for i in range(switches)]
            loop.connect_many(emus, controller.ofp_port)
            rss_idle = controller.rss_kib()
            loop.run(lambda: [emu.start() for emu in emus])  # in the loop: start() schedules its pump there
            cpu_before = controller.cpu_seconds_with_children()
            began = time.perf_counter()
            samples = []
            while time.perf_counter() - began < seconds:
                time.sleep(1.0)
                samples.append((time.perf_counter() - began, sum(e.answered for e in emus)))
            cpu_after = controller.cpu_seconds_with_children()
            loop.run(lambda: [emu.stop() for emu in emus])
            # the rate past the first tenth of the run (connect, learning the first MACs)
            start = samples[max(0, len(samples) // 10 - 1)]
            end = samples[-1]
            rate = (end[1] - start[1]) / max(end[0] - start[0], 1e-9)
            # every counter read at one instant, in the loop thread: answers to packets still in flight keep
            # arriving after stop(), and counters read one after another would disagree
            totals = loop.run(lambda: [sum(getattr(e, name) for e in emus)
                                       for name in ('answered', 'messages', 'floods', 'frames_back')])
            answered, messages, floods, frames_back = totals
            rss = controller.rss_kib()
            hosts = sum(min(e.macs, e.next_seq) for e in emus)  # distinct source MACs the switches sent
            # what the controller holds: ours says (REST); a peer learned at most the MACs of the packets it answered
            held = hosts_held(controller) if kind == 'ours' else loop.run(
                lambda: sum(min(e.macs, e.answered) for e in emus))
            result = {
                'rate': rate, 'answered': answered, 'seconds': end[0],
                'dropped': sum(1 for e in emus if e.closed.is_set()),
                'flood_share': floods / max(answered, 1),
                'messages_per_answer': messages / max(answered, 1),
                'frames_back': frames_back,
                'rss_mib': rss / 1024.0, 'rss_idle_mib': rss_idle / 1024.0, 'hosts_sent': hosts, 'hosts_held': held,
                'bytes_per_host': (rss - rss_idle) * 1024.0 / max(held or hosts, 1),
                'per_second': [round(b[1] - a[1]) for a, b in zip(samples, samples[1:])],
                # CPU seconds of the controller's processes (a --workers supervisor and its workers) during the
                # load, and the packet-ins answered meanwhile per CPU second: what one core does, generator aside
                'cpu_seconds': {pid: round(cpu_after[pid] - cpu_before.get(pid, 0.0), 2) for pid in cpu_after},
            }
            result['answered_per_cpu_second'] = samples[-1][1] / max(sum(result['cpu_seconds'].values()), 1e-9)
            for emu in emus:
                loop.run(emu.close)
            return result
    finally:
        loop.stop()
