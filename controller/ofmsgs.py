"""Temporary: removed when apps/ moves to of10. Re-exports, from controller.of10, the names that the modules not
yet moved (apps/*, controller/apps.py) read as `ofmsgs.X`; nothing else may import it (tests/unit/test_layout.py).
"""
from controller.of10 import (  # noqa: F401
    ENTRY_MESSAGES, FORWARDING_COOKIE, OFP_VERSION, ROLE_NAMES, barrier, batch_flow_mods, describe_error,
    get_config_request, installed_flow, is_barrier, is_last_stats_part, is_slave_rejection, is_write, match_key,
    role_reply_role, role_request, stats_request)
