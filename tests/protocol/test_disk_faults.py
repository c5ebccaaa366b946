"""Faults of the disk are not network outages: a full disk (a small tmpfs filled up), a store read-only at start
(a read-only bind mount), a damaged database file, --durability full and --max-entries, against a real
controller and an emulated switch. Needs root (mount); every mount is undone in a finally."""
import contextlib
import errno
import glob
import json
import os
import sqlite3
import subprocess
import time

import pytest
from ryu.ofproto import ofproto_v1_0 as ofp

from tests.lib.controller import ControllerProcess, wait_for
from tests.protocol.helpers import colon_dpid, delete, list_entries, push, push_ok
from tests.unit.test_storefaults import corrupt_page_holding

pytestmark = [pytest.mark.protocol,
              pytest.mark.skipif(os.geteuid() != 0, reason='mounts a tmpfs and a read-only bind mount: root only')]

DPID = 0x0000000000000d15
NX_ROLE_MASTER, NX_ROLE_SLAVE = 1, 2
HEALTH_URL = '/wm/core/health/json'
ROLE_URL = '/wm/core/switch/all/role/json'
FIREWALL_RULES_URL = '/wm/firewall/rules/json'
FIREWALL_RULE = {'action': 'DENY', 'priority': '5', 'src-ip': '10.0.0.9/32'}


