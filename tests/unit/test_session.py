"""The session's writer (apps/session.py): in order, never blocking, and never into someone else's socket."""
import socket

import pytest

from apps import ryu_compat

ryu_compat.apply_all()

from apps.session import Writer  # noqa: E402

pytestmark = pytest.mark.unit


def test_writes_in_order_and_corked_writes_leave_together():
    ours, theirs = socket.socketpair()
    with ours, theirs:
        writer = Writer(ours)
        writer.write(b'one')
        writer.corked = True
        writer.write(b'two')
        writer.write(b'three')
        assert writer.pending == [b'two', b'three']
        writer.uncork()
        theirs.settimeout(1)
        assert theirs.recv(100) == b'onetwothree'
        assert writer.pending == []


def test_a_closed_session_never_writes_into_the_connection_that_reuses_its_descriptor():
    ours, theirs = socket.socketpair()
    writer = Writer(ours)
    number = ours.fileno()
    ours.close()
    theirs.close()
    reuser, reader = socket.socketpair()
    with reuser, reader:
        assert number in (reuser.fileno(), reader.fileno())  # the kernel hands out the lowest free number
        writer.write(b'late flow-mod')
        reader.setblocking(False)
        reuser.setblocking(False)
        for sock in (reader, reuser):
            with pytest.raises(BlockingIOError):
                sock.recv(100)
