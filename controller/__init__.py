"""Pure core of the controller: no Ryu event code lives here (see docs/architecture.md)."""
