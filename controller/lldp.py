"""LLDP frames for link discovery, built and read as bytes (pure: no Ryu, no sockets).

The frame a switch port sends: destination 01:80:c2:00:00:0e, source the port's MAC, ethertype 0x88cc, then
Chassis ID (locally assigned, "dpid:<16 hex digits>") and Port ID (port component, the OpenFlow port number in
4 bytes) as Ryu's own discovery (ryu.topology) writes them, so that app, loaded beside ours, reads our frames as
its own (it crashes on Floodlight's 2-byte port number), TTL 120, Floodlight's DPID TLV
(organisationally specific, OUI 00:26:e1, subtype 0, 8-byte DPID), our authenticator TLV and the End TLV.

The authenticator (docs/reliability.md, "The topology cannot be forged"): an organisationally specific TLV, OUI
02:4f:46 (a locally administered value, bit 0x02 of the first octet set, so it claims no vendor's registered
OUI; "OF"), subtype 1, then the time the frame was built (milliseconds since the epoch, 8 bytes) and the first
AUTH_BYTES bytes of HMAC-SHA256, keyed by the controller's LLDP secret, over
b"lldp-auth-1" + DPID (8 bytes) + port (4 bytes) + that time. A host that sends LLDP claiming another switch's
port cannot make one (it has no secret), and one it recorded off its own port is stale after `max_age`.
Other parsers (ryu.topology, Floodlight) skip the TLV as an unknown organisationally specific one.
"""
import hashlib
import hmac
import os
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

AUTH_OUI = bytes.fromhex('024f46')
AUTH_SUBTYPE = 1
AUTH_BYTES = 16          # HMAC-SHA256 truncated to 128 bits
_AUTH_PREFIX = AUTH_OUI + bytes((AUTH_SUBTYPE,))
_AUTH_LENGTH = len(_AUTH_PREFIX) + 8 + AUTH_BYTES
_AUTH_DOMAIN = b'lldp-auth-1'
SECRET_BYTES = 32
# Why an LLDP frame was not taken for a link (the keys of the counter /wm/topology/lldp/json shows).
UNSIGNED = 'unsigned'
BAD_AUTHENTICATOR = 'bad-authenticator'
STALE = 'stale'
FUTURE = 'future'
LOOPED = 'looped'
REJECT_REASONS = (UNSIGNED, BAD_AUTHENTICATOR, STALE, FUTURE, LOOPED)


def _tlv(tlv_type, value):
    return struct.pack('!H', tlv_type << 9 | len(value)) + value


def lldp_frame(dpid, port_no, port_mac, secret=None, now=None):
    """The LLDP frame announcing (dpid, port_no) from a port whose MAC is `port_mac` (6 bytes); signed at time
    `now` (epoch seconds) when a `secret` is given."""
    auth = b''
    if secret is not None:
        stamp = int(now * 1000)
        auth = _tlv(_TLV_ORG, _AUTH_PREFIX + struct.pack('!Q', stamp) + _mac(secret, dpid, port_no, stamp))
    return (LLDP_DST + port_mac + struct.pack('!H', ETH_TYPE_LLDP)
            + _tlv(_TLV_CHASSIS_ID, bytes((_CHASSIS_LOCAL,)) + b'dpid:%016x' % dpid)
            + _tlv(_TLV_PORT_ID, bytes((_PORT_COMPONENT,)) + struct.pack('!I', port_no))
            + _tlv(_TLV_TTL, struct.pack('!H', TTL_SECONDS))
            + _tlv(_TLV_ORG, FLOODLIGHT_OUI + b'\x00' + struct.pack('!Q', dpid))
            + auth
            + b'\x00\x00')


def _mac(secret, dpid, port_no, stamp):
    message = _AUTH_DOMAIN + struct.pack('!QIQ', dpid & 0xffffffffffffffff, port_no & 0xffffffff, stamp)
    return hmac.new(secret, message, hashlib.sha256).digest()[:AUTH_BYTES]


