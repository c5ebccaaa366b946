"""Ryu glue: the only code that knows Ryu events. Each handler finds the switch, calls one pure function
with `now`, and sends what it returns (see docs/architecture.md)."""
