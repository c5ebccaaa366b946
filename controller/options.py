"""The controller's own settings: one table of oslo.config options (the library Ryu's configuration is made of).

apps/config.py registers them on Ryu's configuration before ryu-manager parses its command line, so they work as
flags (`--staticflow-db PATH`) and in a `--config-file` ([DEFAULT] staticflow_db = PATH). Data only: adding a
setting is one row here, read as `cfg.CONF.<name>` in the glue that uses it.
"""
from oslo_config import cfg

OPTIONS = [
    # --- connection tracker (docs/architecture.md, "Connections") ---
    cfg.ListOpt('service-switches', default=[],
                help='switch listeners to dial as a service controller, HOST:PORT[,HOST:PORT...] (the ptcp: '
                     'targets of bridges; OVS never redials these, so the controller redials with backoff)'),
    cfg.FloatOpt('service-max-backoff', default=8.0,
                 help='longest wait in seconds between redials of a service switch listener'),
    cfg.StrOpt('ovsdb', default='unix:/var/run/openvswitch/db.sock',
               help='OVSDB to read fail modes and Controller rows from: unix:PATH or tcp:HOST:PORT (an '
                    '`ovs-vsctl set-manager ptcp:6640` address for a switch on another host); "none" to skip'),
    cfg.FloatOpt('ovsdb-poll-interval', default=2.0, help='seconds between OVSDB reads'),
    cfg.StrOpt('default-fail-mode', default='unknown', choices=('standalone', 'secure', 'unknown'),
               help='fail mode assumed for a switch OVSDB says nothing about (unreachable or another host)'),
    cfg.StrOpt('controller-role', default='master', choices=('master', 'slave', 'equal'),
               help='master: compete for mastership of each switch with the other instances sharing '
                    '--staticflow-db (one wins per switch); slave: stand by; equal: role OTHER, no election'),
    cfg.FloatOpt('mastership-lease', default=3.0,
                 help='seconds a master instance keeps a switch without renewing (takeover delay bound)'),
    cfg.FloatOpt('mastership-renew', default=1.0, help='seconds between lease renewals'),
    cfg.FloatOpt('reconcile-timeout', default=10.0,
                 help='seconds to wait for a connecting switch\'s flow table before sending every static entry'),
    cfg.FloatOpt('push-barrier-delay', default=0.005,
                 help='seconds a static flow push\'s barrier waits for later pushes to the same switch, which '
                      'it then confirms too (0: a barrier right after every push)'),
    cfg.StrOpt('staticflow-db', default='var/staticflows.sqlite3',
               help='SQLite file that keeps static flow entries across restarts (relative to the working '
                    'directory; default var/staticflows.sqlite3)'),
    # --- the store (docs/reliability.md) ---
    cfg.StrOpt('store', default='sqlite',
               help='where entries and mastership live: sqlite (default: --staticflow-db and its -mastership file, '
                    'instances on one host), or an etcd 3.4 cluster shared by instances on several hosts, '
                    'etcd://HOST:PORT[,HOST:PORT...][/PREFIX] (default prefix /ofc/; docs/scale-out.md)'),
    cfg.StrOpt('durability', default='normal', choices=('normal', 'full'),
               help='normal: an acknowledged entry survives a crash or SIGKILL of the controller (SQLite '
                    'synchronous=NORMAL); full: also an OS crash or power cut, with an fsync per commit '
                    '(synchronous=FULL; about half the push rate, docs/performance.md)'),
    cfg.BoolOpt('staticflow-db-recover', default=False,
                help='start from a damaged --staticflow-db: keep the rows that can still be read in a fresh '
                     'file, and the damaged one as <file>.damaged-<time> (without it a damaged file stops the '
                     'start)'),
    cfg.IntOpt('max-entries', default=1000000, min=0,
               help='most static flow entries stored; a push of a new entry past it gets HTTP 507 (replacing '
                    'one by name is allowed; 0: no cap; default 1,000,000)'),
    cfg.BoolOpt('forwarding', default=True,
                help='reactive shortest-path forwarding like Floodlight\'s Forwarding module (--no-forwarding '
                     'leaves only static entries; hosts and links are still learned)'),
    cfg.BoolOpt('link-discovery', default=True,
                help='LLDP link discovery (--no-link-discovery sends no LLDP: every port is an edge port)'),
    cfg.FloatOpt('lldp-interval', default=15.0, min=0.1,
                 help='seconds between LLDP rounds on every port (Floodlight: 15)'),
    cfg.FloatOpt('link-timeout', default=35.0, min=0.1,
                 help='seconds after which a link whose LLDP stopped arriving is removed (Floodlight: 35)'),
    cfg.IntOpt('forwarding-idle-timeout', default=5, min=0, max=65535,
               help='idle timeout of reactive forwarding flows, seconds (Floodlight: 5)'),
    cfg.IntOpt('forwarding-priority', default=1, min=0, max=65535,
               help='priority of reactive forwarding flows (Floodlight 1.x: 1); static entries above it win'),
    cfg.FloatOpt('port-quarantine', default=2.0, min=0,
                 help='seconds a new port neither floods nor is listened to (but for LLDP), so that links are '
                      'known before broadcasts can loop'),
    cfg.FloatOpt('stats-timeout', default=10.0, min=0.1,
                 help='seconds a switch has to answer a REST statistics request (Floodlight: 10)'),
    # Hardening (docs/reliability.md). The listen addresses are Ryu's --ofp-listen-host and --wsapi-host,
    # all interfaces by default as in Floodlight; OpenFlow over TLS is Ryu's --ctl-privkey, --ctl-cert,
    # --ca-certs with --ofp-ssl-listen-port.
    cfg.IntOpt('rest-max-body', default=1 << 20, min=0,
               help='largest REST request body in bytes; a larger one gets HTTP 413 (default 1 MiB)'),
    cfg.StrOpt('rest-token-file', default=None,
               help='file holding a bearer token; when set, every REST request but /wm/core/health/json '
                    'needs "Authorization: Bearer <token>" (401 otherwise)'),
    cfg.ListOpt('rest-cors-origins', default=[],
                help='web page origins (scheme://host:port) allowed to call the REST API from a browser (CORS), '
                     'e.g. http://10.0.0.5:8000 for floodlight-webui served by another web server; * for any '
                     '(Floodlight\'s accessControlAllowAllOrigins=TRUE). Empty (default): no CORS headers'),
    cfg.StrOpt('rest-cert', default=None, help='PEM certificate: serve REST over HTTPS (with --rest-key)'),
    cfg.StrOpt('rest-key', default=None, help='PEM private key of --rest-cert'),
    # The REST server's own limits (rest/server.py).
    cfg.IntOpt('rest-max-connections', default=1024, min=1,
               help='REST connections served at once; past it a new connection gets HTTP 503 and is closed '
                    '(default 1024, as eventlet.wsgi)'),
    cfg.FloatOpt('rest-request-timeout', default=10.0, min=0.01,
                 help='seconds a REST request has from its first byte to its last (head and body); a slower one '
                      'gets HTTP 408 and is closed (default 10)'),
    cfg.FloatOpt('ofp-handshake-timeout', default=15.0, min=0,
                 help='seconds a new OpenFlow connection has to finish HELLO and FEATURES before it is '
                      'dropped (0: no limit; default 15)'),
    # --- who may connect (docs/reliability.md) ---
    cfg.FloatOpt('takeover-probe-timeout', default=0.5, min=0.01,
                 help='seconds the live session of a switch has to answer an echo when another connection claims '
                      'its DPID: it keeps the switch when it answers (the newcomer is refused), is replaced when '
                      'not (a rebooted switch gets back in) (default 0.5)'),
    cfg.ListOpt('ofp-allow', default=[],
                help='address ranges allowed to open OpenFlow connections, CIDR[,CIDR...] (IPv4 and IPv6, e.g. '
                     '10.0.0.0/8,fd00::/8); others are closed at once with a rate-limited warning and counted. '
                     'Empty: every address (default)'),
    cfg.StrOpt('ofp-switch-certs', default=None,
               help='OpenFlow over TLS: file binding each DPID to its switch certificate, lines "DPID '
                    'sha256:<fingerprint>" or "DPID CN=<common name>"; a switch claiming a DPID its certificate is '
                    'not bound to (or a DPID with no line) is disconnected. Needs --ca-certs'),
    # --- listeners (docs/reliability.md) ---
    cfg.IntOpt('ofp-max-connections', default=4096, min=1,
               help='OpenFlow connections served at once on each OpenFlow port; past it a new connection is '
                    'closed at once (default 4096)'),
    # --- topology and hosts (docs/reliability.md) ---
    cfg.StrOpt('lldp-secret-file', default=None,
               help='file holding the key our LLDP frames are signed with (HMAC-SHA256); LLDP without a valid '
                    'signature makes no link. Made (random, mode 0600) at first start; default lldp-secret next '
                    'to --staticflow-db. Instances sharing a store must share this file'),
    cfg.IntOpt('max-hosts', default=100000, min=1,
               help='hosts kept in all (under 200 bytes each); past it the least recently seen are forgotten'),
    cfg.IntOpt('max-hosts-per-port', default=1000, min=1,
               help='hosts kept per switch port; past it the port\'s least recently seen is forgotten (a MAC flood '
                    'on one port cannot fill the table), with one warning per port per minute'),
    # --- Floodlight API (docs/compatibility.md) ---
    cfg.StrOpt('floodlight-api', default='1.x', choices=('0.9', '1.x'),
               help='reply shapes where Floodlight 0.9x and 1.x differ and no body serves both (docs/compatibility.md '
                    'lists the routes: route and port lists; the firewall rule list, its storageRules and subnet '
                    'mask): 0.9 for clients written for Floodlight 0.90/0.91, 1.x (default) for 1.x'),
    cfg.BoolOpt('statistics-collection', default=False,
                help='poll every switch\'s port counters for /wm/statistics/bandwidth from the start (Floodlight '
                     '1.2: StatisticsCollector.enable=FALSE; POST /wm/statistics/config/enable/json turns it on)'),
    cfg.BoolOpt('virtual-network-filter', default=False,
                help='load Floodlight\'s VirtualNetworkFilter (its neutron.properties module, not in its default '
                     'set): MAC-based tenant networks at /networkService/v1.1; a host attached to no network can '
                     'reach only its gateway and DHCP (docs/compatibility.md)'),
    cfg.FloatOpt('statistics-interval', default=10.0, min=1.0,
                 help='seconds between two port counter polls of the bandwidth statistics (Floodlight 1.2: 10)'),
    cfg.BoolOpt('firewall', default=True,
                help='the firewall\'s REST API (/wm/firewall/..., disabled until enabled there, as Floodlight\'s '
                     'module); --no-firewall leaves it out, as a Floodlight without the Firewall module'),
    cfg.StrOpt('floodlight-properties', default=None,
               help='a Floodlight .properties file (floodlightdefault.properties): its ports, addresses, modules '
                    'and forwarding settings become these options, before the command line\'s own flags '
                    '(docs/migrating-from-floodlight.md)'),
    # --- logs (controller/logformat.py) ---
    cfg.StrOpt('log-format', default='text', choices=('text', 'json'),
               help='text: "<ISO time> <LEVEL> <module>: <message>" lines (default); json: one JSON object per line '
                    '(time, level, module, message, and dpid when the line is about one switch) for log collectors'),
    # --- all cores of one host (docs/scale-out.md) ---
    cfg.IntOpt('workers', default=1, min=1,
               help='processes sharing the switches on this host, each on a core of its own: a supervisor '
                    'listens on the OpenFlow and REST ports and hands each switch to the worker with the fewest, '
                    'which masters it through the shared store; a worker that dies is started again (default 1: '
                    'no supervisor)'),
    cfg.IntOpt('worker-channel', default=None, min=0,
               help='internal: the descriptor of a worker\'s channel to its supervisor (set by the supervisor)'),
]

# oslo.config spells the negation of a boolean flag --noNAME; --no-NAME is accepted too (see cli_aliases).
NEGATABLE_FLAGS = ('forwarding', 'link-discovery', 'firewall')


def cli_aliases(argv):
    """argv with --no-forwarding / --no-link-discovery rewritten to oslo.config's --noforwarding form."""
    aliases = {'--no-' + name: '--no' + name for name in NEGATABLE_FLAGS}
    return [aliases.get(arg, arg) for arg in argv]
