"""Lean emulated OpenFlow 1.0 switches for the benchmarks: many per process, one asyncio loop, raw bytes.

`Switch` answers what a switch must (HELLO, FEATURES, ECHO, BARRIER, GET_CONFIG, STATS) and keeps a flow table
of the flow-mods it received as bytes (flow stats report it), so a controller can reconcile against it.
`PacketInSwitch` is the cbench-style load generator: a window of packet-ins, each from a fresh source MAC,
and counts the packet-ins answered (a PACKET_OUT or FLOW_MOD naming its buffer id, or a PACKET_OUT carrying
its frame), not the messages: simple_switch sends two per packet-in, other controllers one or three.
`EmulatorLoop` runs the asyncio loop in a thread so a benchmark drives it from plain code.
"""
import asyncio
import socket
import threading
import time

from bench import ofwire as w


class Switch(asyncio.Protocol):
    def __init__(self, dpid, flows=None, store_flows=True, n_ports=4):
        self.dpid = dpid
        self.n_ports = n_ports
        self.store_flows = store_flows
        self.flows = dict(flows or {})   # (priority, match bytes) -> flow-mod bytes; survives reconnects
        self.transport = None
        self.buf = bytearray()
        self.xid = 1
        self.ready = threading.Event()          # FEATURES_REPLY sent
        self.closed = threading.Event()
        self.confirmed = threading.Event()      # a BARRIER answered once `flow_mod_target` flow-mods arrived
        self.synced = threading.Event()         # a BARRIER answered after a flow stats reply went out
        self.reset_counters()

    def reset_counters(self, flow_mod_target=None):
        self.flow_mods = 0           # flow-mods received on this connection
        self.flow_mod_target = flow_mod_target
        self.reached_at = None       # when flow_mods reached the target
        self.confirmed_at = None     # when the first barrier after that was answered
        self.stats_replied = False
        self.synced_at = None
        self.connected_at = None
        self.confirmed.clear()
        self.synced.clear()

    # --- asyncio ---------------------------------------------------------------------------------------

    def connection_made(self, transport):
        self.transport = transport
        sock = transport.get_extra_info('socket')
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.closed.clear()
        self.ready.clear()
        transport.write(w.hello(self.next_xid()))

    def connection_lost(self, exc):
        self.transport = None
        self.buf = bytearray()
        self.closed.set()

    def data_received(self, data):
        buf = self.buf
        buf += data
        out = []
        offset, end = 0, len(buf)
        while end - offset >= 8:
            length = (buf[offset + 2] << 8) | buf[offset + 3]
            if length < 8:
                length = 8
            if end - offset < length:
                break
            self.handle(buf[offset + 1], buf[offset:offset + length], out)
            offset += length
        del buf[:offset]
        if out and self.transport is not None:
            self.transport.write(b''.join(out))

    def close(self):
        if self.transport is not None:
            self.transport.close()

    # --- the switch --------------------------------------------------------------------------------------

    def next_xid(self):
        self.xid += 1
        return self.xid

    def handle(self, msg_type, msg, out):
        """One message from the controller (a bytearray of its own); replies are appended to `out`."""
        if msg_type == w.FLOW_MOD:
            self.flow_mod(msg)
        elif msg_type == w.BARRIER_REQUEST:
            self.barrier(msg, out)
        elif msg_type == w.ECHO_REQUEST:
            out.append(w.message(w.ECHO_REPLY, w.UINT32.unpack_from(msg, 4)[0], bytes(msg[8:])))
        elif msg_type == w.FEATURES_REQUEST:
            out.append(w.features_reply(w.UINT32.unpack_from(msg, 4)[0], self.dpid, self.n_ports))
            self.ready.set()
        elif msg_type == w.STATS_REQUEST:
            self.stats(msg, out)
        elif msg_type == w.GET_CONFIG_REQUEST:
            out.append(w.message(w.GET_CONFIG_REPLY, w.UINT32.unpack_from(msg, 4)[0], w.STATS_FIXED.pack(0, 128)))
        elif msg_type in (w.HELLO, w.SET_CONFIG, w.PACKET_OUT, w.ECHO_REPLY, w.ERROR, w.PORT_MOD):
            pass
        else:
            out.append(w.error_for(msg, w.UINT32.unpack_from(msg, 4)[0]))

    def flow_mod(self, msg):
        self.flow_mods += 1
        if self.flow_mod_target is not None and self.reached_at is None and self.flow_mods >= self.flow_mod_target:
            self.reached_at = time.perf_counter()
        if not self.store_flows:
            return
        command = (msg[56] << 8) | msg[57]
        priority = (msg[62] << 8) | msg[63]
        key = (priority, bytes(msg[w.FLOW_MOD_MATCH]))
        if command in (w.OFPFC_ADD, w.OFPFC_MODIFY_STRICT):
            self.flows[key] = bytes(msg)
        elif command == w.OFPFC_DELETE_STRICT:
            self.flows.pop(key, None)
        elif command == w.OFPFC_DELETE and w.UINT32.unpack_from(msg, 8)[0] & w.OFPFW_ALL == w.OFPFW_ALL:
            self.flows.clear()

    def barrier(self, msg, out):
        out.append(w.message(w.BARRIER_REPLY, w.UINT32.unpack_from(msg, 4)[0]))
        if self.reached_at is not None and self.confirmed_at is None:
            self.confirmed_at = time.perf_counter()
            self.confirmed.set()
        if self.stats_replied and self.synced_at is None:
            self.synced_at = time.perf_counter()
            self.synced.set()

    def stats(self, msg, out):
        xid = w.UINT32.unpack_from(msg, 4)[0]
        stats_type = w.UINT16.unpack_from(msg, 8)[0]
        if stats_type == w.OFPST_FLOW:
            out.extend(w.stats_replies(xid, stats_type, [w.flow_stats_record(f) for f in self.flows.values()]))
            self.stats_replied = True
        elif stats_type == w.OFPST_DESC:
            out.append(w.message(w.STATS_REPLY, xid, w.STATS_FIXED.pack(stats_type, 0) + w.DESC_BODY))
        elif stats_type == w.OFPST_AGGREGATE:
            out.append(w.message(w.STATS_REPLY, xid, w.STATS_FIXED.pack(stats_type, 0)
                                 + w.struct.pack('!QQI4x', 0, 0, len(self.flows))))
        else:
            out.append(w.message(w.STATS_REPLY, xid, w.STATS_FIXED.pack(stats_type, 0)))


