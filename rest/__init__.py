"""HTTP layer: Floodlight-compatible REST. Parsing and reply shapes live in rest.floodlight (pure)."""
