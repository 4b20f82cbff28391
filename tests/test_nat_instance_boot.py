"""The NAT instance's boot script (stacks/nat_instance_boot.sh), rendered as the stack renders
it and run by bash with every command it calls on an instance stubbed on PATH: IMDS (`curl`),
`aws`, `ip`, `sysctl`, `iptables`, `dnf`/`rpm`, `systemctl`, `networkctl`, and a fake clock
(`date`, `sleep`) so its retry deadlines pass instantly. Each stub logs its arguments.

What it must do: configure nothing until the static ENI is attached and its interface is up;
then forward and masquerade the VPC's traffic out of that interface only. When the ENI cannot
be attached it must fail loudly (non-zero, a reason on stderr, the group told it is unhealthy)
with nothing configured; when something fails later it must turn forwarding off again."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from stacks.nat_instance_boot import SCRIPT, BootSettings, render_boot_script

ENI = "eni-0123456789abcdef0"
INSTANCE = "i-0fedcba9876543210"
PRIMARY_MAC, ENI_MAC = "0a:00:00:00:00:01", "0a:00:00:00:00:02"
VPC_CIDR = "10.40.0.0/16"
GROUP = "acme-budget-nat-eu-west-1a"
TIMEOUT = 300

# Each stub: log "<name> <args>" to $STATE/calls, then behave as on an AL2023 instance.
STUBS = {
    "curl": r"""
[ ! -e "$STATE/imds-down" ] || exit 7
url="${@: -1}"
case "$url" in
  */api/token) echo TOKEN ;;
  */meta-data/instance-id) echo "$INSTANCE" ;;
  */meta-data/network/interfaces/macs/) sed 's|$|/|' "$STATE/macs" ;;
  */interface-id) mac="${url%/interface-id}"; mac="${mac##*/}"; cat "$STATE/eni-of-$mac" ;;
  *) exit 22 ;;
esac
""",
    "aws": r"""
case "$1 $2" in
  "ec2 attach-network-interface")
    n=$(($(cat "$STATE/attach-failures" 2>/dev/null || echo 0)))
    if [ "$n" -ne 0 ]; then
      echo $((n - 1)) >"$STATE/attach-failures"
      echo "An error occurred (UnauthorizedOperation) when calling AttachNetworkInterface" >&2
      exit 254
    fi
    echo "$ENI_MAC" >>"$STATE/macs"; echo "$ENI_ID" >"$STATE/eni-of-$ENI_MAC"
    echo '{"AttachmentId": "eni-attach-1"}' ;;
esac
""",
    "ip": r"""
case "$*" in
  "-o link show")
    echo "2: ens5: <UP,LOWER_UP> mtu 9001\    link/ether $PRIMARY_MAC brd ff:ff:ff:ff:ff:ff"
    if grep -q "$ENI_MAC" "$STATE/macs"; then
      echo "3: ens6: <UP,LOWER_UP> mtu 9001\    link/ether $ENI_MAC brd ff:ff:ff:ff:ff:ff"
    fi ;;
  "rule show iif ens6")
    [ -e "$STATE/networkd-reloaded" ] && [ ! -e "$STATE/no-rule" ] \
      && printf '100:\tfrom all iif ens6 lookup 10001 proto static\n' ;;
  "route show table 10001 default")
    echo "default via 10.40.0.1 dev ens6 proto dhcp src 10.40.0.77 metric 522" ;;