class PacketInSwitch(Switch):
    """cbench-style: keeps `window` packet-ins unanswered, each from a fresh source MAC, until `count` are sent.

    Packet 0 (the warm-up) is a broadcast from port 1; every later packet goes from another port to the source
    of packet 0, which a learning controller knows by then: it installs a flow and sends the packet out, as
    cbench makes it do. Unbuffered by default (buffer id none, the whole frame, as Open vSwitch 2.x sends them).
    A packet-in counts as answered once, on the first PACKET_OUT that carries its frame (or, buffered, the first
    PACKET_OUT or FLOW_MOD that names its buffer id).
    """
    TAIL = w.ipv4_udp_frame_tail()

    def __init__(self, dpid, count, window=64, buffered=False):
        super().__init__(dpid, store_flows=False)
        self.count = count                 # packet-ins to send after the warm-up packet
        self.window = window
        self.buffered = buffered
        self.answered = bytearray(count + 1)  # by packet number; 0 is the warm-up packet
        self.n_answered = 0
        self.next_seq = 0
        self.dst = w.host_mac(dpid, 0)
        self.started_at = None
        self.first_answer_at = None
        self.last_answer_at = None
        self.warm = threading.Event()       # packet 0 answered: the controller handles this switch's packet-ins
        self.done = threading.Event()       # every packet answered
        self.go = False
        self.loop = None

    def packet_in(self, seq):
        if seq == 0:  # a broadcast from port 1: flooded, and its source learned there
            in_port, dst = 1, b'\xff' * 6
        else:
            in_port, dst = 2 + seq % (self.n_ports - 1), self.dst
        frame = dst + w.host_mac(self.dpid, seq) + self.TAIL
        return w.PACKET_IN_FIXED.pack(w.VERSION, w.PACKET_IN, 18 + len(frame), seq, seq if self.buffered else
                                      w.NO_BUFFER, len(frame), in_port, 0) + frame

    def handle(self, msg_type, msg, out):
        if msg_type == w.PACKET_OUT or msg_type == w.FLOW_MOD:
            if msg_type == w.FLOW_MOD:
                self.flow_mods += 1
            seq = answered_seq(msg_type, msg, self.dpid)
            if seq is not None:
                self.answer(seq, out)
        else:
            super().handle(msg_type, msg, out)
            if msg_type == w.FEATURES_REQUEST:
                self.loop = asyncio.get_running_loop()
                self.loop.call_later(0.05, self.probe)

    def probe(self):
        """Until packet 0 is answered, send it again every 100 ms (ryu drops packet-ins before MAIN state)."""
        if self.answered[0] or self.transport is None:
            return
        self.transport.write(self.packet_in(0))
        self.loop.call_later(0.1, self.probe)

    def start(self):
        """Called in the loop once every switch is warm: open the window."""
        self.go = True
        self.started_at = time.perf_counter()
        out = []
        self.fill(out)
        if out:
            self.transport.write(b''.join(out))

    def fill(self, out):
        limit = min(self.count, self.n_answered - 1 + self.window)  # n_answered includes packet 0
        seq = self.next_seq
        while seq < limit:
            seq += 1
            out.append(self.packet_in(seq))
        self.next_seq = seq

    def answer(self, seq, out):
        if seq > self.count or self.answered[seq]:
            return
        self.answered[seq] = 1
        self.n_answered += 1
        if seq == 0:
            self.warm.set()
            return
        now = time.perf_counter()
        if self.first_answer_at is None:
            self.first_answer_at = now
        self.last_answer_at = now
        if self.n_answered > self.count:
            self.done.set()
            return
        if self.go:
            self.fill(out)


