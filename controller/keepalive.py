"""When to probe a switch with ECHO_REQUEST and when to give up on it: OVS's inactivity probe, from our side.

Any message a switch sends proves it alive, not only echo replies: a switch saturated with packet-ins may answer
an echo late (it queues it behind them), and Ryu 4.34's keepalive, which counts echo replies alone, dropped busy
cbench switches after about 25 s. So: a probe goes out only after `interval` seconds in which nothing arrived,
then one per `interval` while nothing arrives; after `max_unanswered` + 1 probes with no message at all since the
first of them, and one more interval, the switch is gone. With Ryu's defaults as this controller sets them (5 s,
3) a silent switch is dropped 25 s after its last message; one that talks is never probed.

Pure: the session's green thread calls step() with the clock and the time of the last message received.
"""
ECHO = 'echo'
GONE = 'gone'


class Keepalive:
    def __init__(self, interval, max_unanswered):
        self.interval = interval
        self.max_unanswered = max_unanswered
        self.unanswered = 0      # probes sent since the last message received
        self.probed_at = None    # when the last of them went out

    def step(self, now, last_received):
        """-> (action, check_again_at): action is None, ECHO (send one now) or GONE (drop the switch)."""
        if self.unanswered and last_received >= self.probed_at:
            self.unanswered = 0  # something arrived after the probe: alive, whatever it was
        if not self.unanswered:
            quiet_until = last_received + self.interval
            if now < quiet_until:
                return None, quiet_until
        elif now < self.probed_at + self.interval:
            return None, self.probed_at + self.interval
        elif self.unanswered > self.max_unanswered:
            return GONE, now
        self.unanswered += 1
        self.probed_at = now
        return ECHO, now + self.interval

    def silence(self, now, last_received):
        """What the drop's log line says: seconds since the switch's last message, probes it left unanswered."""
        return now - last_received, self.unanswered
