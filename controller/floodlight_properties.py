"""A Floodlight `.properties` file (floodlightdefault.properties, or the one `-cf FILE` named) read into our settings.

`ryu-manager controller.apps --floodlight-properties FILE`: apps/manager.py calls `command_line_flags(path)`
before ryu-manager parses its command line and puts the flags it returns ahead of the user's own, so a flag given
on the command line still wins over the file. docs/migrating-from-floodlight.md walks through it.

`parse(text)` reads Java's properties syntax (java.util.Properties.load: `key=value`, `key: value` and `key value`,
`#` and `!` comments, a backslash at the end of a line continuing it, escapes `\\t \\n \\uXXXX`); `translate(props)`
maps the keys Floodlight 0.90, 0.91 and 1.x read (module class name + "." + key; checked against their sources) to
our options and says which keys it ignored. A value that cannot be used raises PropertiesError naming the key and
the value. Pure: no Ryu, no logging.
"""
import ipaddress
import re
import typing

PROVIDERS = ('net.floodlightcontroller.core.internal.FloodlightProvider',  # 0.91, 1.x
             'net.floodlightcontroller.core.FloodlightProvider')  # 0.90
REST = 'net.floodlightcontroller.restserver.RestApiServer'
FORWARDING = 'net.floodlightcontroller.forwarding.Forwarding'
LINK_DISCOVERY = 'net.floodlightcontroller.linkdiscovery.internal.LinkDiscoveryManager'
FIREWALL = 'net.floodlightcontroller.firewall.Firewall'
STATISTICS = 'net.floodlightcontroller.statistics.StatisticsCollector'
MODULES = 'floodlight.modules'

# floodlight.modules entries that turn one of our options on when listed and off when not.
MODULE_SWITCHES = {FORWARDING: 'forwarding', LINK_DISCOVERY: 'link-discovery', FIREWALL: 'firewall'}


class PropertiesError(ValueError):
    """A key whose value cannot be used; the message names both (one line for the operator)."""

    def __init__(self, key, value, why):
        super().__init__('%s=%s in the Floodlight properties file: %s' % (key, value, why))
        self.key = key
        self.value = value


class Translation(typing.NamedTuple):
    settings: dict   # option name (our flag without --) -> value (str, int or bool), in the file's order
    used: list       # keys that set something
    ignored: list    # keys read and not used (what Floodlight did with them has no counterpart here)


# --- Java's properties syntax -------------------------------------------------------------------------------

_ESCAPES = {'t': '\t', 'n': '\n', 'r': '\r', 'f': '\f'}


def _logical_lines(text):
    """(line number, text) of each logical line: comments and blank lines dropped, continuations joined (the
    continuation's leading whitespace dropped, as Java does)."""
    pending, start = None, 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.lstrip(' \t\f')
        if pending is None:
            if not line or line[0] in '#!':
                continue
            start = number
        trailing = len(line) - len(line.rstrip('\\'))
        continued = trailing % 2 == 1
        piece = line[:-1] if continued else line
        pending = piece if pending is None else pending + piece
        if not continued:
            yield start, pending
            pending = None
    if pending is not None:
        yield start, pending


_ESCAPE = re.compile(r'\\(u[0-9a-fA-F]{4}|u|.)', re.DOTALL)


def _unescape(text, number):
    """Java's escapes: \\t \\n \\r \\f, \\uXXXX, and a backslash before any other character is that character."""
    def one(found):
        escape = found.group(1)
        if escape == 'u':
            raise PropertiesError('line %d' % number, text, 'malformed \\uXXXX escape')
        if escape[0] == 'u':
            return chr(int(escape[1:], 16))
        return _ESCAPES.get(escape, escape)
    return _ESCAPE.sub(one, text)


def _split(line):
    """A logical line -> (raw key, raw value): the key ends at the first unescaped '=', ':' or whitespace; then
    whitespace, at most one '=' or ':', whitespace."""
    i = 0
    while i < len(line):
        char = line[i]
        if char == '\\':
            i += 2
            continue
        if char in '=: \t\f':
            break
        i += 1
    key, rest = line[:i], line[i:].lstrip(' \t\f')
    if rest[:1] in ('=', ':'):
        rest = rest[1:].lstrip(' \t\f')
    return key, rest


def parse(text):
    """-> {key: value} of a properties file's text (a key given twice: the last one, as Java)."""
    props = {}
    for number, line in _logical_lines(text):
        key, value = _split(line)
        props[_unescape(key, number)] = _unescape(value, number)
    return props


# --- Floodlight's keys -> our options -----------------------------------------------------------------------

