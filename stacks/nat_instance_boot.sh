#!/bin/bash
# staticip NAT instance boot script (egress = "nat-instance"), rendered per AZ by
# stacks/nat_instance_boot.py into the launch template's user data; cloud-init runs it once, at
# the first boot of every instance the Auto Scaling group launches.
#
# The allow-listed EIP never moves: Terraform associates it with the AZ's static ENI, and this
# script attaches that ENI to the instance and forwards the VPC's traffic out of it. So a
# replaced instance leaves from the same address with no Terraform run.
#
# It configures nothing until the ENI is attached and its interface is up, and a failure after
# that turns forwarding off again: an instance either NATs out of the allow-listed EIP or not at
# all. On any failure it exits non-zero, says why on the console (`aws ec2 get-console-output`)
# and tells its Auto Scaling group it is unhealthy, so the group replaces it.
set -euo pipefail

ENI_ID="@ENI_ID@"
VPC_CIDR="@VPC_CIDR@"
REGION="@REGION@"
GROUP_NAME="@GROUP_NAME@"
ATTACH_TIMEOUT_SECONDS="@ATTACH_TIMEOUT_SECONDS@"
# Files go under this root; only the unit test (tests/test_nat_instance_boot.py) sets it.
ROOT="${STATICIP_NAT_ROOT:-}"

# The static ENI is the instance's second interface. amazon-ec2-net-utils (AL2023) gives a
# secondary interface its own route table, 10000 + its device number, with the default route
# through it (lib/lib.sh: rule_base=10000, RouteTable=rule_base+device-number); the main table's
# default route stays on the primary interface.
DEVICE_INDEX=1
ROUTE_TABLE=$((10000 + DEVICE_INDEX))
IMDS="http://169.254.169.254/latest"

instance_id=""
forwarding=""

log() { echo "staticip-nat: $*" >&2; }

on_exit() {
    local status=$?
    if [ "$status" -eq 0 ]; then
        return
    fi
    log "FAILED (exit $status): this instance does not NAT; see the lines above"
    if [ -n "$forwarding" ]; then
        sysctl -q -w net.ipv4.ip_forward=0 || log "could not turn forwarding off again"
    fi
    if [ -n "$instance_id" ]; then
        aws autoscaling set-instance-health --region "$REGION" --instance-id "$instance_id" \
            --health-status Unhealthy --no-should-respect-grace-period \
            || log "could not report itself unhealthy to $GROUP_NAME"
    fi
}
trap on_exit EXIT

# IMDSv2 only (the launch template requires tokens).
token=$(curl -fsS --max-time 5 -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 21600" \
    "$IMDS/api/token")
imds() { curl -fsS --max-time 5 -H "X-aws-ec2-metadata-token: $token" "$IMDS/meta-data/$1"; }
instance_id=$(imds instance-id)

deadline=$(($(date +%s) + ATTACH_TIMEOUT_SECONDS))
before_deadline() {
    if [ "$(date +%s)" -ge "$deadline" ]; then
        log "gave up after ${ATTACH_TIMEOUT_SECONDS}s: $1"
        return 1
    fi
}

# The MAC of the static ENI once IMDS lists it among this instance's interfaces.
eni_mac() {
    local mac
    for mac in $(imds network/interfaces/macs/); do
        mac=${mac%/}
        if [ "$(imds "network/interfaces/macs/$mac/interface-id")" = "$ENI_ID" ]; then
            echo "$mac"
            return 0
        fi
    done
    return 1
}

# --- 1. packages ---------------------------------------------------------------------------
# Through the primary interface's own public address, like the AWS API calls below. AL2023
# ships without iptables; iptables-services restores the saved rules at every boot (AWS
# VPC user guide, "Create a NAT AMI").
if ! rpm -q iptables-services >/dev/null; then
    dnf install -y -q iptables-services
fi

# --- 2. attach the static ENI -------------------------------------------------------------
# Retried: on a first apply the instance profile may not be usable yet (IAM is eventually
# consistent), and a replacement may boot while the old instance still holds the ENI.
until mac=$(eni_mac); do
    if aws ec2 attach-network-interface --region "$REGION" --instance-id "$instance_id" \
        --network-interface-id "$ENI_ID" --device-index "$DEVICE_INDEX" >/dev/null; then
        log "attached $ENI_ID to $instance_id"
    else
        log "attaching $ENI_ID failed; retrying"
    fi
    before_deadline "$ENI_ID is not attached to $instance_id"
    sleep 5
done

interface_of() { ip -o link show | awk -v mac="$1" '$0 ~ "link/ether " mac " " {
    sub(":$", "", $2); sub("@.*", "", $2); print $2; exit }'; }
until iface=$(interface_of "$mac") && [ -n "$iface" ]; do
    before_deadline "no interface with MAC $mac appeared"
    sleep 1
done
log "$ENI_ID is $iface ($mac)"

# --- 3. configure: forward the VPC's traffic and masquerade it out of the static ENI --------
mkdir -p "$ROOT/etc/sysctl.d"
cat >"$ROOT/etc/sysctl.d/90-staticip-nat.conf" <<EOF
net.ipv4.ip_forward = 1
# Loose reverse-path filtering: replies come back on the static ENI, whose routes are in their
# own table.
net.ipv4.conf.all.rp_filter = 2
EOF
forwarding=yes
sysctl -q -p "$ROOT/etc/sysctl.d/90-staticip-nat.conf"

# Packets from the private subnets arrive on the static ENI; route them by its table, whose
# default route leaves through it (and so from the EIP), not through the primary interface.
dropin="$ROOT/etc/systemd/network/70-$iface.network.d"
mkdir -p "$dropin"
cat >"$dropin/staticip-nat.conf" <<EOF
[RoutingPolicyRule]
IncomingInterface=$iface
Table=$ROUTE_TABLE
Priority=100
EOF
networkctl reload

systemctl enable --now iptables
# The service's default rules reject forwarded packets; allow only the VPC's, and their replies.
iptables -F FORWARD
iptables -P FORWARD DROP
iptables -A FORWARD -i "$iface" -s "$VPC_CIDR" -j ACCEPT
iptables -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
# Out of the static ENI only: a packet the routing sent elsewhere is not translated, so it is
# dropped (source/destination check) instead of leaving from an address nobody allow-listed.
iptables -t nat -F POSTROUTING
iptables -t nat -A POSTROUTING -s "$VPC_CIDR" -o "$iface" -j MASQUERADE
mkdir -p "$ROOT/etc/sysconfig"
iptables-save >"$ROOT/etc/sysconfig/iptables"

# --- 4. check before declaring success ---------------------------------------------------------
until ip rule show iif "$iface" | grep -q "lookup $ROUTE_TABLE"; do
    before_deadline "no routing rule for traffic arriving on $iface"
    sleep 1
done
until ip route show table "$ROUTE_TABLE" default | grep -q "dev $iface"; do
    before_deadline "route table $ROUTE_TABLE has no default route through $iface"
    sleep 1
done
log "ready: forwarding $VPC_CIDR out of $iface ($ENI_ID) on $instance_id"
