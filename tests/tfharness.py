"""Real `terraform` against moto, offline: the harness `make e2e` and
`scripts/make_plan_fixtures.py` share.

- :class:`Moto` runs moto's ThreadedMotoServer in this process on 127.0.0.1, so a test can edit
  moto's models (play Lambda's part) while Terraform talks to it;
- :func:`patch_for_moto` points a synthesized stack's AWS providers at it, pins the AWS provider
  version the local mirror holds, and keeps state in the work directory;
- :class:`Terraform` runs the binary in one work directory with nothing of the developer's AWS or
  Terraform setup leaking in, providers only from the mirror (`STATICIP_TF_PLUGIN_DIR`), through
  one plugin cache for every test (`STATICIP_TF_PLUGIN_CACHE_DIR`, set by tests/conftest.py for
  all pytest workers; :func:`fill_plugin_cache`), and no second `init` of a work directory whose
  providers and backend have not changed (:meth:`Terraform.init`);
- :class:`ProviderServer` keeps one AWS provider serving the commands of a work directory that
  may share it (`STATICIP_TF_SHARED_PROVIDER`, set by tests/conftest.py for all pytest workers).
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import fcntl
import hashlib
import json
import logging
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

#: The mirror with the providers; the default is this machine's.
DEFAULT_PLUGIN_DIR = Path(os.environ.get("STATICIP_TF_PLUGIN_DIR", "/opt/tf-plugins"))
#: Services the stacks call, each pointed at moto.
ENDPOINT_SERVICES = (
    "autoscaling",
    "dynamodb",
    "ec2",
    "iam",
    "lambda",
    "logs",
    "sts",
    "elbv2",
    "cloudwatch",
    "events",
    "s3",
    "ssm",
)
TERRAFORM_TIMEOUT = 300
#: The one provider plugin cache every Terraform here shares; unset: none.
PLUGIN_CACHE_VARIABLE = "STATICIP_TF_PLUGIN_CACHE_DIR"
#: In a work directory's `.terraform`: what it was initialised for (Terraform.init).
INIT_MARKER = "staticip-init.key"
#: Set (to anything) for the commands of each process to share one AWS provider server of that
#: process (ProviderServer) where they may; unset or empty: each command starts its providers.
SHARED_PROVIDER_VARIABLE = "STATICIP_TF_SHARED_PROVIDER"
AWS_PROVIDER = "registry.terraform.io/hashicorp/aws"
#: Commands that never attach to a shared provider: `init` installs providers, `version` has none.
UNATTACHED_COMMANDS = frozenset({"init", "version"})
PROVIDER_START_TIMEOUT = 60

Stack = dict[str, Any]


class HarnessError(RuntimeError):
    """A step failed; the message says which and why."""


def merged_table(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """An environment's staticip.toml table with `changes` laid over it: sub-tables merge
    key by key, and explicit `azs` replace `az_count`."""
    table = copy.deepcopy(dict(base))
    if "azs" in changes:
        table.pop("az_count", None)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(table.get(key), dict):
            table[key] = {**table[key], **copy.deepcopy(value)}
        else:
            table[key] = copy.deepcopy(value)
    return table


def missing_tools(plugin_dir: Path = DEFAULT_PLUGIN_DIR) -> str | None:
    """Why real Terraform cannot run here (no binary, no AWS provider in the mirror), or None."""
    if shutil.which("terraform") is None:
        return "no terraform binary on PATH"
    if not (plugin_dir / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
        return f"no hashicorp/aws provider in the mirror {plugin_dir} (set STATICIP_TF_PLUGIN_DIR)"
    return None


def toml_value(value: object) -> str:
    """A TOML literal for the scalar and list values a staticip.toml holds."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        # JSON string escapes are valid TOML basic-string escapes.
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML literal for {type(value).__name__}")


def environment_toml(project: str, name: str, table: Mapping[str, Any]) -> str:
    """A config file with one environment (its logical IDs and tags do not depend on others);
    sub-tables (`tags`, `functions.<key>`, ...) at any depth."""
    lines = [f"project = {toml_value(project)}"]
    _toml_table(lines, f"environments.{name}", table)
    return "\n".join(lines) + "\n"