esac
""",
    "networkctl": r"""[ "$1" != reload ] || touch "$STATE/networkd-reloaded" """,
    "rpm": "exit 1",
    "iptables-save": 'echo "*nat"',
    "date": 'cat "$STATE/clock"',
    "sleep": 'echo $(($(cat "$STATE/clock") + ${1%%.*})) >"$STATE/clock"',
    **dict.fromkeys(("dnf", "sysctl", "iptables", "systemctl"), ""),
}


@dataclass
class Run:
    returncode: int
    stderr: str
    calls: list[str]
    root: Path

    def called(self, prefix: str) -> list[str]:
        return [c for c in self.calls if c.startswith(prefix)]

    def index(self, prefix: str) -> int:
        return next(i for i, c in enumerate(self.calls) if c.startswith(prefix))


@pytest.fixture
def boot(tmp_path: Path):
    """Run the rendered script once with the stubs; `state` files set how they behave."""
    stubs, state, root = tmp_path / "bin", tmp_path / "state", tmp_path / "root"
    for path in (stubs, state, root):
        path.mkdir()
    for name, body in STUBS.items():
        stub = stubs / name
        stub.write_text(f'#!/bin/bash\necho "{name} $*" >>"$STATE/calls"\n{body}\n')
        stub.chmod(0o755)
    (state / "macs").write_text(PRIMARY_MAC + "\n")
    (state / f"eni-of-{PRIMARY_MAC}").write_text("eni-0primary000000000\n")
    (state / "clock").write_text("1000\n")
    script = tmp_path / "boot.sh"
    script.write_text(
        render_boot_script(
            BootSettings(
                eni_id=ENI,
                vpc_cidr=VPC_CIDR,
                region="eu-west-1",
                group_name=GROUP,
                attach_timeout_seconds=TIMEOUT,
            )
        )
    )
    # Only the stubs and the shell's own tools: anything else the script calls is missing.
    tools = tmp_path / "tools"
    tools.mkdir()
    for tool in ("cat", "sed", "awk", "grep", "mkdir", "touch"):
        (tools / tool).symlink_to(shutil.which(tool) or f"/usr/bin/{tool}")
    env = {
        "PATH": f"{stubs}:{tools}",
        "STATE": str(state),
        "STATICIP_NAT_ROOT": str(root),
        "INSTANCE": INSTANCE,
        "ENI_ID": ENI,
        "ENI_MAC": ENI_MAC,
        "PRIMARY_MAC": PRIMARY_MAC,
    }

    def run() -> Run:
        done = subprocess.run(
            [shutil.which("bash") or "/bin/bash", str(script)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        calls = (state / "calls").read_text().splitlines() if (state / "calls").exists() else []
        return Run(done.returncode, done.stderr, calls, root)

    run.state = state  # type: ignore[attr-defined]
    return run


def test_it_attaches_the_eni_first_then_forwards_the_vpc_out_of_that_interface_only(boot):
    result = boot()

    assert result.returncode == 0, result.stderr
    attach = result.index("aws ec2 attach-network-interface")
    assert f"--instance-id {INSTANCE}" in result.calls[attach]
    assert f"--network-interface-id {ENI}" in result.calls[attach]
    # Nothing that changes how packets flow runs before the ENI is attached.
    for step in ("sysctl", "iptables", "networkctl", "systemctl"):
        assert result.index(step) > attach, step
    assert f"iptables -t nat -A POSTROUTING -s {VPC_CIDR} -o ens6 -j MASQUERADE" in result.calls
    assert f"iptables -A FORWARD -i ens6 -s {VPC_CIDR} -j ACCEPT" in result.calls
    assert "iptables -P FORWARD DROP" in result.calls
    sysctl = (result.root / "etc/sysctl.d/90-staticip-nat.conf").read_text()
    assert "net.ipv4.ip_forward = 1" in sysctl
    assert f"sysctl -q -p {result.root}/etc/sysctl.d/90-staticip-nat.conf" in result.calls
    # Traffic arriving on the static ENI is routed by its own table, out through it.
    dropin = (result.root / "etc/systemd/network/70-ens6.network.d/staticip-nat.conf").read_text()
    assert "IncomingInterface=ens6" in dropin and "Table=10001" in dropin
    assert (result.root / "etc/sysconfig/iptables").read_text().startswith("*nat")
    assert "systemctl enable --now iptables" in result.calls
    assert not result.called("aws autoscaling")
    assert f"ready: forwarding {VPC_CIDR} out of ens6 ({ENI})" in result.stderr


def test_it_retries_the_attach_while_the_role_is_not_usable_yet(boot):
    # A first apply: the instance profile's permissions take a while to reach EC2.
    (boot.state / "attach-failures").write_text("3\n")
    result = boot()

    assert result.returncode == 0, result.stderr
    assert len(result.called("aws ec2 attach-network-interface")) == 4
    assert result.stderr.count("attaching eni-0123456789abcdef0 failed; retrying") == 3


def test_an_eni_it_cannot_attach_fails_loudly_with_nothing_configured(boot):
    (boot.state / "attach-failures").write_text("1000000\n")
    result = boot()

    assert result.returncode != 0
    # It kept trying for the whole timeout (the fake clock moves 5 s a try), then gave up.
    attempts = result.called("aws ec2 attach-network-interface")
    assert len(attempts) == TIMEOUT // 5 + 1
    assert f"gave up after {TIMEOUT}s: {ENI} is not attached to {INSTANCE}" in result.stderr
    assert "FAILED" in result.stderr
    # Not half-configured: no forwarding, no NAT rule, no routing change.
    for step in ("sysctl", "iptables", "networkctl", "systemctl"):
        assert not result.called(step), step
    assert not (result.root / "etc/sysctl.d").exists()
    # Its group is told, so it replaces the instance instead of keeping a NAT that forwards
    # nothing.
    (health,) = result.called("aws autoscaling set-instance-health")
    assert f"--instance-id {INSTANCE}" in health and "--health-status Unhealthy" in health


def test_a_failure_after_forwarding_was_on_turns_it_off_again(boot):
    # The routing rule for the static interface never shows up (networkd did not apply it).
    (boot.state / "no-rule").write_text("")
    result = boot()

    assert result.returncode != 0
    assert "no routing rule for traffic arriving on ens6" in result.stderr
    sysctl = result.called("sysctl")
    assert sysctl[-1] == "sysctl -q -w net.ipv4.ip_forward=0"
    assert result.called("aws autoscaling set-instance-health")


def test_without_instance_metadata_it_stops_before_touching_anything(boot):
    (boot.state / "imds-down").write_text("")
    result = boot()

    assert result.returncode != 0 and "FAILED" in result.stderr
    assert [c.split()[0] for c in result.calls] == ["curl"]


def test_a_missing_command_is_an_error_not_a_skipped_step(boot, tmp_path):
    # `set -e`: with iptables-save gone the rules are not saved, and the script says so.
    os.remove(tmp_path / "bin" / "iptables-save")
    result = boot()

    assert result.returncode != 0
    assert "iptables-save: command not found" in result.stderr
    assert result.called("sysctl")[-1] == "sysctl -q -w net.ipv4.ip_forward=0"


def test_rendering_fills_every_placeholder_and_escapes_only_the_script_for_terraform():
    settings = BootSettings(
        eni_id="${aws_network_interface.x.id}",
        vpc_cidr=VPC_CIDR,
        region="eu-west-1",
        group_name=GROUP,
    )
    plain = render_boot_script(settings)
    escaped = render_boot_script(settings, for_terraform=True)
    template = SCRIPT.read_text()

    assert not re.search(r"@[A-Z_]+@", plain + escaped)
    assert f'ENI_ID="{settings.eni_id}"' in plain and f'ENI_ID="{settings.eni_id}"' in escaped
    # Every `${` of the script itself is escaped; the one in the value is not.
    assert escaped.count("$${") == template.count("${") > 0
    assert escaped.replace("$${", "${").replace("%%{", "%{") == plain


def test_a_placeholder_without_a_setting_is_an_error(tmp_path, monkeypatch):
    script = tmp_path / "boot.sh"
    script.write_text(SCRIPT.read_text() + "echo @NO_SUCH_SETTING@\n")
    monkeypatch.setattr("stacks.nat_instance_boot.SCRIPT", script)
    with pytest.raises(ValueError, match="no setting for @NO_SUCH_SETTING@"):
        render_boot_script(BootSettings("eni-1", VPC_CIDR, "eu-west-1", GROUP))
