#!/bin/sh
# Terraform's `external` data source runs this from the stack directory (cdktf.out/stacks/<env>)
# to resolve the dev function's Lambda ENIs. The resolver (staticip/enis.py) ships beside this
# script in the stack's assets, so the synthesized stack holds no path of the machine that
# synthesized it and runs the resolver version it was synthesized with; all it needs is a
# Python 3 with boto3, found at run time in this order:
#   1. $STATICIP_PYTHON, when set (an error if it cannot import boto3);
#   2. .venv/bin/python in the working directory or the nearest parent that has one
#      (`make synth` creates it at the repository root);
#   3. python3 on PATH.
# Only shell built-ins are used, so the one-line error below holds even on a bare PATH.
# This script is <root>/staticip/resolve-enis.sh; <root> goes on PYTHONPATH.
case "$0" in
    */staticip/resolve-enis.sh) root=${0%/staticip/resolve-enis.sh} ;;
    *) root=.. ;;
esac
prog=staticip.enis

usable() {
    command -v "$1" >/dev/null 2>&1 &&
        [ "$("$1" -c 'import boto3; print("usable")' </dev/null 2>/dev/null)" = usable ]
}

# No bytecode: it would land in the stack's assets directory on every plan.
run() {
    PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" \
        exec "$1" -m staticip.enis
}

if [ -n "${STATICIP_PYTHON:-}" ]; then
    usable "$STATICIP_PYTHON" && run "$STATICIP_PYTHON"
    echo "$prog: STATICIP_PYTHON=$STATICIP_PYTHON is not a Python that can import boto3: point it at one (e.g. the repository's .venv/bin/python after \`make synth\`)" >&2
    exit 1
fi

dir=$(pwd)
while [ -n "$dir" ]; do
    if [ -x "$dir/.venv/bin/python" ] && usable "$dir/.venv/bin/python"; then
        run "$dir/.venv/bin/python"
    fi
    dir=${dir%/*}
done

usable python3 && run python3
echo "$prog: no Python with boto3 for the ENI lookup (looked for .venv/bin/python from $(pwd) upwards, then python3 on PATH): run \`make synth\` in the repository, or set STATICIP_PYTHON to a Python 3 that has boto3" >&2
exit 1
