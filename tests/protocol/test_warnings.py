"""No DeprecationWarning from our code, on each supported Python (3.11, 3.12, 3.13; `make test` runs this tier on
each).

In the test process, setup.cfg's `filterwarnings` turns a DeprecationWarning raised in, or attributed to, our
modules into an error. The controller is a subprocess: tests/lib/controller.py starts it with
PYTHONWARNINGS=default::DeprecationWarning, and assert_clean_log (every protocol test's teardown) fails on a warning
line that points into our files. Here the check is shown to see the warnings at all, over a controller's main
paths: start, a switch's handshake and reconciliation, pushes, the REST reads, a delete, stop.
"""
import json
import os

import pytest
from ryu.ofproto import ofproto_v1_0 as ofp

from tests.lib.controller import ROOT, deprecations_in_our_code
from tests.protocol.helpers import colon_dpid, delete, push_ok

pytestmark = pytest.mark.protocol

DPID = 0x00000000000051d0


def test_the_controller_prints_deprecations_and_none_comes_from_our_code(start_controller, connect_peer):
    controller = start_controller()
    peer = connect_peer(controller, DPID)
    push_ok(controller, {'switch': colon_dpid(DPID), 'name': 'w1', 'priority': '100', 'eth_src': '52:54:00:9b:d5:bc',
                         'actions': 'output=2'})
    peer.wait_for_messages(ofp.OFPT_FLOW_MOD, 1)
    for path in ('/wm/core/controller/switches/json', '/wm/staticflowpusher/list/all/json',
                 '/wm/staticflowpusher/status/all/json', '/wm/core/switch/all/flow/json',
                 '/wm/core/controller/connections/json', '/wm/topology/links/json', '/wm/device/'):
        status, text, _ = controller.get(path)
        assert status == 200, (path, status, text)
        json.loads(text)
    status, text, _ = delete(controller, 'w1')
    assert status == 200, (status, text)
    controller.stop()
    log = controller.log()
    # eventlet's notice about itself, oslo.config's and ryu's distutils ones: the filter reached the controller
    assert 'DeprecationWarning' in log, 'the controller printed no DeprecationWarning at all:\n' + log
    assert deprecations_in_our_code(log) == []


def test_a_warning_line_is_ours_when_its_file_is_in_this_tree():
    site = '/venv/lib/python3.13/site-packages'
    ours = os.path.join(ROOT, 'rest', 'server.py')
    log = '\n'.join([
        os.path.join(ROOT, 'controller', 'ryu_compat.py') + ':10: DeprecationWarning: ',
        'Eventlet is deprecated. It is currently being maintained in bugfix mode, and',
        '  import eventlet.wsgi',
        site + '/ryu/controller/controller.py:7: DeprecationWarning: not ours, though under a controller/ folder',
        '  x = 1',
        site + '/oslo_config/cfg.py:685: DeprecationWarning: distutils Version classes are deprecated.',
        '  self.type(self.default)',
        ours + ':12: DeprecationWarning: datetime.datetime.utcnow() is deprecated',
        '  now = datetime.utcnow()',
        'loading app controller.apps',
    ])
    assert deprecations_in_our_code(log) == [
        ours + ':12: DeprecationWarning: datetime.datetime.utcnow() is deprecated now = datetime.utcnow()']
