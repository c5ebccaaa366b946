"""Floodlight's recorded replies (tests/fixtures/floodlight/<version>/<file>), read for the shape tests."""
import json
import pathlib

CAPTURES = pathlib.Path(__file__).resolve().parents[1] / 'fixtures' / 'floodlight'


def capture_body(name):
    """The JSON body Floodlight answered in capture `name` ('v1.2/043_topo_enabledports_json.txt')."""
    text = (CAPTURES / name).read_text()
    return json.loads(text.split('\n\n', 1)[1])
