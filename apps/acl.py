"""ACL glue (Floodlight 1.2's accesscontrollist): REST calls and a one-second timer in, calls of
controller.acl.AclState out; its state committed to the static flow entries' SQLite file (controller.aclstore);
its entries pushed and deleted through the static flow pusher (the StaticFlowApp's push and delete), so that
they are stored, listed, reconciled and installed again on reconnect like every static entry.

The timer reads the hosts the forwarding app has learned (its DeviceTable, through controller.acl.host_addresses)
and gives the DENY rules covering a new host their entries on its switch; it also repairs what a failed push
left (an entry missing, or one no rule wants), and loads the state again when another instance sharing the file
changed it. A push that fails is a fault of component `acl` on the health board until a round succeeds.
"""
import logging
import os
import time

from ryu import cfg
from ryu.app.wsgi import WSGIApplication
from ryu.base import app_manager
from ryu.lib import hub

from apps import config
from apps.background import BackgroundLoops
from apps.rest_routes import mount
from apps.switches import SwitchesApp
from controller import acl, of10
from controller.aclstore import AclStore
from controller.storefaults import StoreFault
from rest import acl as acl_rest
from rest import floodlight

LOG = logging.getLogger(__name__)
ROUND_SECONDS = 1.0
HEALTH = 'acl'  # the component on the health board


class AclApp(BackgroundLoops, app_manager.RyuApp):
    OFP_VERSIONS = [of10.OFP_VERSION]
    _CONTEXTS = {'wsgi': WSGIApplication, 'switches': SwitchesApp}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        config.register()
        self.health = kwargs['switches'].health
        path = cfg.CONF.staticflow_db
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self.store = AclStore(path, power_safe=cfg.CONF.durability == 'full')
        self.state = self._load()
        LOG.info('%d ACL rules restored from %s', len(self.state.rules), path)
        self._names = None  # ACL entry names to check for deletion; None: every name in the table (a full look)
        mount(kwargs['wsgi'], acl_rest.ROUTES, self)

    def _load(self):
        """The stored state; a stored document that does not parse stops the start (the ACL's entries would be
        deleted as wanted by no rule)."""
        document = self.store.load()
        if document is None:
            return acl.AclState()
        try:
            return acl.AclState.from_document(document)
        except (ValueError, KeyError, TypeError) as error:
            LOG.error('the ACL rules stored in %s do not parse (%s): not starting', self.store.path, error)
            raise SystemExit(2) from None

    def start(self):
        thread = super().start()
        self.spawn_loop(self._rounds)
        return thread

    @staticmethod
    def _app(name):
        return app_manager.lookup_service_brick(name)

    # --- REST side: change a copy, commit it, then it replaces the state and its entries are pushed ----------

    def _commit(self, change):
        state = self.state.copy()
        result = change(state)
        self.store.save(state.document())
        self.state = state
        self._report(self.enforce())
        return result

    def add_rule(self, rule):
        """The hosts known now are taken first: a rule added right after a host appeared covers it at once."""
        hosts = self._current_hosts()

        def change(state):
            state.hosts_seen(hosts)
            return state.add_rule(rule)
        added = self._commit(change)
        LOG.info('ACL rule %d added: %s', added.id, added.request())
        return added

    def remove_rule(self, rule_id):
        self._commit(lambda state: state.remove_rule(rule_id))
        LOG.info('ACL rule %d removed', rule_id)

    def clear(self):
        self._commit(lambda state: state.clear())
        LOG.info('ACL cleared')

    # --- the timer --------------------------------------------------------------------------------------

    def _rounds(self):
        while True:
            hub.sleep(ROUND_SECONDS)
            try:
                self.round()
            except Exception:  # the timer must survive a bug in one round
                LOG.exception('ACL round failed')

    def round(self):
        if self.store.changed_elsewhere():
            hosts = self.state.hosts
            self.state = self._load()
            self.state.hosts = hosts
            self._names = None
        # Without a DENY rule new hosts change nothing (add_rule reads the hosts itself): the host table, up to
        # --max-hosts of them, is not read every second for nothing.
        denies = any(rule.action == acl.DENY for rule in self.state.rules.values())
        self._report((self._hosts_seen(self._current_hosts()) if denies else []) + self.enforce())

    def _current_hosts(self):
        """(IPv4 address, dpid) of every host the forwarding app knows now."""
        forwarding = self._app('ForwardingApp')
        if forwarding is None:
            return self.state.hosts
        return acl.host_addresses(forwarding.state.devices)

    def _hosts_seen(self, hosts):
        """-> [failures]: the new hosts are retried next round when their entries could not be stored."""
        if hosts == self.state.hosts:
            return []
        state = self.state.copy()
        try:
            if state.hosts_seen(hosts):
                self.store.save(state.document())
        except (acl.AclFull, StoreFault) as error:
            return ['entries for new hosts: %s' % error]
        self.state = state
        return []

    def enforce(self):
        """Make the static flow table hold the ACL's entries: push the missing ones, delete those no rule wants.
        -> [failures] (for _report)."""
        pusher = self._app('StaticFlowApp')
        if pusher is None:
            return []
        wanted = self.state.entries()
        names = set(_acl_names(pusher.table)) if self._names is None else self._names | set(wanted)
        push, delete = acl.plan(wanted, pusher.table, names)
        failed = []
        for name in delete:
            try:
                pusher.delete(name)
            except StoreFault as error:
                failed.append('%s not deleted: %s' % (name, error))
        for request in push:
            try:
                entry = floodlight.parse_entry(request, floodlight.DIALECT_V1)
                pusher.push(entry, floodlight.DIALECT_V1, lambda: None)
            except Exception as error:  # a conflict with a user's entry, a full disk, --max-entries
                failed.append('%s not pushed: %s' % (request['name'], error))
        # Only ACL entries are looked at again: the table's other names (200,000 user entries) are not the ACL's
        # business, and walking them every second held up the switches' sessions for 0.2 s.
        self._names = {name for name in names | set(wanted) if acl.is_acl_entry(name) and name in pusher.table}
        return failed

    def _report(self, failures):
        """A failure is a health fault (and one log line) until a round has none."""
        if failures:
            reason = '; '.join(failures)
            if self.health.fault(HEALTH, reason, time.time()):
                LOG.error('ACL: %s', reason)
        elif self.health.clear(HEALTH):
            LOG.warning('ACL entries are all in place again')


def _acl_names(table):
    """The names of the table's ACL entries (a full look: at start, or when another instance changed the ACL), read
    in slices that let the switches' sessions run between them: the table may hold 200,000 entries."""
    found = []
    for count, name in enumerate(table.names(), 1):
        if acl.is_acl_entry(name):
            found.append(name)
        if count % 10000 == 0:
            hub.sleep(0)
    return found
