"""CDKTF constructs and the per-environment stack that composes them."""