def _port(key, value):
    try:
        port = int(value.strip())
    except ValueError:
        raise PropertiesError(key, value, 'not a port number') from None
    if not 1 <= port <= 65535:
        raise PropertiesError(key, value, 'a port is 1-65535')
    return port


def _address(key, value):
    value = value.strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        if value == 'localhost':
            return value
        raise PropertiesError(key, value, 'not an IP address') from None


def _uint16(key, value, what):
    try:
        number = int(value.strip())
    except ValueError:
        raise PropertiesError(key, value, 'not a number (%s)' % what) from None
    if not 0 <= number <= 65535:
        raise PropertiesError(key, value, '%s is 0-65535' % what)
    return number


def _yes_no(key, value):
    """Floodlight's booleans: YES/NO, TRUE/FALSE, any case."""
    word = value.strip().lower()
    if word in ('yes', 'true'):
        return True
    if word in ('no', 'false'):
        return False
    raise PropertiesError(key, value, 'expected YES/NO or TRUE/FALSE')


def _key(props, module_names, *names):
    """The first of `names` under any of `module_names` that the file has -> (full key, value) or (None, None)."""
    for name in names:
        for module in module_names:
            full = '%s.%s' % (module, name)
            if full in props:
                return full, props[full]
    return None, None


def translate(props):
    """{key: value} of a Floodlight properties file -> Translation. Raises PropertiesError."""
    settings, used = {}, []

    def take(full, option, value):
        used.append(full)
        settings[option] = value

    key, value = _key(props, PROVIDERS, 'openFlowPort', 'openflowport')  # 1.x, 0.9x
    if key:
        take(key, 'ofp-tcp-listen-port', _port(key, value))
    key, value = _key(props, PROVIDERS, 'openFlowAddresses')  # 1.x: one IPv4 address
    if key:
        take(key, 'ofp-listen-host', _address(key, value))
    key, value = _key(props, (REST,), 'httpPort', 'port')  # 1.x, 0.9x
    if key:
        take(key, 'wsapi-port', _port(key, value))
    key, value = _key(props, (REST,), 'host')
    fallback, fallback_value = _key(props, PROVIDERS, 'openflowhost')  # Floodlight's REST host when host is unset
    if key:
        take(key, 'wsapi-host', _address(key, value))
    elif fallback:
        take(fallback, 'wsapi-host', _address(fallback, fallback_value))
    key, value = _key(props, (FORWARDING,), 'idle-timeout', 'idletimeout')  # 1.x, 0.90
    if key:
        take(key, 'forwarding-idle-timeout', _uint16(key, value, 'an idle timeout in seconds'))
    key, value = _key(props, (FORWARDING,), 'hard-timeout', 'hardtimeout')
    if key:
        if _uint16(key, value, 'a hard timeout in seconds') != 0:
            raise PropertiesError(key, value, 'forwarding flows here have no hard timeout (0, Floodlight\'s '
                                              'default); they expire when idle (idle-timeout)')
        used.append(key)
    key, value = _key(props, (FORWARDING,), 'priority')
    if key:
        take(key, 'forwarding-priority', _uint16(key, value, 'a priority'))
    key, value = _key(props, (STATISTICS,), 'enable')
    if key:
        take(key, 'statistics-collection', _yes_no(key, value))
    key, value = _key(props, (STATISTICS,), 'collectionIntervalPortStatsSeconds')
    if key:
        seconds = _uint16(key, value, 'seconds')
        if seconds < 1:
            raise PropertiesError(key, value, 'at least 1 second')
        take(key, 'statistics-interval', float(seconds))
    if MODULES in props:
        modules = {name.strip() for name in props[MODULES].split(',') if name.strip()}
        used.append(MODULES)
        for module, option in MODULE_SWITCHES.items():
            settings[option] = module in modules
        if STATISTICS not in modules:
            settings['statistics-collection'] = False
    ignored = [key for key in props if key not in used]
    return Translation(settings, used, ignored)


def flags(settings):
    """Translation.settings -> ryu-manager flags (oslo.config's spelling: --noNAME for a false boolean)."""
    out = []
    for option, value in settings.items():
        if isinstance(value, bool):
            out.append('--%s%s' % ('' if value else 'no', option))
        else:
            out.extend(['--' + option, str(value)])
    return out


def read(path):
    """-> Translation of the file at `path`. Raises PropertiesError (also for a file that cannot be read)."""
    try:
        with open(path, encoding='latin-1') as handle:  # Java reads .properties as ISO 8859-1
            text = handle.read()
    except OSError as error:
        raise PropertiesError('--floodlight-properties', path, error.strerror or str(error)) from None
    return translate(parse(text))
