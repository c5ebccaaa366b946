"""Floodlight .properties files read into our options (controller/floodlight_properties.py): the syntax Java reads,
the default files Floodlight 0.90, 0.91 and 1.2 shipped (tests/fixtures/floodlight-properties, copied from their
src/main/resources/floodlightdefault.properties), and a clear error for a value that cannot be used."""
import os

import pytest

from apps.manager import option_value, with_floodlight_properties
from controller import floodlight_properties as fp

pytestmark = pytest.mark.unit
FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'floodlight-properties')


def fixture(name):
    return os.path.join(FIXTURES, name)


def test_java_syntax_comments_separators_continuations_and_escapes():
    text = ('# a comment\n'
            '  ! another one\n'
            '\n'
            'plain=value\n'
            'colon: spaced value  \n'
            'space separated\n'
            'empty=\n'
            'list=a,\\\n'
            '     b,\\\n'
            '  c\n'
            'escaped\\ key\\=x = tab\\there \\u0041\n'
            'twice=1\n'
            'twice=2\n'
            'even\\\\\n'
            'next=line\n')
    assert fp.parse(text) == {'plain': 'value', 'colon': 'spaced value  ', 'space': 'separated', 'empty': '',
                              'list': 'a,b,c', 'escaped key=x': 'tab\there A', 'twice': '2', 'even\\': '',
                              'next': 'line'}
    with pytest.raises(fp.PropertiesError, match='malformed'):
        fp.parse('bad=\\u12\n')


def test_floodlight_1_2_default_file():
    translation = fp.read(fixture('floodlight-1.2-default.properties'))
    assert translation.settings == {'ofp-tcp-listen-port': 6653, 'wsapi-port': 8080, 'statistics-collection': False,
                                    'statistics-interval': 10.0, 'forwarding': True, 'link-discovery': True,
                                    'firewall': True}
    assert 'net.floodlightcontroller.restserver.RestApiServer.httpsPort' in translation.ignored
    assert 'org.sdnplatform.sync.internal.SyncManager.port' in translation.ignored
    assert 'net.floodlightcontroller.forwarding.Forwarding.match' in translation.ignored
    assert 'net.floodlightcontroller.core.internal.FloodlightProvider.openFlowPort' not in translation.ignored


def test_floodlight_0_91_default_file_names_modules_only():
    # 0.91's file sets no port (its code defaults, 6633 and 8080, apply) and lists no StatisticsCollector.
    translation = fp.read(fixture('floodlight-0.91-default.properties'))
    assert translation.settings == {'forwarding': True, 'link-discovery': True, 'firewall': True,
                                    'statistics-collection': False}
    assert translation.ignored == ['org.sdnplatform.sync.internal.SyncManager.authScheme',
                                   'org.sdnplatform.sync.internal.SyncManager.keyStorePath',
                                   'org.sdnplatform.sync.internal.SyncManager.dbPath']


def test_floodlight_0_90_keys_ports_and_timeouts():
    translation = fp.read(fixture('floodlight-0.90-default.properties'))
    settings = translation.settings
    assert settings['ofp-tcp-listen-port'] == 6633 and settings['wsapi-port'] == 8080
    assert settings['forwarding-idle-timeout'] == 5
    assert settings['link-discovery'] is False  # 0.90's list has no LinkDiscoveryManager
    assert translation.ignored == ['net.floodlightcontroller.jython.JythonDebugInterface.port']


def test_modules_left_out_turn_ours_off_and_flags_say_so():
    translation = fp.translate(fp.parse(
        'floodlight.modules = net.floodlightcontroller.staticflowentry.StaticFlowEntryPusher,\\\n'
        '    net.floodlightcontroller.restserver.RestApiServer\n'
        'net.floodlightcontroller.restserver.RestApiServer.host = 127.0.0.1\n'
        'net.floodlightcontroller.core.internal.FloodlightProvider.openFlowAddresses = 10.0.0.1\n'
        'net.floodlightcontroller.forwarding.Forwarding.priority = 20\n'))
    assert fp.flags(translation.settings) == [
        '--ofp-listen-host', '10.0.0.1', '--wsapi-host', '127.0.0.1', '--forwarding-priority', '20',
        '--noforwarding', '--nolink-discovery', '--nofirewall', '--nostatistics-collection']
    assert translation.ignored == []


def test_rest_host_falls_back_to_openflowhost_as_floodlight_did():
    props = {'net.floodlightcontroller.core.internal.FloodlightProvider.openflowhost': '192.0.2.1'}
    assert fp.translate(props).settings == {'wsapi-host': '192.0.2.1'}


@pytest.mark.parametrize('key, value, words', [
    ('net.floodlightcontroller.core.internal.FloodlightProvider.openFlowPort', 'sixty', 'not a port number'),
    ('net.floodlightcontroller.restserver.RestApiServer.httpPort', '70000', 'a port is 1-65535'),
    ('net.floodlightcontroller.restserver.RestApiServer.host', 'my host', 'not an IP address'),
    ('net.floodlightcontroller.forwarding.Forwarding.idle-timeout', '-1', 'is 0-65535'),
    ('net.floodlightcontroller.forwarding.Forwarding.hard-timeout', '30', 'no hard timeout'),
    ('net.floodlightcontroller.statistics.StatisticsCollector.enable', 'maybe', 'YES/NO'),
])
def test_a_wrong_value_is_one_error_naming_key_and_value(key, value, words):
    with pytest.raises(fp.PropertiesError) as raised:
        fp.translate({key: value})
    message = str(raised.value)
    assert message.startswith('%s=%s ' % (key, value)) and words in message and '\n' not in message


def test_the_command_line_gets_the_files_flags_first_and_its_own_win(tmp_path, capsys):
    path = tmp_path / 'floodlight.properties'
    path.write_text('net.floodlightcontroller.restserver.RestApiServer.httpPort=8099\n')
    args = ['controller.apps', '--floodlight-properties', str(path), '--wsapi-port', '9000']
    assert with_floodlight_properties(args) == ['--wsapi-port', '8099'] + args
    assert option_value(['--floodlight-properties=%s' % path], '--floodlight-properties') == str(path)
    path.write_text('net.floodlightcontroller.restserver.RestApiServer.httpPort=http\n')
    with pytest.raises(SystemExit) as raised:
        with_floodlight_properties(args)
    assert raised.value.code == 2
    assert capsys.readouterr().err == ('ryu-manager: net.floodlightcontroller.restserver.RestApiServer.httpPort=http '
                                       'in the Floodlight properties file: not a port number\n')
    with pytest.raises(SystemExit):
        with_floodlight_properties(['--floodlight-properties', str(tmp_path / 'missing')])
