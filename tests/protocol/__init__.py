"""Protocol tier: the real controller as a subprocess, a scripted OpenFlow 1.0 switch (ofpeer) over TCP."""
