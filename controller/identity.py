"""Who may speak for a switch: allowed address ranges (--ofp-allow) and the certificate bound to each DPID
(--ofp-switch-certs), and the rate limit of the lines refusing them. Pure: the glue (apps/switches.py) passes
addresses, certificates and `now`.

The bindings file has one line per DPID and certificate (several lines for one DPID allow a certificate change):

    # DPID                    certificate
    00:00:00:00:00:00:72:01   sha256:63:2F:98:DC:...       (`openssl x509 -noout -fingerprint -sha256 -in CERT`;
    0000000000007202          sha256 Fingerprint=63:2F:...  its output line is accepted as printed)
    00:00:00:00:00:00:72:03   CN=sw id:3186c489-...        (the subject's common name, whole)

A DPID with no line is refused while the file is set: a valid certificate speaks only for the DPIDs bound to it.
"""
import hashlib
import ipaddress

from controller.dpid import DpidError, format_dpid, parse_dpid


class IdentityConfigError(ValueError):
    """--ofp-allow or --ofp-switch-certs cannot be used as given: the controller does not start."""


# --- address ranges ------------------------------------------------------------------------------------------

def parse_networks(values):
    """--ofp-allow's values ('10.0.0.0/8', '::1', ...) -> a tuple of ip_network. An address without a prefix
    length is that one address; host bits set in a range are ignored (10.1.2.3/8 is 10.0.0.0/8)."""
    networks = []
    for value in values:
        text = value.strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise IdentityConfigError('--ofp-allow: %r is not an address range (expected e.g. 10.0.0.0/8, '
                                      '192.0.2.7 or fd00::/8)' % text) from None
    return tuple(networks)


def address_allowed(networks, host):
    """Whether a peer at `host` (the address text the socket reports) may connect. No ranges: everyone may.
    An IPv4 peer on a dual-stack IPv6 listener shows as ::ffff:a.b.c.d and is checked as a.b.c.d too."""
    if not networks:
        return True
    try:
        address = ipaddress.ip_address(host.split('%', 1)[0])  # fe80::1%eth0: the zone is not part of it
    except ValueError:
        return False
    candidates = [address]
    if address.version == 6 and address.ipv4_mapped is not None:
        candidates.append(address.ipv4_mapped)
    return any(candidate in network for candidate in candidates for network in networks
               if candidate.version == network.version)


# --- certificate bindings ------------------------------------------------------------------------------------

FINGERPRINT_PREFIXES = ('sha256 fingerprint=', 'sha256:')
CN_PREFIX = 'cn='


def parse_switch_certs(text, source='--ofp-switch-certs'):
    """The bindings file's text -> {dpid: frozenset of 'sha256:<64 lowercase hex>' and 'CN=<name>'}."""
    bindings = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith('#'):
            continue
        dpid_text, _, certificate = line.partition(' ')
        certificate = certificate.strip()
        where = '%s line %d' % (source, number)
        try:
            dpid = parse_dpid(dpid_text)
        except DpidError as error:
            raise IdentityConfigError('%s: %s' % (where, error)) from None
        bindings.setdefault(dpid, set()).add(_certificate_key(certificate, where))
    return {dpid: frozenset(keys) for dpid, keys in bindings.items()}


def load_switch_certs(path):
    try:
        with open(path, encoding='utf-8') as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as error:
        raise IdentityConfigError('cannot read --ofp-switch-certs file %s: %s' % (path, error)) from None
    return parse_switch_certs(text, path)


def _certificate_key(certificate, where):
    lowered = certificate.lower()
    for prefix in FINGERPRINT_PREFIXES:
        if lowered.startswith(prefix):
            digits = lowered[len(prefix):].strip().replace(':', '')
            if len(digits) != 64 or any(c not in '0123456789abcdef' for c in digits):
                raise IdentityConfigError('%s: %r is not a SHA-256 fingerprint (64 hex digits, colons optional)'
                                          % (where, certificate))
            return 'sha256:' + digits
    if lowered.startswith(CN_PREFIX) and certificate[len(CN_PREFIX):].strip():
        return 'CN=' + certificate[len(CN_PREFIX):].strip()
    raise IdentityConfigError('%s: expected "DPID sha256:<fingerprint>" or "DPID CN=<common name>", not %r'
                              % (where, certificate))


def fingerprint(der):
    """A certificate's (DER bytes) SHA-256 fingerprint as the bindings file spells it."""
    return 'sha256:' + hashlib.sha256(der).hexdigest()


def common_name(subject):
    """The CN of a subject as ssl.SSLSocket.getpeercert() gives it (((('commonName', 'x'),), ...)), or None."""
    for rdn in subject or ():
        for name, value in rdn:
            if name == 'commonName':
                return value
    return None


def certificate_refusal(bindings, dpid, der, subject):
    """None when the peer's certificate (DER bytes and getpeercert()'s subject) is bound to `dpid`, else why
    the session is refused (one sentence for the log line)."""
    if der is None:
        return 'it presented no certificate'
    keys = bindings.get(dpid)
    if not keys:
        return 'no certificate is bound to DPID %s in --ofp-switch-certs' % format_dpid(dpid)
    presented = fingerprint(der)
    name = common_name(subject)
    if presented in keys or (name is not None and 'CN=' + name in keys):
        return None
    return 'its certificate (%s, CN=%s) is not the one bound to DPID %s' % (presented, name, format_dpid(dpid))


# --- the rate limit of refusal lines -------------------------------------------------------------------------

class LineLimiter:
    """At most one log line per key (a peer's address, a DPID) per `interval` seconds; the next line allowed
    says how many were held back meanwhile. Keeps at most `max_keys` keys (the oldest go first), so a scan from
    many addresses cannot grow it without bound."""

    def __init__(self, interval=10.0, max_keys=1024):
        self.interval = interval
        self.max_keys = max_keys
        self._keys = {}  # key -> [time of the last line, lines held back since]

    def allow(self, key, now):
        """-> None to stay silent, else the number of lines held back since the last one for this key."""
        state = self._keys.get(key)
        if state is not None and now - state[0] < self.interval:
            state[1] += 1
            return None
        held = state[1] if state is not None else 0
        self._keys.pop(key, None)
        self._keys[key] = [now, 0]
        while len(self._keys) > self.max_keys:
            del self._keys[next(iter(self._keys))]
        return held
