"""The web UI in headless Chromium against Mininet and a userspace Open vSwitch: every page loads with nothing in
the browser's console and shows the network's switches, link and hosts; an entry added through the form shows up
in `ovs-ofctl dump-flows`, a bad one shows the REST reason and reaches neither the store nor the switch.
A screenshot of each page goes to docs/screenshots/ (the README shows one).

Its own network (switches ui1, ui2, DPIDs f5e1:..:0c:0n) against its own controller, as tests/e2e/test_forwarding.py.
"""
import os

import pytest

from tests.e2e.conftest import poll
from tests.e2e.test_forwarding import Topo, colon, dpid_of, network  # noqa: F401  (the fixture)
from tests.lib import browser as chromium
from tests.lib.browser import browser, chromium_session  # noqa: F401  (the fixtures)
from tests.lib.browser import (card_value, console_problems, entry_form_push, graph, new_entry, open_page, row_text,
                               screenshot, text_of, wait_until)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings('ignore:distutils Version classes are deprecated:DeprecationWarning'),
    pytest.mark.skipif(bool(chromium.missing()) and not os.environ.get('CI'), reason=str(chromium.missing())),
]

UI_TOPO = Topo('ui', 0x0c, [1, 2], [(1, 1, 1), (2, 2, 1)], [(1, 2, 2, 2)])
SCREENSHOTS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                           'docs', 'screenshots')


def test_pages_show_the_network_and_a_form_entry_reaches_the_switch(browser, network):  # noqa: F811
    net = network(UI_TOPO)
    net.assert_pingall()  # the hosts are learned
    base = net.controller.base_url
    s1, s2 = colon(dpid_of(UI_TOPO.code, 1)), colon(dpid_of(UI_TOPO.code, 2))
    mac1, mac2 = UI_TOPO.mac(1), UI_TOPO.mac(2)

    browser.get(base + '/')
    wait_until(browser, lambda d: card_value(d, 'card-switches') == '2' and card_value(d, 'card-hosts') == '2',
               what='two switches and two hosts on the dashboard')
    assert card_value(browser, 'card-links') == '2'  # one cable, both directions
    screenshot(browser, SCREENSHOTS, 'dashboard')

    open_page(browser, base, 'topology')
    wait_until(browser, lambda d: sorted(graph(d, "nodes('.switch').map(n => n.id())") or []) == [s1, s2]
               and {'host:' + mac1, 'host:' + mac2} <= set(graph(d, "nodes('.host').map(n => n.id())")),
               what='the graph')
    assert [sorted(e) for e in graph(browser, "edges().not('.attachment').map(e => [e.source().id(), "
                                              "e.target().id()])")] == [sorted([s1, s2])]
    screenshot(browser, SCREENSHOTS, 'topology')

    open_page(browser, base, 'switch/' + s1)
    wait_until(browser, lambda d: 'ui1-eth1' in row_text(d, 'ports', 'data-port', '1'), what="ui1's ports")
    wait_until(browser, lambda d: 'bit/s' in row_text(d, 'ports', 'data-port', '1'), what='a rate on port 1')
    assert 'connected' in text_of(browser, 'sessions') and 'primary' in text_of(browser, 'sessions')
    screenshot(browser, SCREENSHOTS, 'switch')

    open_page(browser, base, 'hosts')
    wait_until(browser, lambda d: row_text(d, 'hosts', 'data-mac', mac1) and row_text(d, 'hosts', 'data-mac', mac2),
               what='both hosts')
    assert UI_TOPO.ip(2) in row_text(browser, 'hosts', 'data-mac', mac2)
    screenshot(browser, SCREENSHOTS, 'hosts')

    open_page(browser, base, 'entries')
    wait_until(browser, lambda d: 'no static entries' in text_of(d, 'entries'), what='the entries page')
    entry_form_push(browser, {'switch': s1, 'name': 'ui-e2e', 'priority': '500'},
                    [('in_port', '1'), ('eth_type', '0x0800'), ('ipv4_dst', UI_TOPO.ip(2))], 'output=2')
    wait_until(browser, lambda d: text_of(d, 'entry-done') == 'Entry pushed: ui-e2e', what='the push answered')
    flows = poll(lambda: [f for f in net.dump_flows(1) if f.priority == 500], 10, 'the entry in dump-flows',
                 explain=net.explain)
    assert flows[0].match.get('in_port') == '1' and flows[0].match.get('nw_dst') == UI_TOPO.ip(2), flows[0].line
    assert flows[0].actions == 'output:2', flows[0].line
    wait_until(browser, lambda d: 'installed' in row_text(d, 'entries', 'data-entry', 'ui-e2e'),
               what='the entry installed')

    new_entry(browser)
    entry_form_push(browser, {'switch': s1, 'name': 'ui-e2e-bad', 'priority': '501'}, [('tcp_dst', '80')],
                    'output=2')
    wait_until(browser, lambda d: 'tcp_dst' in text_of(d, 'entry-error'), what='the reason of the 400')
    assert browser.find_element('css selector', '#entry-form .field-error').text in text_of(browser, 'entry-error')
    assert not [f for f in net.dump_flows(1) if f.priority == 501]
    assert 'ui-e2e-bad' not in net.get('/wm/staticflowpusher/status/all/json').get(s1, {})
    screenshot(browser, SCREENSHOTS, 'entries')

    for page, ready in (('firewall', 'firewall-status'), ('acl', 'acl-rules')):
        open_page(browser, base, page)
        wait_until(browser, lambda d: text_of(d, ready), what='the %s page' % page)
        screenshot(browser, SCREENSHOTS, page)
    assert console_problems(browser, allowed_statuses=(400,)) == []
