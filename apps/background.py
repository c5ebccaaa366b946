"""Green threads an app runs for its whole life (timers, pollers, redialers)."""
from ryu.lib import hub


class BackgroundLoops:
    """Mix in before RyuApp. RyuApp.stop() joins `self.threads`, so a loop that never returns must not be there:
    ryu-manager's Ctrl-C (AppManager.close -> stop) waited on such a loop forever. Loops spawned here are killed
    first instead."""

    def spawn_loop(self, func, *args):
        thread = hub.spawn(func, *args)
        self.__dict__.setdefault('_background_loops', []).append(thread)
        return thread

    def stop(self):
        for thread in self.__dict__.pop('_background_loops', ()):
            hub.kill(thread)
        super().stop()
