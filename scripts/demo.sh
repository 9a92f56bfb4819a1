#!/usr/bin/env bash
# make demo: secure_trunk.yml on the built-in lab (the molecule default scenario's containers),
# then the same play catching a real defect and refusing to complete.
#   KEEP=1  leave the lab up (SBC TLS listener on 127.0.0.1:5061); `make lab-down` removes it.
set -euo pipefail
cd "$(dirname "$0")/.."
source lab/env.sh
export PATH="$PWD/.venv/bin:$PATH"
state=lab/state/demo
mkdir -p "$state" demo-out
sbc=byoc-default-sbc
good_peer=10.89.61.21   # byoc-default-genesys: certificate names lb01..lb04, chains to the lab root
badname_peer=10.89.61.22  # byoc-default-genesys-badname: certificate names another host
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
elapsed() { echo $(( $(date +%s) - $1 ))s; }
t0=$(date +%s)

say "Lab: SBC (Debian 12, Kamailio 5.6, rtpengine) and lab 'Genesys' peers in podman"
echo "Lab roots stand in for DigiCert and for the public CA of the SBC certificate (stand-ins, not Genesys)."
molecule create -s default >"$state/create.log" 2>&1 || { tail -30 "$state/create.log"; exit 1; }
molecule prepare -s default --force >"$state/prepare.log" 2>&1 || { tail -30 "$state/prepare.log"; exit 1; }
python lab/demo/inventory.py "$PWD" "$state/inventory.yml" >/dev/null
echo "lab up in $(elapsed "$t0")"

route_proxies() {  # route_proxies ADDR_FOR_lb03: lb01/02/04 -> good peer, lb03 -> the given peer
  podman exec "$sbc" sh -c "grep -v 'voice.euc2.pure.cloud' /etc/hosts > /tmp/hosts.demo;
    for n in 01 02 04; do echo '$good_peer lb'\$n'.voice.euc2.pure.cloud' >> /tmp/hosts.demo; done;
    echo '$1 lb03.voice.euc2.pure.cloud' >> /tmp/hosts.demo; cat /tmp/hosts.demo > /etc/hosts"
}
play() {
  ansible-playbook -i "$state/inventory.yml" playbooks/secure_trunk.yml -e @lab/demo/trunk.yml \
    -e secure_trunk_report_dir="$PWD/demo-out" "$@"
}

say "Run secure_trunk.yml: preflight, identity, Kamailio, validation, summary"
route_proxies "$good_peer"
t1=$(date +%s)
play | tee "$state/run1.log" | sed -n '/Show the validation summary/,/^$/p;/PLAY RECAP/,$p'
echo "first run: $(elapsed "$t1")"

say "Run it again: nothing changes"
t2=$(date +%s)
play | tee "$state/run2.log" | sed -n '/PLAY RECAP/,$p'
echo "second run: $(elapsed "$t2")"
grep -q "changed=0" "$state/run2.log" || { echo "demo: the second run changed something" >&2; exit 1; }

say "Defect: lb03 now answers with a certificate that names another host"
route_proxies "$badname_peer"
if play --tags validate >"$state/run3.log" 2>&1; then
  echo "demo: the play completed although lb03 presents a wrong name" >&2; exit 1
fi
sed -n '/Show the validation summary/,/^$/p;/Refuse to complete/,/PLAY RECAP/p' "$state/run3.log" | head -60
echo "The play refused to complete, as it must. Reports: demo-out/"
route_proxies "$good_peer"

if [ "${KEEP:-0}" = 1 ]; then
  say "KEEP=1: the lab stays up"
  echo "Probe the SBC listener: openssl s_client -connect 127.0.0.1:5061 -servername sbc.customer.example -tls1_2"
  echo "Remove the lab: make lab-down"
else
  molecule destroy -s default >/dev/null 2>&1 || true
fi
echo "demo: $(elapsed "$t0") in all"
