"""Load the AWS provider bindings one resource module at a time.

`cdktf_cdktf_provider_aws/__init__.py` imports all 2,212 of its resource submodules, each
defining jsii classes: about 13 s on a 2-core machine, although the stacks use a few dozen.
Every submodule is self-contained (it imports the package's `_jsii` module, which loads the
assembly into the jsii kernel, plus `cdktf` and `constructs`, and registers its own classes), so
a package module that has the real `__path__` but runs none of the real `__init__` is enough for
`from cdktf_cdktf_provider_aws.vpc import Vpc` to import just `vpc`. :func:`install` puts a
meta-path finder in front that builds exactly that package module; nothing in site-packages is
changed, and the stacks keep their plain imports.

The jsii kernel (Node.js) does the same on its side: the package's `lib/index.js` requires all
2,212 resource modules, 1.6 s of a 3.2 s `make synth` (`/usr/bin/time node -e "require(...)"`:
1.75 s alone, 0.15 s lazily). `install` also adds `lazy_provider_index.js` to NODE_OPTIONS, which
the kernel's processes inherit; it requires each module when the kernel first looks a type up in
it (read there how, and when it leaves the file alone).

`STATICIP_EAGER_PROVIDER=1` leaves both alone (the package's own `__init__` and `index.js` run,
as without this module), for debugging and for the byte-for-byte comparison test.

What the lazy path cannot do: when the jsii kernel hands Python an object whose type lives in a
submodule nobody imported, jsii raises `ValueError: Unknown type: @cdktf/provider-aws.<module>
.<Type>` instead of finding the class. It fails loudly, never with different output; import
that module in the stack, or run with `STATICIP_EAGER_PROVIDER=1` to confirm.

`cdktf_cdktf_provider_external` has the same kind of `__init__`, but it imports only its two
submodules (`data_external` and `provider`), both of which the dev stack uses: there is nothing
to skip, so it is left alone.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType

from staticip.config import ConfigError

#: Packages whose `__init__` is skipped.
LAZY_PACKAGES = ("cdktf_cdktf_provider_aws",)

#: The Node.js half: the kernel requires only the resource modules it looks types up in.
NODE_HOOK = Path(__file__).with_name("lazy_provider_index.js")

#: The switch back to the package's own, eager `__init__`.
EAGER_VARIABLE = "STATICIP_EAGER_PROVIDER"


class ProviderSwitchError(ConfigError):
    """A value of STATICIP_EAGER_PROVIDER that is neither 0 nor 1 (shown as one line)."""


def eager_requested(environ: Mapping[str, str] | None = None) -> bool:
    """Whether STATICIP_EAGER_PROVIDER asks for the package's own `__init__`: `1` yes, `0` or
    unset or empty no; anything else raises ProviderSwitchError rather than guessing."""
    value = (os.environ if environ is None else environ).get(EAGER_VARIABLE, "").strip()
    if value in ("", "0"):
        return False
    if value == "1":
        return True
    raise ProviderSwitchError(f"{EAGER_VARIABLE}: expected 1 or 0, got {value!r}")


class _SkipInitLoader(importlib.abc.Loader):
    """Makes the package module without executing its `__init__.py`."""

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None  # the default module object, with __path__ and __file__ from the spec

    def exec_module(self, module: ModuleType) -> None:
        name = module.__name__

        # PEP 562: `cdktf_cdktf_provider_aws.vpc` as an attribute (after a bare `import
        # cdktf_cdktf_provider_aws`) still works, by importing that one submodule.
        def __getattr__(attribute: str) -> ModuleType:
            if attribute.startswith("__"):
                raise AttributeError(f"module {name!r} has no attribute {attribute!r}")
            try:
                return importlib.import_module(f"{name}.{attribute}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{name}.{attribute}":
                    raise
                raise AttributeError(f"module {name!r} has no attribute {attribute!r}") from None

        module.__getattr__ = __getattr__  # type: ignore[method-assign]


class SkipPackageInitFinder(importlib.abc.MetaPathFinder):
    """Finds the packages in `packages` where the normal path finder would, and hands them
    to a loader that skips their `__init__.py`; every other module is left to the rest of
    sys.meta_path."""

    def __init__(self, packages: Sequence[str]) -> None:
        self.packages = frozenset(packages)

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.packages:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.submodule_search_locations is None:
            return None  # not installed, or not a package: let the import fail or succeed as usual
        spec.loader = _SkipInitLoader()
        return spec


def node_options(existing: str, lazy: bool) -> str:
    """`existing` NODE_OPTIONS with the lazy index's `--require` once when `lazy`, without it
    otherwise (an eager child of a lazy process must not inherit it)."""
    option = f"--require {json.dumps(str(NODE_HOOK), ensure_ascii=False)}"
    others = " ".join(existing.replace(option, " ").split())
    return f"{others} {option}".strip() if lazy else others


def install(environ: Mapping[str, str] | None = None) -> bool:
    """Put the finder in front of sys.meta_path, and the Node.js hook into NODE_OPTIONS for the
    jsii kernel this process starts, unless STATICIP_EAGER_PROVIDER=1; returns whether the lazy
    path is active. Idempotent. Must run before anything imports the provider package, or
    cdktf (stacks/__init__.py calls it); a kernel already running stays as it is."""
    lazy = not eager_requested(environ)
    options = node_options(os.environ.get("NODE_OPTIONS", ""), lazy)
    if options:
        os.environ["NODE_OPTIONS"] = options
    else:
        os.environ.pop("NODE_OPTIONS", None)
    if lazy and not any(isinstance(f, SkipPackageInitFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, SkipPackageInitFinder(LAZY_PACKAGES))
    return lazy
