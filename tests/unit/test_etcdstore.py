"""The etcd store's pure parts: --store URLs, key ranges, and which watched changes are another instance's."""
import json

import pytest

from controller import etcd_client, etcdstore
from controller.etcd_client import Event, b64

pytestmark = pytest.mark.unit


def test_store_urls():
    client, prefix = etcdstore.connect('etcd://h1:2379,h2:2380,[::1]:2381')
    assert client.endpoints == [('h1', 2379), ('h2', 2380), ('::1', 2381)] and prefix == '/ofc/'
    client, prefix = etcdstore.connect('etcd://h1/cluster-7/')
    assert client.endpoints == [('h1', 2379)] and prefix == '/cluster-7/'
    assert client.url == 'etcd://h1:2379'
    assert etcdstore.is_etcd('etcd://h1') and not etcdstore.is_etcd('sqlite')
    for bad in ('etcd://', 'etcd://h1:port'):
        with pytest.raises(ValueError):
            etcdstore.connect(bad)


def test_prefix_end_covers_exactly_the_prefix():
    assert etcd_client.prefix_end('/ofc/entries/') == b'/ofc/entries0'
    assert etcd_client.prefix_end(b'a\xff') == b'b'
    assert etcd_client.prefix_end(b'\xff') == b'\0'  # every key


def event(kind, name, revision, request=None, dpid=1):
    kv = {'key': b64('/ofc/entries/' + name), 'mod_revision': str(revision), 'create_revision': str(revision)}
    if request is not None:
        kv['value'] = b64(json.dumps({'dialect': 'floodlight', 'dpid': dpid, 'request': json.dumps(request)}))
    return Event({'type': kind, 'kv': kv} if kind == 'DELETE' else {'kv': kv})


def test_own_writes_and_older_changes_are_skipped_others_delivered_in_order():
    store = etcdstore.EtcdEntryStore(etcd_client.EtcdClient([('h', 1)]))
    store._own['mine'] = 10  # this instance wrote 'mine' at revision 10 (what save_all records)
    rows, deleted = store.changes([
        event('PUT', 'mine', 9, {'name': 'mine', 'v': 'older'}),     # before this instance's write: stale
        event('PUT', 'mine', 10, {'name': 'mine', 'v': 'own echo'}),
        event('PUT', 'theirs', 11, {'name': 'theirs'}),
        event('DELETE', 'gone', 12),
        event('PUT', 'gone', 13, {'name': 'gone', 'v': 'again'}),    # deleted then put back: put
        event('PUT', 'mine', 14, {'name': 'mine', 'v': 'theirs now'}),
    ])
    assert [r[1] for r in rows] == [{'name': 'theirs'}, {'name': 'gone', 'v': 'again'},
                                    {'name': 'mine', 'v': 'theirs now'}]
    assert deleted == []
    rows, deleted = store.changes([event('DELETE', 'theirs', 15)])
    assert (rows, deleted) == ([], ['theirs'])


def test_an_unreadable_value_is_reported_and_skipped():
    store = etcdstore.EtcdEntryStore(etcd_client.EtcdClient([('h', 1)]))
    bad = Event({'kv': {'key': b64('/ofc/entries/x'), 'value': b64('not json'), 'mod_revision': '3'}})
    seen = []
    assert store.changes([bad], lambda name, error: seen.append(name)) == ([], [])
    assert seen == ['x']


def test_the_echo_of_a_put_still_in_flight_is_not_another_instances_push():
    store = etcdstore.EtcdEntryStore(etcd_client.EtcdClient([('h', 1)]))
    store._in_flight['x'] = json.dumps({'name': 'x'})  # what save_all marks while its txn is out
    rows, _ = store.changes([event('PUT', 'x', 5, {'name': 'x'})])
    assert rows == []
    rows, _ = store.changes([event('PUT', 'x', 6, {'name': 'x', 'v': 'another instance'})])
    assert [r[1] for r in rows] == [{'name': 'x', 'v': 'another instance'}]