def check_lldp(data, offset, secret, now, max_age, skew=5.0):
    """An LLDP frame (TLVs from `offset`) checked against `secret` at time `now`.

    -> ((dpid, port_no), None) when it carries a valid authenticator made at most `max_age` seconds ago (and at
    most `skew` seconds in the future: the clocks of instances sharing the secret); (None, reason) otherwise,
    reason one of REJECT_REASONS but LOOPED; (None, None) for a frame that is not LLDP we can read at all."""
    fields = _read(data, offset)
    if fields is None:
        return None, None
    dpid, port_no, auth = fields
    if auth is None:
        return None, UNSIGNED
    stamp = int.from_bytes(auth[:8], 'big')
    if not hmac.compare_digest(auth[8:], _mac(secret, dpid, port_no, stamp)):
        return None, BAD_AUTHENTICATOR
    age = now - stamp / 1000.0
    if age > max_age:
        return None, STALE
    if age < -skew:
        return None, FUTURE
    return (dpid, port_no), None


def parse_lldp(data, offset=14):
    """(dpid, port_no) announced by an LLDP frame whose TLVs start at `offset`; None if it is not ours to read.

    The DPID comes from Floodlight's DPID TLV or from a "dpid:" chassis ID; the port from a 2- or 4-byte
    port-component Port ID. Anything malformed gives None, never an exception. The authenticator is not checked
    (check_lldp does).
    """
    fields = _read(data, offset)
    return None if fields is None else fields[:2]


def _read(data, offset):
    """-> (dpid, port_no, authenticator TLV's stamp + MAC, or None), or None (also when the chassis ID and the DPID
    TLV name different switches)."""
    dpid = chassis = port = auth = None
    end = len(data)
    while offset + 2 <= end:
        header = data[offset] << 8 | data[offset + 1]
        tlv_type, length = header >> 9, header & 0x1ff
        value = data[offset + 2:offset + 2 + length]
        if len(value) != length or tlv_type == 0:
            break
        if tlv_type == _TLV_CHASSIS_ID and length == 22 and value[0] == _CHASSIS_LOCAL and value[1:6] == b'dpid:':
            try:
                chassis = int(value[6:].decode('ascii'), 16)
            except ValueError:
                return None
        elif tlv_type == _TLV_PORT_ID and value[:1] == bytes((_PORT_COMPONENT,)) and length in (3, 5):
            port = int.from_bytes(value[1:], 'big')
        elif tlv_type == _TLV_ORG and length == 12 and value[:4] == FLOODLIGHT_OUI + b'\x00':
            dpid = int.from_bytes(value[4:], 'big')
        elif tlv_type == _TLV_ORG and length == _AUTH_LENGTH and value[:4] == _AUTH_PREFIX:
            auth = value[4:]
        offset += 2 + length
    if dpid is None:
        dpid = chassis
    elif chassis is not None and chassis != dpid:
        return None
    if dpid is None or port is None:
        return None
    return dpid, port, auth


def load_secret(path):
    """The LLDP secret kept in `path`, made there (32 random bytes, hex, mode 0600) when the file does not exist.

    Instances sharing a store share this file: the first to start writes it (a private temporary file linked into
    place, so a second instance starting at the same moment reads the first one's secret, never half a file).
    Raises ValueError naming the file when it cannot be read or made, or holds fewer than 16 bytes."""
    try:
        with open(path, 'rb') as handle:
            text = handle.read().strip()
    except FileNotFoundError:
        text = _create_secret(path)
    except OSError as error:
        raise ValueError('cannot read the LLDP secret file %s: %s' % (path, error.strerror or error)) from None
    if len(text) < 16:
        raise ValueError('the LLDP secret file %s holds %d bytes; it needs at least 16 (delete it to have a new one '
                         'made, the same for every instance sharing the store)' % (path, len(text)))
    return text


def _create_secret(path):
    text = os.urandom(SECRET_BYTES).hex().encode('ascii')
    directory = os.path.dirname(os.path.abspath(path))
    temporary = '%s.%d.tmp' % (path, os.getpid())
    try:
        os.makedirs(directory, exist_ok=True)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, text + b'\n')
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(temporary, path)
        except FileExistsError:  # another instance made it first: theirs is the shared one
            with open(path, 'rb') as handle:
                text = handle.read().strip()
    except OSError as error:
        raise ValueError('cannot make the LLDP secret file %s: %s' % (path, error.strerror or error)) from None
    finally:
        try:
            os.unlink(temporary)
        except OSError:
            pass
    return text
