"""What /wm/core/health/json reports: the faults the controller knows of now, one per component.

A component (an OpenFlow or REST listener, the entry store, OVSDB) reports a fault when it sees one and clears it
when it is over; the controller is healthy when no fault is current. The board lives on the SwitchesApp (every
app has it as a context) as `switches.health`. Pure: no I/O, no clock of its own.
"""


class HealthBoard:
    def __init__(self):
        self._faults = {}  # component -> (reason, since)

    def fault(self, component, reason, now):
        """Record (or update the reason of) `component`'s fault. -> True when it was not faulty before, so
        that the caller logs a fault once, not on every retry."""
        previous = self._faults.get(component)
        self._faults[component] = (reason, previous[1] if previous else now)
        return previous is None

    def clear(self, component):
        """-> True when `component` was faulty (the caller logs the recovery once)."""
        return self._faults.pop(component, None) is not None

    def faulty(self, component):
        return component in self._faults

    def healthy(self):
        return not self._faults

    def reasons(self):
        """[{"component", "reason", "since"}] by component name; since in ms since the epoch."""
        return [{'component': component, 'reason': reason, 'since': int(since * 1000)}
                for component, (reason, since) in sorted(self._faults.items())]