def entry(index, dpid=DPID):
    return {'switch': colon_dpid(dpid), 'name': 'disk-%04d' % index, 'priority': str(1000 + index),
            'eth_type': '0x0800', 'ipv4_dst': '10.13.%d.%d' % (index // 256, index % 256),
            'actions': 'output=%d' % (index % 3 + 1)}


def names(controller):
    return {name for item in list_entries(controller).get(colon_dpid(DPID), []) for name in item}


def health(controller):
    status, text, _ = controller.get(HEALTH_URL)
    return status, json.loads(text)


def faulty_components(controller):
    status, body = health(controller)
    return {reason['component']: reason['reason'] for reason in body.get('reasons', [])} if status == 503 else {}


@contextlib.contextmanager
def mounted(*args):
    """mount(8) with `args` (the last one is the mount point) for the block; unmounted (lazily if busy) after."""
    subprocess.run(['mount'] + list(args), check=True)
    try:
        yield args[-1]
    finally:
        if subprocess.run(['umount', args[-1]]).returncode != 0:
            subprocess.run(['umount', '-l', args[-1]], check=True)


def fill(directory):
    """Write a file into `directory` until its file system is full -> the file's path."""
    path = os.path.join(directory, 'filler')
    with open(path, 'wb', buffering=0) as handle:
        try:
            while True:
                handle.write(b'\0' * 65536)
        except OSError as error:
            assert error.errno == errno.ENOSPC
    with open(path, 'ab', buffering=0) as handle:  # the last partial block too
        try:
            while True:
                handle.write(b'\0' * 512)
        except OSError:
            pass
    return path


def flow_mod_names(peer, since=0):
    """The entry priorities (-1000: the index) of the ADD flow-mods the switch received since `since`."""
    return {fm.priority - 1000 for fm in peer.received(ofp.OFPT_FLOW_MOD, since=since)
            if fm.command == ofp.OFPFC_ADD}


def test_a_full_disk_answers_507_keeps_the_only_instance_master_and_recovers(start_controller, connect_peer,
                                                                               tmp_path):
    disk = tmp_path / 'disk'
    disk.mkdir()
    with mounted('-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', str(disk)):
        controller = start_controller(db_path=str(disk / 'flows.sqlite3'))
        try:
            for index in range(20):
                push_ok(controller, entry(index))
            peer = connect_peer(controller, DPID)
            wait_for(lambda: peer.role == NX_ROLE_MASTER, 5, what='the switch asked for MASTER')
            filler = fill(str(disk))

            statuses, refused = [], []
            for index in range(20, 2020):  # the WAL may still take a few commits in space it already holds
                status, text, _ = push(controller, entry(index))
                statuses.append(status)
                if status == 507:
                    refused.append(index)
                    reason = json.loads(text)['reason']
                    if len(refused) == 50:
                        break
            assert len(refused) == 50, 'no 507 after %d pushes on a full disk: %s' % (len(statuses),
                                                                                   sorted(set(statuses)))
            assert 'disk is full' in reason and str(disk) in reason, reason
            accepted = {20 + i for i, status in enumerate(statuses) if status == 200}
            assert names(controller) == {'disk-%04d' % i for i in set(range(20)) | accepted}
            assert 'store' in faulty_components(controller)
            assert not flow_mod_names(peer) & set(refused), 'a refused entry reached the switch'
            status, text, _ = delete(controller, 'disk-0000')
            # a delete needs a page too, unless SQLite finds room in the WAL: never a 500, never half done
            assert status in (200, 507), (status, text)
            kept = names(controller)

            # Beyond the ~8 s after which the only instance used to demote itself: still master everywhere.
            started = time.monotonic()
            while time.monotonic() - started < 10:
                assert peer.role == NX_ROLE_MASTER, peer.dump()
                time.sleep(0.5)
            status, text, _ = controller.get(ROLE_URL)
            assert json.loads(text) == {colon_dpid(DPID): 'MASTER'}, text
            assert not [m for m in peer.received(ofp.OFPT_VENDOR) if getattr(m, 'role', None) == NX_ROLE_SLAVE]
            lease_fault = faulty_components(controller).get('mastership-store')

            # A switch that reconnects while the disk is full gets every stored entry.
            peer.close()
            again = connect_peer(controller, DPID)
            wait_for(lambda: len(again.flow_table()) == len(kept), 10, what='every stored entry on the switch')
            assert {fm.priority - 1000 for fm in again.flow_table().values()} == {
                int(name.split('-')[1]) for name in kept}
            assert again.role == NX_ROLE_MASTER

            os.remove(filler)
            push_ok(controller, entry(3000))
            wait_for(lambda: not faulty_components(controller), 5, what='health clear once the disk has room')
            again.wait_for_message(ofp.OFPT_FLOW_MOD, where=lambda fm: fm.priority == 4000)
            log = controller.log()
            lines = [line for line in log.splitlines() if 'cannot be written' in line]
            # 50+ refused pushes in well under 10 s: one line for the entry store (with repeats counted in the
            # next one, if any), one for the lease file
            assert 1 <= len([line for line in lines if 'entry store' in line]) <= 3, lines
            print('full disk: %d pushes accepted into the WAL after the disk filled, %d refused; lease store %s'
                  % (len(accepted), len(refused), 'failed too: %s' % lease_fault if lease_fault else 'kept up'))
        finally:
            controller.stop()


def test_a_read_only_store_at_start_installs_its_entries_and_recovers_once_writable(start_controller, connect_peer,
                                                                                   tmp_path):
    data, view = tmp_path / 'data', tmp_path / 'view'
    data.mkdir()
    view.mkdir()
    first = start_controller(db_path=str(data / 'flows.sqlite3'))
    for index in range(5):
        push_ok(first, entry(index))
    first.stop()
    with mounted('--bind', str(data), str(view)):
        subprocess.run(['mount', '-o', 'remount,bind,ro', str(view)], check=True)
        controller = start_controller(db_path=str(view / 'flows.sqlite3'))
        try:
            peer = connect_peer(controller, DPID)
            wait_for(lambda: len(peer.flow_table()) == 5, 5, what='the 5 stored entries on the switch')
            wait_for(lambda: peer.role == NX_ROLE_MASTER, 5, what='the switch asked for MASTER')
            status, text, _ = push(controller, entry(5))
            assert status == 503 and 'read-only' in json.loads(text)['reason'], (status, text)
            status, text, _ = delete(controller, 'disk-0000')
            assert status == 503, (status, text)
            status, text, _ = controller.get('/wm/staticflowpusher/clear/all/json')
            assert status == 503, (status, text)
            assert names(controller) == {'disk-%04d' % i for i in range(5)}
            assert len(peer.flow_table()) == 5
            assert set(faulty_components(controller)) >= {'store'}
            # the firewall's rules share the file: refused the same way, on the board under their own name
            status, text, _ = controller.post(FIREWALL_RULES_URL, json.dumps(FIREWALL_RULE))
            assert status == 503 and 'read-only' in json.loads(text)['reason'], (status, text)
            assert 'firewall-store' in faulty_components(controller)
            assert json.loads(controller.get(FIREWALL_RULES_URL)[1]) == []

            subprocess.run(['mount', '-o', 'remount,bind,rw', str(view)], check=True)
            wait_for(lambda: push(controller, entry(5))[0] == 200, 10, what='a push once the store is writable')
            status, text, _ = controller.post(FIREWALL_RULES_URL, json.dumps(FIREWALL_RULE))
            assert status == 200, (status, text)
            wait_for(lambda: not faulty_components(controller), 10, what='health clear')
            peer.wait_for_message(ofp.OFPT_FLOW_MOD, where=lambda fm: fm.priority == 1005)
            assert delete(controller, 'disk-0000')[0] == 200
        finally:
            controller.stop()
    assert peer.role == NX_ROLE_MASTER


def test_a_damaged_database_stops_the_start_unless_recovered(start_controller, tmp_path):
    db_path = str(tmp_path / 'flows.sqlite3')
    first = start_controller(db_path=db_path)
    for index in range(300):
        push_ok(first, entry(index))
    first.stop()
    with sqlite3.connect(db_path) as db:  # everything in the main file, nothing left in a WAL
        db.execute('PRAGMA wal_checkpoint(TRUNCATE)')
    corrupt_page_holding(db_path, b'"10.13.0.150"')

    refused = ControllerProcess(tmp_path, db_path=db_path)
    with pytest.raises(AssertionError, match='controller exited with 2'):
        refused.start()
    log = refused.log()
    assert 'Traceback' not in log
    assert [line for line in log.splitlines() if db_path in line and 'damaged' in line
            and '--staticflow-db-recover' in line], log

    second = start_controller(db_path=db_path, extra_args=['--staticflow-db-recover'])
    kept = names(second)
    assert 250 < len(kept) < 300 and 'disk-0150' not in kept and {'disk-0000', 'disk-0299'} <= kept
    copies = glob.glob(db_path + '.damaged-*')
    assert [path for path in copies if not path.endswith(('-wal', '-shm'))], copies
    assert '%d rows kept' % len(kept) in second.log()
    push_ok(second, entry(150))  # the fresh file takes writes
    print('damaged page: %d of 300 rows kept' % len(kept))


def test_rows_that_do_not_parse_are_skipped_and_the_rest_restored(start_controller):
    first = start_controller()
    for index in range(5):
        push_ok(first, entry(index))
    first.stop()
    with sqlite3.connect(first.db_path) as db:
        db.execute("UPDATE static_flow_entries SET request = '{\"name\": tru' WHERE name = 'disk-0001'")
        db.execute("UPDATE static_flow_entries SET dialect = '7.x' WHERE name = 'disk-0003'")
    second = start_controller(db_path=first.db_path)
    assert names(second) == {'disk-0000', 'disk-0002', 'disk-0004'}
    log = second.log()
    assert len([line for line in log.splitlines() if "'disk-0001'" in line]) == 1, log
    assert len([line for line in log.splitlines() if "'disk-0003'" in line and 'unknown dialect' in line]) == 1


def syncs_during_pushes(controller, count):
    """fsync/fdatasync calls the controller makes while `count` pushes are answered (strace)."""
    trace = os.path.join(controller.workdir, 'strace-%d.txt' % controller.rest_port)
    tracer = subprocess.Popen(['strace', '-f', '-qq', '-e', 'trace=fsync,fdatasync', '-o', trace,
                               '-p', str(controller.proc.pid)], stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)  # attached
        for index in range(count):
            push_ok(controller, entry(index))
        time.sleep(0.3)
    finally:
        tracer.terminate()
        tracer.wait(10)
    with open(trace) as handle:
        return len([line for line in handle if 'sync(' in line])


@pytest.mark.skipif(not os.path.exists('/usr/bin/strace'), reason='counts fsyncs with strace')
def test_durability_full_syncs_every_commit(start_controller):
    normal = start_controller()
    full = start_controller(db_path=os.path.join(normal.workdir, 'full.sqlite3'), extra_args=['--durability', 'full'])
    normal_syncs, full_syncs = syncs_during_pushes(normal, 30), syncs_during_pushes(full, 30)
    assert full_syncs >= 30 and normal_syncs < 10, (normal_syncs, full_syncs)
    assert 'durability full' in full.log()
    print('fsyncs for 30 pushes: durability normal %d, full %d' % (normal_syncs, full_syncs))


def test_max_entries_refuses_new_entries_past_the_cap(start_controller, connect_peer):
    controller = start_controller(extra_args=['--max-entries', '3'])
    peer = connect_peer(controller, DPID)
    for index in range(3):
        push_ok(controller, entry(index))
    mark = peer.mark()
    status, text, _ = push(controller, entry(3))
    assert status == 507 and '--max-entries' in json.loads(text)['reason'], (status, text)
    replaced = dict(entry(1), actions='output=3')
    push_ok(controller, replaced)  # replacing by name is allowed
    assert names(controller) == {'disk-0000', 'disk-0001', 'disk-0002'}
    assert delete(controller, 'disk-0002')[0] == 200
    push_ok(controller, entry(3))
    peer.wait_for_message(ofp.OFPT_FLOW_MOD, since=mark, where=lambda fm: fm.priority == 1003)
    assert 1003 in {fm.priority for fm in peer.flow_table().values()}