def answered_seq(msg_type, msg, dpid):
    """The packet number a PACKET_OUT or FLOW_MOD answers (by buffer id, or by the frame it carries), or None."""
    if msg_type == w.PACKET_OUT:
        buffer_id = w.UINT32.unpack_from(msg, 8)[0]
        if buffer_id != w.NO_BUFFER:
            return buffer_id
        data = 16 + w.UINT16.unpack_from(msg, 14)[0]
        return w.mac_seq(msg[data + 6:data + 12], dpid) if len(msg) >= data + 12 else None
    buffer_id = w.UINT32.unpack_from(msg, 64)[0]
    return buffer_id if buffer_id != w.NO_BUFFER else None


def read_messages(sock, buf, wait, handle):
    """Read what the controller sent on a blocking socket (waiting up to `wait` s for the first bytes) into `buf`
    (a bytearray); handle(msg_type, msg, out) each whole message, then send what the calls put in `out`."""
    sock.settimeout(wait)
    try:
        data = sock.recv(262144)
    except socket.timeout:
        return
    if not data:
        raise ConnectionError('controller closed the connection')
    buf.extend(data)
    out, offset, end = [], 0, len(buf)
    while end - offset >= 8:
        length = max(8, (buf[offset + 2] << 8) | buf[offset + 3])
        if end - offset < length:
            break
        handle(buf[offset + 1], buf[offset:offset + length], out)
        offset += length
    del buf[:offset]
    if out:
        sock.sendall(b''.join(out))


def measure_rtt(port, dpid, samples, buffered=False, host='127.0.0.1', timeout=30.0):
    """Round-trip times (s) of `samples` packet-ins sent one at a time, on a plain blocking socket.

    No event loop between the socket and the clock: the generator's own share of each sample is a send, a
    recv and a few struct reads (the null controller shows what it adds).
    """
    emu = PacketInSwitch(dpid, samples, window=1, buffered=buffered)
    sock = socket.create_connection((host, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = bytearray()
    state = {'answered': None}

    def handle(msg_type, msg, out):
        if msg_type == w.PACKET_OUT or msg_type == w.FLOW_MOD:
            seq = answered_seq(msg_type, msg, emu.dpid)
            if seq is not None and state['answered'] is None:
                state['answered'] = seq
        else:
            Switch.handle(emu, msg_type, msg, out)

    def pump(wait):
        read_messages(sock, buf, wait, handle)

    try:
        sock.sendall(w.hello(1))
        deadline = time.monotonic() + timeout
        while not emu.ready.is_set():
            if time.monotonic() > deadline:
                raise RuntimeError('no handshake')
            pump(0.1)
        while state['answered'] != 0:  # warm-up: until the controller handles this switch's packet-ins
            if time.monotonic() > deadline:
                raise RuntimeError('warm-up packet-in never answered')
            state['answered'] = None
            sock.sendall(emu.packet_in(0))
            end = time.monotonic() + 0.1
            while state['answered'] is None and time.monotonic() < end:
                pump(0.1)
        rtts = []
        perf = time.perf_counter
        for seq in range(1, samples + 1):
            packet = emu.packet_in(seq)
            state['answered'] = None
            began = perf()
            sock.sendall(packet)
            while state['answered'] != seq:
                pump(timeout)
                if state['answered'] is not None and state['answered'] != seq:
                    state['answered'] = None  # a late answer to an earlier packet
            rtts.append(perf() - began)
        return rtts
    finally:
        sock.close()


class EmulatorLoop:
    """An asyncio loop in a daemon thread; switches are connected to a controller from the calling thread."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name='bench-switches', daemon=True)
        self.thread.start()

    def call(self, coro, timeout=60):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def run(self, fn, *args):
        """Run a plain function in the loop thread and return its result."""
        async def wrapper():
            return fn(*args)
        return self.call(wrapper())

    def connect(self, switch, port, host='127.0.0.1'):
        """Connect `switch` and wait until its FEATURES_REPLY went out; returns the time the connect began."""
        async def connect():
            began = time.perf_counter()
            switch.connected_at = began
            await self.loop.create_connection(lambda: switch, host, port)
            return began
        began = self.call(connect())
        if not switch.ready.wait(30):
            raise RuntimeError('switch %#x: no handshake within 30 s' % switch.dpid)
        return began

    def connect_many(self, switches, port, host='127.0.0.1', timeout=120):
        async def connect_all():
            for switch in switches:
                switch.connected_at = time.perf_counter()
                await self.loop.create_connection(lambda s=switch: s, host, port)
        self.call(connect_all(), timeout)
        deadline = time.monotonic() + timeout
        for switch in switches:
            if not switch.ready.wait(max(0.0, deadline - time.monotonic())):
                raise RuntimeError('switch %#x: no handshake within %s s' % (switch.dpid, timeout))

    def disconnect(self, switch, timeout=10):
        self.run(switch.close)
        switch.closed.wait(timeout)

    def stop(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
