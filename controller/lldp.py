"""LLDP frames for link discovery, built and read as bytes (pure: no Ryu, no sockets).

The frame a switch port sends: destination 01:80:c2:00:00:0e, source the port's MAC, ethertype 0x88cc, then
Chassis ID (locally assigned, "dpid:<16 hex digits>") and Port ID (port component, the OpenFlow port number in
4 bytes) as Ryu's own discovery (ryu.topology) writes them, so that app, loaded beside ours, reads our frames as
its own (it crashes on Floodlight's 2-byte port number), TTL 120, Floodlight's DPID TLV
(organisationally specific, OUI 00:26:e1, subtype 0, 8-byte DPID) and the End TLV.
"""
import struct

LLDP_DST = bytes.fromhex('0180c200000e')
ETH_TYPE_LLDP = 0x88cc
ETH_TYPE_BDDP = 0x8942  # Floodlight's broadcast discovery frames: recognised and ignored
FLOODLIGHT_OUI = bytes.fromhex('0026e1')
TTL_SECONDS = 120

_TLV_CHASSIS_ID = 1
_TLV_PORT_ID = 2
_TLV_TTL = 3
_TLV_ORG = 127
_CHASSIS_LOCAL = 7
_PORT_COMPONENT = 2


def _tlv(tlv_type, value):
    return struct.pack('!H', tlv_type << 9 | len(value)) + value


def lldp_frame(dpid, port_no, port_mac):
    """The LLDP frame announcing (dpid, port_no) from a port whose MAC is `port_mac` (6 bytes)."""
    return (LLDP_DST + port_mac + struct.pack('!H', ETH_TYPE_LLDP)
            + _tlv(_TLV_CHASSIS_ID, bytes((_CHASSIS_LOCAL,)) + b'dpid:%016x' % dpid)
            + _tlv(_TLV_PORT_ID, bytes((_PORT_COMPONENT,)) + struct.pack('!I', port_no))
            + _tlv(_TLV_TTL, struct.pack('!H', TTL_SECONDS))
            + _tlv(_TLV_ORG, FLOODLIGHT_OUI + b'\x00' + struct.pack('!Q', dpid))
            + b'\x00\x00')


def parse_lldp(data, offset=14):
    """(dpid, port_no) announced by an LLDP frame whose TLVs start at `offset`; None if it is not ours to read.

    The DPID comes from Floodlight's DPID TLV or from a "dpid:" chassis ID; the port from a 2- or 4-byte
    port-component Port ID. Anything malformed gives None, never an exception.
    """
    dpid = port = None
    end = len(data)
    while offset + 2 <= end:
        header = data[offset] << 8 | data[offset + 1]
        tlv_type, length = header >> 9, header & 0x1ff
        value = data[offset + 2:offset + 2 + length]
        if len(value) != length or tlv_type == 0:
            break
        if tlv_type == _TLV_CHASSIS_ID and length == 22 and value[0] == _CHASSIS_LOCAL and value[1:6] == b'dpid:':
            try:
                dpid = int(value[6:].decode('ascii'), 16)
            except ValueError:
                return None
        elif tlv_type == _TLV_PORT_ID and value[:1] == bytes((_PORT_COMPONENT,)) and length in (3, 5):
            port = int.from_bytes(value[1:], 'big')
        elif tlv_type == _TLV_ORG and length == 12 and value[:4] == FLOODLIGHT_OUI + b'\x00':
            dpid = int.from_bytes(value[4:], 'big')
        offset += 2 + length
    if dpid is None or port is None:
        return None
    return dpid, port