def _toml_table(lines: list[str], header: str, table: Mapping[str, Any]) -> None:
    lines += ["", f"[{header}]"]
    subs = []
    for key, value in table.items():
        if isinstance(value, dict):
            subs.append((key, value))
        else:
            lines.append(f"{json.dumps(key)} = {toml_value(value)}")
    for key, sub in subs:
        _toml_table(lines, f"{header}.{json.dumps(key)}", sub)


def version_key(version: str) -> tuple[int, ...]:
    """A provider version's numbers, to order versions by ("5.9.0" before "5.100.0")."""
    return tuple(int(x) for x in re.findall(r"\d+", version))


def mirrored_aws_version(plugin_dir: Path) -> str:
    """The newest hashicorp/aws the mirror holds."""
    versions = mirrored_providers(plugin_dir).get("hashicorp/aws")
    if not versions:
        raise HarnessError(f"no hashicorp/aws provider in the mirror {plugin_dir}")
    return versions[-1]


def terraform_version(terraform: str) -> str:
    out = subprocess.run(
        [terraform, "version", "-json"], capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(out.stdout)["terraform_version"]


def longest_paired_with_shortest(names: list[str], workers: int) -> list[str]:
    """`names` (longest first) ordered for pytest-xdist's `--dist loadgroup`, which gives
    worker i the i-th unit of work, then, in the same order, worker i the (workers + i)-th,
    before it hands out the rest as workers run out of work: the longest tests first, then
    the next ones shortest first, so the longest test shares its worker with the shortest of
    them. Longest first throughout put the first and the fourth on one worker: the run took
    its whole 290 s while the other two were done at 260 s."""
    first, second, rest = names[:workers], names[workers : 2 * workers], names[2 * workers :]
    return first + second[::-1] + rest


class Moto:
    """moto's server in this process; its backends are the same objects this code edits."""

    def __init__(self) -> None:
        # Attaching the AWS-managed Lambda policies needs moto to know them; it reads this
        # when the IAM backend is created, so it must be set before anything starts.
        os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        from moto.server import ThreadedMotoServer

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"

    def client(self, service: str, region: str) -> Any:
        import boto3

        return boto3.client(
            service,
            region_name=region,
            endpoint_url=self.endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def stop(self) -> None:
        self.server.stop()


def moto_provider_settings(endpoint: str) -> dict[str, Any]:
    """AWS provider arguments that send every call the stacks make to moto at `endpoint`."""
    return {
        "access_key": "testing",
        "secret_key": "testing",
        "skip_credentials_validation": True,
        "skip_requesting_account_id": True,
        "skip_metadata_api_check": "true",
        "endpoints": [dict.fromkeys(ENDPOINT_SERVICES, endpoint)],
    }


def patch_for_moto(stack: Stack, endpoint: str, aws_version: str) -> list[str]:
    """Point every AWS provider at moto, pin the mirrored provider, keep state in the work
    directory. Returns what was patched, for the metadata."""
    pinned = stack["terraform"]["required_providers"]["aws"]["version"]
    stack["terraform"]["required_providers"]["aws"]["version"] = aws_version
    stack["terraform"]["backend"] = {"local": {"path": "terraform.tfstate"}}
    for provider in stack["provider"]["aws"]:
        provider.update(moto_provider_settings(endpoint))
    return [
        f"terraform.required_providers.aws.version {pinned} -> {aws_version} (the mirror's)",
        "terraform.backend -> local terraform.tfstate in the work directory",
        "provider.aws[*]: access_key/secret_key 'testing', skip_credentials_validation, "
        "skip_requesting_account_id, skip_metadata_api_check, endpoints "
        f"{{{', '.join(ENDPOINT_SERVICES)}}} -> moto on 127.0.0.1",
    ]


def mirrored_providers(plugin_dir: Path) -> dict[str, list[str]]:
    """`namespace/type` -> the versions the mirror holds, oldest first (registry.terraform.io
    only)."""
    base = plugin_dir / "registry.terraform.io"
    found: dict[str, list[str]] = {}
    for provider in sorted(base.glob("*/*")) if base.is_dir() else []:
        versions = sorted((p.name for p in provider.iterdir() if p.is_dir()), key=version_key)
        if versions:
            found[f"{provider.parent.name}/{provider.name}"] = versions
    return found


def cli_config_text(plugin_cache: Path | None) -> str:
    """The CLI configuration: nothing but, with a cache, where it is. The cache may serve a
    provider the work directory's lock file has no checksum of yet (every work directory here
    starts without one), which Terraform otherwise does not allow since 1.4."""
    if plugin_cache is None:
        return ""
    return (
        f"plugin_cache_dir = {json.dumps(str(plugin_cache))}\n"
        "plugin_cache_may_break_dependency_lock_file = true\n"
    )


def once_under_lock(marker: Path, lock_path: Path, build: Callable[[], str]) -> None:
    """Run `build` once for every process that asks: the first takes an exclusive lock on
    `lock_path`, builds, and writes what `build` returns to `marker`; the others, waiting on
    the lock or coming later, find the marker and return. A `build` that fails writes no
    marker, so the next caller builds again."""
    if marker.is_file():
        return
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.is_file():
            marker.write_text(build())


def fill_plugin_cache(binary: str, plugin_dir: Path, cache: Path) -> None:
    """Put every provider of the mirror into `cache`, once for all processes.

    Terraform's plugin cache is not safe for concurrent installs (its documentation says so):
    the first caller fills it under an exclusive lock and marks it filled; from then on every
    `init` only reads it (links to it), which any number of processes may do at once."""
    cache.mkdir(parents=True, exist_ok=True)

    def fill() -> str:
        providers = mirrored_providers(plugin_dir)
        rounds = max((len(v) for v in providers.values()), default=0)
        for index in range(rounds):
            # One configuration requires one version of a provider: a round per version.
            work = Path(tempfile.mkdtemp(prefix="fill-", dir=cache.parent))
            required = {
                name.split("/")[1]: {"source": name, "version": versions[index]}
                for name, versions in providers.items()
                if index < len(versions)
            }
            config = {"terraform": {"required_providers": required}}
            (work / "main.tf.json").write_text(json.dumps(config))
            Terraform(binary, work, plugin_dir, plugin_cache=cache).run(
                "init", f"-plugin-dir={plugin_dir}", "-input=false", "-no-color"
            )
            shutil.rmtree(work, ignore_errors=True)
        return json.dumps(providers)

    once_under_lock(cache / ".filled", cache.parent / f"{cache.name}.lock", fill)


def init_key(workdir: Path, args: Sequence[str]) -> str:
    """What `terraform init` in `workdir` depends on: the `terraform` blocks (providers,
    backend) and modules of its JSON configuration, every `.tf` file whole, and the arguments."""
    parts: list[object] = [list(args)]
    for path in sorted(workdir.glob("*.tf.json")):
        config = json.loads(path.read_text())
        parts.append([path.name, config.get("terraform"), config.get("module")])
    for path in sorted(workdir.glob("*.tf")):
        parts.append([path.name, path.read_text()])
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def aws_provider_executable(plugin_dir: Path) -> Path | None:
    """The mirror's AWS provider binary for this platform (its newest version), or None when
    the mirror holds none unpacked."""
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    try:
        version = mirrored_aws_version(plugin_dir)
    except HarnessError:
        return None
    folder = plugin_dir / "registry.terraform.io" / "hashicorp" / "aws" / version
    found = sorted((folder / f"{sys.platform}_{arch.lower()}").glob("terraform-provider-aws*"))
    return found[0] if found and os.access(found[0], os.X_OK) else None


def shares_the_provider(workdir: Path, version: str) -> bool:
    """Whether the commands in `workdir` may attach to one shared AWS provider server of
    `version`: the configuration is JSON, has no modules and one AWS provider configuration,
    pinned to that version. Terraform sends every configuration of an attached provider (each
    alias, each module's) to the same server, where the last one configured would serve them
    all; and it does not check an attached provider's version against the configuration."""
    if any(workdir.glob("*.tf")):
        return False
    configurations = 0
    for path in workdir.glob("*.tf.json"):
        document = json.loads(path.read_text())
        if document.get("module"):
            return False
        pinned = document.get("terraform", {}).get("required_providers", {}).get("aws")
        if pinned is not None and pinned.get("version") != version:
            return False
        blocks = document.get("provider", {}).get("aws", [])
        configurations += len(blocks) if isinstance(blocks, list) else 1
    return configurations == 1


class ProviderServer:
    """The AWS provider serving in debug mode (`-debug`) for the commands of this process in
    one work directory to attach to (`TF_REATTACH_PROVIDERS`), one command at a time. The
    provider reads the files a configuration names (a function's zip) from its own working
    directory, which Terraform makes the work directory only for a provider it starts.

    A command otherwise starts the provider two or three times (a plan: once for the schema,
    once to validate, once to plan), and each process builds and sends its schema again. A
    plan of `dev` against moto took 6.7 s of CPU with its own providers and 5.1 s attached
    (terraform's `getrusage` plus the server's /proc CPU, three runs each). What Terraform asks
    the provider for, and when, is the same. The server starts on first use, again after it
    exited (a provider panic ends it), and stops when another work directory's server is asked
    for (tests run one after another in a process) or this process exits."""

    _running: dict[tuple[Path, Path, tuple[tuple[str, str], ...]], ProviderServer] = {}
    _registry = threading.Lock()

    def __init__(self, executable: Path, env: Mapping[str, str], workdir: Path) -> None:
        self.executable, self.env, self.workdir = executable, dict(env), workdir
        self.lock = threading.Lock()
        self.process: subprocess.Popen[bytes] | None = None
        self.reattach = ""
        self.starts = 0

    @classmethod
    def serving(cls, executable: Path, env: Mapping[str, str], workdir: Path) -> ProviderServer:
        """This process's server of `executable` in `env` for `workdir`, made on first request;
        the idle servers of other work directories stop."""
        key = (executable, workdir, tuple(sorted(env.items())))
        with cls._registry:
            if key not in cls._running:
                for other_key, other in list(cls._running.items()):
                    if other.lock.acquire(blocking=False):
                        try:
                            other.stop()
                        finally:
                            other.lock.release()
                        del cls._running[other_key]
                cls._running[key] = cls(executable, env, workdir)
            return cls._running[key]

    @classmethod
    def stop_all(cls) -> None:
        with cls._registry:
            for server in cls._running.values():
                server.stop()
            cls._running.clear()

    def attach(self) -> str:
        """The `TF_REATTACH_PROVIDERS` value of the running server, started first if need be."""
        if self.process is None or self.process.poll() is not None:
            self._start()
        return self.reattach

    def _start(self) -> None:
        self.stop()
        # The server's output, read for its reattach line (or for the error below); the
        # server keeps writing to it after this process closed it.
        with tempfile.TemporaryFile() as output:
            self.process = subprocess.Popen(
                [str(self.executable), "-debug"],
                cwd=self.workdir,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
            deadline = time.monotonic() + PROVIDER_START_TIMEOUT
            while True:
                output.seek(0)
                said = output.read().decode(errors="replace")
                found = re.search(r"TF_REATTACH_PROVIDERS='([^']+)'", said)
                if found and AWS_PROVIDER in json.loads(found[1]):
                    self.reattach = found[1]
                    self.starts += 1
                    return
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    tail = "\n".join(said.strip().splitlines()[-25:])
                    raise HarnessError(f"{self.executable} -debug did not start serving:\n{tail}")
                time.sleep(0.05)

    def stop(self) -> None:
        """Interrupt the server (it removes its socket then) and wait for it to exit."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


atexit.register(ProviderServer.stop_all)


class Terraform:
    """Runs terraform in one work directory, one process at a time, offline."""

    def __init__(
        self,
        binary: str,
        workdir: Path,
        plugin_dir: Path,
        log: Callable[[str], object] = lambda _: None,
        plugin_cache: Path | None = None,
    ) -> None:
        """`plugin_cache`: default, STATICIP_TF_PLUGIN_CACHE_DIR's (none when it is unset)."""
        self.binary, self.workdir, self.plugin_dir, self.log = binary, workdir, plugin_dir, log
        if plugin_cache is None and os.environ.get(PLUGIN_CACHE_VARIABLE):
            plugin_cache = Path(os.environ[PLUGIN_CACHE_VARIABLE])
        self.plugin_cache = plugin_cache
        cli_config = workdir / "empty.terraformrc"
        cli_config.write_text(cli_config_text(plugin_cache))
        # Nothing of the developer's AWS or Terraform setup may leak in.
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_"))}
        self.env.update(
            TF_CLI_CONFIG_FILE=str(cli_config),
            CHECKPOINT_DISABLE="1",
            TF_IN_AUTOMATION="1",
            AWS_CONFIG_FILE="/nonexistent/staticip-fixtures/config",
            AWS_SHARED_CREDENTIALS_FILE="/nonexistent/staticip-fixtures/credentials",
            AWS_EC2_METADATA_DISABLED="true",
            NO_PROXY="127.0.0.1,localhost",
            no_proxy="127.0.0.1,localhost",
        )
        # Terraform and the AWS provider (which inherits this environment) spend much of their
        # CPU collecting garbage while they build the provider's schema, in every command and
        # in each of the three provider processes a plan starts: at 400, a plan of `prod`
        # took 7.0 s of CPU instead of 9.7 s, the provider peaking at ~450 MB instead of
        # ~310 MB; a plan of `dev` took 6.9 s and ~460 MB at 400, 6.4 s and ~680 MB at 800
        # (`/usr/bin/time`, twice each); 1600 was no faster. A caller's GOGC wins.
        self.env.setdefault("GOGC", "800")
        self.history: list[str] = []
        self.shared_provider: Path | None = None
        #: The server the last command attached to; None: it started its own providers.
        self.attached_to: ProviderServer | None = None
        if os.environ.get(SHARED_PROVIDER_VARIABLE):
            self.shared_provider = aws_provider_executable(plugin_dir)
        # The server's: without what changes with each test or work directory, and the
        # provider does not read.
        self.server_env = {
            k: v
            for k, v in self.env.items()
            if k != "TF_CLI_CONFIG_FILE" and not k.startswith("PYTEST_")
        }

    @contextlib.contextmanager
    def environment_for(self, command: str) -> Iterator[dict[str, str]]:
        """The environment for `command`: attached to the shared provider server, held until
        the command is done, where the command and the configuration allow."""
        executable = self.shared_provider
        if (
            executable is None
            or command in UNATTACHED_COMMANDS
            or not shares_the_provider(self.workdir, executable.parent.parent.name)
        ):
            self.attached_to = None
            yield self.env
            return
        server = self.attached_to = ProviderServer.serving(
            executable, self.server_env, self.workdir
        )
        with server.lock:
            yield {**self.env, "TF_REATTACH_PROVIDERS": server.attach()}

    def run(self, *args: str, ok: Sequence[int] = (0,)) -> subprocess.CompletedProcess[str]:
        shown = "terraform " + " ".join(
            a.replace(str(self.plugin_dir), "<plugin-dir>") for a in args
        )
        started = time.monotonic()
        try:
            with self.environment_for(args[0]) as env:
                result = subprocess.run(
                    [self.binary, *args],
                    cwd=self.workdir,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=TERRAFORM_TIMEOUT,
                )
        except subprocess.TimeoutExpired as timeout:
            # What was still in progress ("Still creating... [id=..., 4m50s elapsed]").
            said = timeout.output or b""
            said = said.decode(errors="replace") if isinstance(said, bytes) else said
            with (self.workdir / "terraform.log").open("a") as out:
                out.write(f"$ {shown} (killed after {TERRAFORM_TIMEOUT} s)\n{said}\n")
            tail = "\n".join(said.strip().splitlines()[-25:])
            raise HarnessError(f"{shown} still ran after {TERRAFORM_TIMEOUT} s:\n{tail}") from None
        self.log(f"  {shown} -> exit {result.returncode} in {time.monotonic() - started:.1f} s")
        if args[0] != "show":
            # Kept with the work directory (--work) for a look at what Terraform said.
            with (self.workdir / "terraform.log").open("a") as out:
                out.write(f"$ {shown}\n{result.stdout}{result.stderr}\n")
        if result.returncode not in ok:
            tail = (result.stderr or result.stdout).strip().splitlines()[-25:]
            raise HarnessError(f"{shown} exited {result.returncode}:\n" + "\n".join(tail))
        if args[0] != "show":
            self.history.append(shown)
        return result

    def init(self, *extra: str) -> bool:
        """`terraform init` from the mirror (through the plugin cache, filled first if need
        be), unless this directory was initialised already for the same providers, backend
        and arguments. True when it ran."""
        args = (f"-plugin-dir={self.plugin_dir}", "-input=false", "-no-color", *extra)
        key = init_key(self.workdir, args)
        marker = self.workdir / ".terraform" / INIT_MARKER
        lock_file = self.workdir / ".terraform.lock.hcl"
        if marker.is_file() and marker.read_text() == key and lock_file.is_file():
            self.log("  terraform init: skipped, initialised for this configuration already")
            return False
        if self.plugin_cache is not None:
            fill_plugin_cache(self.binary, self.plugin_dir, self.plugin_cache)
        self.run("init", *args)
        marker.parent.mkdir(exist_ok=True)
        marker.write_text(key)
        return True

    def note(self, text: str) -> None:
        """Record a step this script took between terraform commands, for the metadata."""
        self.history.append(f"(script) {text}")

    def write_stack(self, stack: Stack, assets_from: Path) -> None:
        (self.workdir / "cdk.tf.json").write_text(json.dumps(stack, indent=2))
        if (assets_from / "assets").is_dir():
            shutil.copytree(assets_from / "assets", self.workdir / "assets", dirs_exist_ok=True)

    def state(self) -> dict[str, Any]:
        return json.loads((self.workdir / "terraform.tfstate").read_text())


def state_resource(state: Mapping[str, Any], rtype: str, name: str) -> dict[str, Any]:
    for resource in state["resources"]:
        if resource["mode"] == "managed" and resource["type"] == rtype and resource["name"] == name:
            return resource["instances"][0]["attributes"]
    raise HarnessError(f"{rtype}.{name} is not in the state")


def lambda_creates_enis() -> Callable[[], None]:
    """Make moto's Lambda do what Lambda does for a VPC function: create one Hyperplane ENI per
    (subnet, security-group set) that has none yet, when the function is created or its VPC
    config changes, and delete those no function uses any more when a function is deleted or
    leaves their subnet.
    moto 5.2 does neither. Real Lambda creates them asynchronously while the function is Pending
    (the provider waits for Active) and deletes unused ones minutes to hours later (the provider
    then waits when it deletes their subnet or security group); here both happen inside the API
    call. Returns the undo function."""
    import uuid

    from eni_fixtures import shape_as_lambda_eni
    from moto.awslambda.models import LambdaBackend
    from moto.ec2.models import ec2_backends

    def ensure_enis(backend: Any, name: str) -> None:
        config = backend.get_function(name).get_configuration()
        vpc = config.get("VpcConfig") or {}
        groups = sorted(vpc.get("SecurityGroupIds") or [])
        if not groups:
            return
        ec2 = ec2_backends[backend.account_id][backend.region_name]
        for subnet_id in vpc.get("SubnetIds") or []:
            # A snapshot: moto's other request threads add ENIs meanwhile (a NAT Gateway's, a
            # NAT instance's), and a walk of the live dict would fail with "dictionary changed
            # size during iteration" after the function was created (see the lock below).
            # list() copies it in one step, which no other thread can interleave.
            exists = any(
                eni.subnet.id == subnet_id
                and getattr(eni, "interface_type", "") == "lambda"
                and sorted(group.id for group in eni.group_set) == groups
                for eni in list(ec2.enis.values())
            )
            if not exists:
                eni = ec2.create_network_interface(
                    ec2.get_subnet(subnet_id),
                    None,
                    group_ids=groups,
                    description=f"AWS Lambda VPC ENI-{name}-{uuid.uuid4()}",
                )
                shape_as_lambda_eni(eni)

    def drop_unused_enis(backend: Any) -> None:
        # The provider waits, when it deletes a subnet or security group, for Lambda's ENIs in
        # it to go; Lambda deletes them once no function uses their (subnet, SG set).
        used = set()
        for function in backend.list_functions():
            vpc = function.get_configuration().get("VpcConfig") or {}
            groups = tuple(sorted(vpc.get("SecurityGroupIds") or []))
            used |= {(subnet, groups) for subnet in vpc.get("SubnetIds") or []}
        ec2 = ec2_backends[backend.account_id][backend.region_name]
        for eni_id, eni in list(ec2.enis.items()):
            if getattr(eni, "interface_type", "") != "lambda":
                continue
            if (eni.subnet.id, tuple(sorted(g.id for g in eni.group_set))) not in used:
                del ec2.enis[eni_id]

    original_create = LambdaBackend.create_function
    original_update = LambdaBackend.update_function_configuration
    original_delete = LambdaBackend.delete_function
    # moto's server answers each request in a thread of its own, and Terraform creates several
    # functions at once: unserialized, one request's walk through the ENIs can meet another's
    # new ENI ("dictionary changed size during iteration"). An error after CreateFunction has
    # created the function is the worst kind: the SDK sends it again, moto answers
    # ResourceConflictException ("Function already exist"), and the provider's
    # retryFunctionOp retries every such conflict for minutes. The lock keeps these requests
    # apart; the walks take snapshots against every other request that adds an ENI.
    lock = threading.Lock()

    def create_function(self: Any, spec: dict[str, Any]) -> Any:
        with lock:
            function = original_create(self, spec)
            ensure_enis(self, spec["FunctionName"])
            return function

    def update_function_configuration(
        self: Any, function_name: str, qualifier: str, body: dict[str, Any]
    ) -> Any:
        with lock:
            result = original_update(self, function_name, qualifier, body)
            ensure_enis(self, function_name)
            # A function that left a subnet (an AZ removed) frees that subnet's ENIs, as Lambda
            # does later on its own; deleting the subnet waits for them.
            drop_unused_enis(self)
            return result

    def delete_function(self: Any, function_name: str, qualifier: str | None = None) -> None:
        with lock:
            original_delete(self, function_name, qualifier)
            drop_unused_enis(self)

    LambdaBackend.create_function = create_function
    LambdaBackend.update_function_configuration = update_function_configuration
    LambdaBackend.delete_function = delete_function

    def undo() -> None:
        LambdaBackend.create_function = original_create
        LambdaBackend.update_function_configuration = original_update
        LambdaBackend.delete_function = original_delete

    return undo


def prefix_lists_take_their_new_size() -> Callable[[], None]:
    """moto 5.2's ModifyManagedPrefixList ignores `MaxEntries` and blanks the list's name when
    a call leaves `PrefixListName` out, so a prefix list that shrinks with the environment's
    AZs (the provider resizes it in a call of its own) keeps its old size, loses its name, and
    every later plan changes it again. AWS applies the size and keeps the name. Returns the
    undo."""
    from moto.ec2.responses.vpcs import VPCs

    original = VPCs.modify_managed_prefix_list

    def modify_managed_prefix_list(self: Any) -> Any:
        prefix_list = self.ec2_backend.managed_prefix_lists[self._get_param("PrefixListId")]
        name = prefix_list.prefix_list_name
        result = original(self)
        size = self._get_param("MaxEntries")
        if size:
            prefix_list.max_entries = str(size)
        if self._get_param("PrefixListName") is None:
            prefix_list.prefix_list_name = name
        return result

    VPCs.modify_managed_prefix_list = modify_managed_prefix_list

    def undo() -> None:
        VPCs.modify_managed_prefix_list = original

    return undo


def launch_templates_keep_their_own_tags() -> Callable[[], None]:
    """moto 5.2 copies the tags of a launch template itself (CreateLaunchTemplate's
    `TagSpecifications`, resource type `launch-template`) into the template's data, as if they
    were tags for what it launches; AWS does not, and `launch-template` is not a resource type
    launch template data may tag. The provider then reads a tag specification nobody wrote and
    every plan updates the template. Keep them on the template only. Returns the undo."""
    from moto.ec2.models.launch_templates import LaunchTemplateBackend

    original = LaunchTemplateBackend.create_launch_template

    def create_launch_template(
        self: Any,
        name: str,
        description: str,
        template_data: dict[str, Any],
        tag_spec: dict[str, Any],
    ) -> Any:
        specs = template_data.get("TagSpecifications") or []
        template_data["TagSpecifications"] = [
            spec for spec in specs if spec.get("ResourceType") != "launch-template"
        ]
        return original(self, name, description, template_data, tag_spec)

    LaunchTemplateBackend.create_launch_template = create_launch_template

    def undo() -> None:
        LaunchTemplateBackend.create_launch_template = original

    return undo


def terminated_instances_release_their_enis() -> Callable[[], None]:
    """EC2 detaches every network interface that is not deleted with an instance as the
    instance terminates (an ENI attached by AttachNetworkInterface is not, by default), and the
    ENI is `available` again; moto 5.2 leaves it attached to the terminated instance. Then the
    provider's delete of a NAT instance's static ENI waits on the attachment for minutes (2 min
    33 s in the NAT instance test), and a test had to detach it by hand before the group's
    replacement instance attached it. Detach it, as EC2 does. Returns the undo."""
    from moto.ec2.models.instances import Instance

    original = Instance.terminate

    def terminate(self: Any) -> Any:
        kept = [nic for nic in self.nics.values() if not nic.delete_on_termination]
        state = original(self)
        for nic in kept:
            if nic.instance is self:
                self.detach_eni(nic)
        return state

    Instance.terminate = terminate

    def undo() -> None:
        Instance.terminate = original

    return undo


def stand_in_eni_lookups(stack: Stack) -> list[str]:
    """Replace each `data.external` ENI lookup (its provider, hashicorp/external, is not in the
    mirror) with a `data.aws_network_interface` that reads the same `terraform_data` outputs,
    so Terraform decides when to read it exactly as it decides for the real lookup, and point
    the associations at it. Returns the replaced lookups' logical IDs."""
    lookups = stack.get("data", {}).pop("external", {})
    stack["provider"].pop("external", None)
    stack["terraform"]["required_providers"].pop("external", None)
    stand_ins = stack["data"].setdefault("aws_network_interface", {})
    for logical_id, lookup in lookups.items():
        query = lookup["query"]
        groups = query["security_group_ids"][2:-1]
        stand_ins[logical_id] = {
            "//": lookup.get("//", {}),
            "filter": [
                {"name": "interface-type", "values": ["lambda"]},
                {"name": "subnet-id", "values": [query["subnet_ids"]]},
                {"name": "group-id", "values": f'${{split(",", {groups})}}'},
            ],
        }
    for association in stack["resource"].get("aws_eip_association", {}).values():
        match = re.fullmatch(
            r"\$\{data\.external\.([\w-]+)\.result\[[^\]]+\]\}", association["network_interface_id"]
        )
        if match is None:
            raise HarnessError(f"unexpected lookup {association['network_interface_id']}")
        association["network_interface_id"] = f"${{data.aws_network_interface.{match[1]}.id}}"
    return sorted(lookups)
