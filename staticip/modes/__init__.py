"""The registry of egress and ingress modes (declarations in this package, one per mode)."""
