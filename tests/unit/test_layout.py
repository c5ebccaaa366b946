"""The architecture's rules, checked: pure modules stay free of Ryu's event code; the entry module loads."""
import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit

PURE_MODULES = ['controller.dpid', 'controller.flowentry', 'controller.staticflow', 'controller.connections',
                'controller.entrystore', 'controller.ofmsgs', 'rest.floodlight',
                'controller.failmode', 'controller.ovsdb', 'controller.mastership', 'controller.pusher']

# Forwarding, link discovery and host tracking (issue 5): the packet-in path is pure too.
PURE_MODULES += ['controller.forwarding', 'controller.topology', 'controller.devices', 'controller.lldp']


@pytest.mark.parametrize('module', PURE_MODULES)
def test_pure_module_imports_no_ryu_event_code(module):
    code = ('import sys, %s; bad = [m for m in sys.modules if m.startswith(("ryu.controller", "ryu.base", '
            '"ryu.app", "eventlet"))]; print(bad); sys.exit(1 if bad else 0)' % module)
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_controller_apps_loads_the_apps_package():
    code = ('from controller.ryu_compat import apply_all; apply_all(); '
            'from ryu.base.app_manager import AppManager; m = AppManager(); '
            'm.load_apps(["controller.apps"]); '
            'print(sorted(c.__name__ for c in m.applications_cls.values()))')
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ("['FloodlightReplacementApp', 'ForwardingApp', 'OFPHandler', 'StaticFlowApp', "
                                     "'StatsApp']")


def test_only_ofmsgs_builds_openflow_messages():
    import pathlib
    root = pathlib.Path(__file__).resolve().parents[2]
    builders = [str(p.relative_to(root)) for d in ('controller', 'apps', 'rest') for p in (root / d).rglob('*.py')
                if 'ofproto_v1_0_parser' in p.read_text()]
    assert builders == ['controller/ofmsgs.py']
