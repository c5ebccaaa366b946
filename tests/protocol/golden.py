"""Floodlight's recorded replies (tests/fixtures/floodlight/<version>/<file>), read for the shape tests, and the
shape comparison they share: the same keys and the same JSON value types, not the same values."""
import json
import pathlib
import re

CAPTURES = pathlib.Path(__file__).resolve().parents[1] / 'fixtures' / 'floodlight'

# Keys that are data, not names: DPIDs (colon form or as a URL wrote them), Java dates, MACs, IP addresses,
# numbers, Java class names (the module lists). An object whose keys all look so is a map: its values are
# compared, not its keys.
_DATA_KEY = re.compile(r'^([0-9a-f]{2}(:[0-9a-f]{2}){5,7}(:0x0)?([_/].*)?|\d+|[A-Z][a-z]{2} [A-Z][a-z]{2} .* \d{4}'
                       r'|\d+\.\d+\.\d+\.\d+|[0-9a-f]{16}|(net|org)\.[\w.]+)$')
# Objects whose keys are data though they read as names: Floodlight 1.x's flow match (one key per matched field).
_MAP_FIELDS = ('match',)


def capture_body(name):
    """The JSON body Floodlight answered in capture `name` ('v1.2/043_topo_enabledports_json.txt')."""
    text = (CAPTURES / name).read_text()
    return json.loads(text.split('\n\n', 1)[1])


def _kind(value):
    if isinstance(value, bool):
        return 'boolean'
    if isinstance(value, (int, float)):
        return 'number'
    if isinstance(value, str):
        return 'string'
    if isinstance(value, list):
        return 'array'
    if isinstance(value, dict):
        return 'object'
    return 'null'


def _is_map(value, where=''):
    if not isinstance(value, dict):
        return False
    if where.rsplit('.', 1)[-1] in _MAP_FIELDS and 'wildcards' not in value:  # 0.9x's match is a fixed bean
        return True
    return bool(value) and all(_DATA_KEY.match(key) for key in value)


def shape_differences(ours, theirs, where='$', extra_keys=False):
    """[difference, ...] between two JSON values' shapes: object keys (a map's keys, see _DATA_KEY, are data and
    only its values count), value types; each element of our array (value of our map) must have the shape of one
    of theirs. A null
    of theirs (a value Floodlight did not know) takes any value. extra_keys: ours may add keys (a superset)."""
    if theirs is None:
        return []
    if _kind(ours) != _kind(theirs):
        return ['%s: %s here, %s in Floodlight\'s (%s)' % (where, _kind(ours), _kind(theirs), json.dumps(theirs)[:80])]
    if isinstance(theirs, list):
        if not ours or not theirs:
            return []
        out = []
        for index, item in enumerate(ours):
            options = [shape_differences(item, one, '%s[%d]' % (where, index), extra_keys) for one in theirs]
            if all(options):
                out.extend(min(options, key=len))
        return out
    if isinstance(theirs, dict):
        if not theirs:  # Floodlight's {} (nothing kept) says nothing of the keys
            return []
        if _is_map(theirs, where) or (not theirs and _is_map(ours, where)):
            if not ours or not theirs:
                return []
            out = []
            for key, value in ours.items():
                options = [shape_differences(value, one, '%s.%s' % (where, key), extra_keys) for one in theirs.values()]
                if all(options):
                    out.extend(min(options, key=len))
            return out
        out = []
        missing = set(theirs) - set(ours)
        added = set(ours) - set(theirs)
        if missing:
            out.append('%s: keys missing here: %s' % (where, sorted(missing)))
        if added and not extra_keys:
            out.append('%s: keys Floodlight did not have: %s' % (where, sorted(added)))
        for key in set(ours) & set(theirs):
            out.extend(shape_differences(ours[key], theirs[key], '%s.%s' % (where, key), extra_keys))
        return out
    return []


def assert_same_shape(ours, theirs, extra_keys=False):
    differences = shape_differences(ours, theirs, extra_keys=extra_keys)
    assert not differences, '\n'.join(differences)
