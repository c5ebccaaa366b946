import pytest

from controller.entrystore import EntryStore
from controller.switches import SwitchRegistry
from rest import floodlight as fl

pytestmark = pytest.mark.unit


def entry(name, switch='00:00:00:00:00:00:00:01', **doc):
    return fl.parse_entry(dict({"switch": switch, "name": name}, **doc), fl.DIALECT_V1)


def test_store_keeps_requests_across_reopen(tmp_path):
    path = str(tmp_path / 'db' / 'flows.sqlite3')
    store = EntryStore(path)
    store.save(entry('a', actions='output=1'), '1.x')
    store.save(entry('b', switch='ff:ff:ff:ff:ff:ff:ff:ff'), '0.9x')
    store.save(entry('a', actions='output=2'), '1.x')     # replace
    store.close()
    store = EntryStore(path)
    assert sorted((d, r['name'], r.get('actions')) for d, r in store.load()) == [
        ('0.9x', 'b', None), ('1.x', 'a', 'output=2')]
    store.clear(0xffffffffffffffff)
    store.delete('a')
    assert store.load() == []


class Handle:
    pass


def test_registry_newer_session_replaces_older():
    registry = SwitchRegistry()
    first, second = Handle(), Handle()
    assert registry.connect(1, first, '127.0.0.1:1000', 10.0) is None
    replaced = registry.connect(1, second, '127.0.0.1:2000', 11.0)
    assert replaced.handle is first
    assert not registry.disconnect(1, first)        # the replaced session's end changes nothing
    assert registry.get(1).remote == '127.0.0.1:2000'
    assert registry.disconnect(1, second)
    assert registry.all() == []
