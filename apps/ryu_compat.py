"""Two fixes for PyPI ryu 4.34 on current Python and eventlet, applied before ryu runs; each says what breaks
without it. Both only add a missing name; no behaviour of Ryu is replaced (the one extension point is the session
factory, apps/session.py)."""


def restore_eventlet_sentinel():
    """ryu/app/wsgi.py imports eventlet.wsgi.ALREADY_HANDLED, gone since eventlet 0.30.3 (docs/ryu-manager.md).

    Current eventlet flags hijacked (websocket) connections itself and only needs an iterable back, so an
    empty list stands in for the old sentinel.
    """
    import eventlet.wsgi

    if not hasattr(eventlet.wsgi, 'ALREADY_HANDLED'):
        eventlet.wsgi.ALREADY_HANDLED = []


def give_of10_an_experimenter_error_type():
    """ryu's ofp_handler.error_msg_handler compares every error's type with ofproto.OFPET_EXPERIMENTER, which
    ofproto_v1_0 lacks: the AttributeError kills the switch's connection on the first OpenFlow error it sends
    (say, a flow-mod OVS rejects), and the switch then loops through reconnects. OpenFlow 1.0 has no
    experimenter error type; 0xffff (its number in 1.2+) is never sent by a 1.0 switch, so the comparison is
    simply false, as intended.
    """
    from ryu.ofproto import ofproto_v1_0

    if not hasattr(ofproto_v1_0, 'OFPET_EXPERIMENTER'):
        ofproto_v1_0.OFPET_EXPERIMENTER = 0xffff


def apply_all():
    restore_eventlet_sentinel()
    give_of10_an_experimenter_error_type()
