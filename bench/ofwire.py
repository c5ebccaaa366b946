"""OpenFlow 1.0 bytes for the benchmark's emulated switches and null controller: struct only, no ryu objects.

The load generator has to be much cheaper per message than the controllers it measures, so it never builds a
message object: packets are packed from precompiled structs and replies are recognised by their header and a
field or two at fixed offsets.
"""
import struct

VERSION = 0x01
HEADER = struct.Struct('!BBHI')
HEADER_SIZE = 8

(HELLO, ERROR, ECHO_REQUEST, ECHO_REPLY, VENDOR, FEATURES_REQUEST, FEATURES_REPLY, GET_CONFIG_REQUEST,
 GET_CONFIG_REPLY, SET_CONFIG, PACKET_IN, FLOW_REMOVED, PORT_STATUS, PACKET_OUT, FLOW_MOD, PORT_MOD,
 STATS_REQUEST, STATS_REPLY, BARRIER_REQUEST, BARRIER_REPLY) = range(20)

NO_BUFFER = 0xffffffff
OFPP_FLOOD = 0xfffb
OFPP_NONE = 0xffff
OFPFC_ADD, OFPFC_MODIFY, OFPFC_MODIFY_STRICT, OFPFC_DELETE, OFPFC_DELETE_STRICT = range(5)
OFPFW_ALL = (1 << 22) - 1
OFPST_DESC, OFPST_FLOW, OFPST_AGGREGATE, OFPST_TABLE, OFPST_PORT, OFPST_QUEUE = range(6)
OFPSF_REPLY_MORE = 1
OFPET_BAD_REQUEST, OFPBRC_BAD_TYPE = 1, 1

MATCH_SIZE = 40
FLOW_MOD_MATCH = slice(8, 48)           # ofp_flow_mod: header, match, cookie, command, idle, hard, priority,
FLOW_MOD_FIXED = struct.Struct('!QHHHHIHH')  # buffer_id, out_port, flags; actions from byte 72
FLOW_MOD_SIZE = 72
PACKET_IN_FIXED = struct.Struct('!BBHIIHHBx')  # header + buffer_id, total_len, in_port, reason, pad
PACKET_OUT_FIXED = struct.Struct('!IHH')       # buffer_id, in_port, actions_len (after the header)
FEATURES_FIXED = struct.Struct('!QIB3xII')
PHY_PORT = struct.Struct('!H6s16sIIIIII')
STATS_FIXED = struct.Struct('!HH')
FLOW_STATS_HEAD = struct.Struct('!HBx')
FLOW_STATS_TAIL = struct.Struct('!IIHHH6xQQQ')
STATS_BODY_MAX = 0xffff - HEADER_SIZE - 4  # a message is at most 64 KiB
DESC_BODY = struct.pack('!256s256s256s32s256s', b'bench', b'floodlight-ryu benchmark switch', b'bench/switch.py',
                        b'0', b'bench')
UINT32 = struct.Struct('!I')
UINT16 = struct.Struct('!H')


def header(msg_type, length, xid):
    return HEADER.pack(VERSION, msg_type, length, xid)


def message(msg_type, xid, body=b''):
    return HEADER.pack(VERSION, msg_type, HEADER_SIZE + len(body), xid) + body


def hello(xid=0):
    return message(HELLO, xid)


def features_reply(xid, dpid, n_ports=4, n_buffers=0x7fffffff):
    ports = b''.join(PHY_PORT.pack(no, bytes((6, 0, 0, (dpid >> 8) & 0xff, dpid & 0xff, no)),
                                   ('bench%d-eth%d' % (dpid & 0xffff, no)).encode()[:16], 0, 0, 0xc0, 0xc0, 0xc0, 0)
                     for no in range(1, n_ports + 1))
    capabilities, actions = 0x87, (1 << 12) - 1  # flow/table/port stats, ARP match; every OF1.0 action
    return message(FEATURES_REPLY, xid, FEATURES_FIXED.pack(dpid, n_buffers, 1, capabilities, actions) + ports)


def error_for(buf, xid):
    return message(ERROR, xid, struct.pack('!HH', OFPET_BAD_REQUEST, OFPBRC_BAD_TYPE) + bytes(buf[:64]))


def stats_replies(xid, stats_type, records):
    """STATS_REPLY messages carrying `records` (bytes each), split below 64 KiB like a real switch."""
    parts, body, size = [], [], 0
    for record in records:
        if size + len(record) > STATS_BODY_MAX:
            parts.append(b''.join(body))
            body, size = [], 0
        body.append(record)
        size += len(record)
    parts.append(b''.join(body))
    last = len(parts) - 1
    return [message(STATS_REPLY, xid, STATS_FIXED.pack(stats_type, 0 if i == last else OFPSF_REPLY_MORE) + part)
            for i, part in enumerate(parts)]


def flow_stats_record(flow_mod):
    """One ofp_flow_stats for the flow a flow-mod (bytes) installed: match, priority, cookie, actions as sent."""
    cookie, _command, idle, hard, priority, _buffer, _out_port, _flags = FLOW_MOD_FIXED.unpack_from(flow_mod, 48)
    actions = bytes(flow_mod[FLOW_MOD_SIZE:])
    return (FLOW_STATS_HEAD.pack(88 + len(actions), 0) + bytes(flow_mod[FLOW_MOD_MATCH])
            + FLOW_STATS_TAIL.pack(0, 0, priority, idle, hard, cookie, 0, 0) + actions)


def ipv4_udp_frame_tail():
    """Bytes 12.. of a 60-byte Ethernet/IPv4/UDP frame (EtherType onwards), checksum filled in."""
    ip = bytearray(struct.pack('!BBHHHBBH4s4s', 0x45, 0, 46, 1, 0, 64, 17, 0, bytes((10, 0, 0, 1)),
                               bytes((10, 0, 0, 2))))
    total = sum(struct.unpack('!10H', ip))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    struct.pack_into('!H', ip, 10, ~total & 0xffff)
    udp = struct.pack('!HHHH', 1024, 2048, 26, 0)
    return b'\x08\x00' + bytes(ip) + udp + bytes(18)


def host_mac(dpid, seq):
    """A fresh, locally administered unicast source MAC per (switch, packet): 02:ss:nn:nn:nn:nn."""
    return bytes((0x02, dpid & 0xff)) + UINT32.pack(seq)


def mac_seq(mac, dpid):
    """The packet number encoded by host_mac(dpid, n), or None for any other MAC (LLDP from a port's own)."""
    if mac[0] != 0x02 or mac[1] != dpid & 0xff:
        return None
    return UINT32.unpack_from(mac, 2)[0]
