"""CDKTF constructs and the per-environment stack that composes them."""

# Before any stack module imports the provider: load only the resource modules they use
# (see provider_bindings; STATICIP_EAGER_PROVIDER=1 turns it off).
from stacks.provider_bindings import install as _install_provider_bindings

_install_provider_bindings()
