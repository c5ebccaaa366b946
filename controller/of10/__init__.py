"""TEMPORARY stand-in while controller/of10 is being built on another branch: replaced at merge."""
from controller.ofmsgs import *  # noqa: F401,F403
from controller.ofmsgs import OFP_VERSION, ROLE_NAMES  # noqa: F401
from controller.ofguard import HEADER as _HEADER

header_at = _HEADER.unpack_from
OFPT_PACKET_IN = 10
OFPT_BARRIER_REPLY = 19
