#!/usr/bin/env bash
# Fleet benchmark: secure_trunk.yml over N lab SBCs at once, N = 1 3 5 (FLEET_SIZES to change).
# Reuses the molecule default lab (its peers, network, image and SSH key); adds SBC containers
# byoc-fleet-<i> beside it, routes every lbNN name to the good lab peer, times one first run and
# one re-run per N, and removes what it added. Prints a Markdown table for docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source lab/env.sh
export PATH="$PWD/.venv/bin:$PATH" ANSIBLE_FORKS=10
sizes=${FLEET_SIZES:-1 3 5}
state=lab/state/fleet
key=lab/state/ssh/id_ed25519
peer=10.89.61.21
mkdir -p "$state"

molecule create -s default >"$state/create.log" 2>&1
molecule prepare -s default --force >"$state/prepare.log" 2>&1

cleanup() { podman ps -a --format '{{.Names}}' | { grep '^byoc-fleet-' || true; } | xargs -r podman rm -f >/dev/null; }
trap 'cleanup; molecule destroy -s default >/dev/null 2>&1 || true' EXIT

# Each fleet size gets addresses of its own (10.89.61.<100 + 10*N + I>): a removed container's
# address, reused at once, stays unreachable while the host bridge remembers its old MAC.
start_sbc() {  # start_sbc N I: a fresh SBC container reachable over SSH
  local name=byoc-fleet-$2 ip=10.89.61.$((100 + 10 * $1 + $2)) hosts=() n
  for n in 01 02 03 04; do hosts+=(--add-host "lb$n.voice.euc2.pure.cloud:$peer"); done
  hosts+=(--add-host "crl.byoc-lab.test:$peer")  # the lab CRL server (run-time revocation)
  podman run -d --name "$name" --hostname sbc.customer.example --network byoc-lab-default --ip "$ip" \
    --cap-add SYS_PTRACE --cap-add NET_ADMIN "${hosts[@]}" "$BYOC_LAB_IMAGE" sleep infinity >/dev/null
  podman exec -i "$name" sh -c 'mkdir -p /root/.ssh /run/sshd && chmod 700 /root/.ssh &&
    cat > /root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys && /usr/sbin/sshd' < "$key.pub"
  echo "$name $ip"
}

inventory() {  # inventory N: the first N fleet SBCs as byoc_sbcs
  python - "$1" "$PWD" <<'PY'
import sys, yaml
n, project = int(sys.argv[1]), sys.argv[2]
common = {"ansible_user": "root", "ansible_connection": "ssh", "ansible_python_interpreter": "/usr/bin/python3",
          "ansible_ssh_private_key_file": project + "/lab/state/ssh/id_ed25519", "byoc_lab_pki": project + "/lab/state/pki",
          "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
                                     " -o ControlMaster=auto -o ControlPersist=60s"
                                     # per fleet size: containers are recreated with the same addresses
                                     " -o ControlPath=/tmp/byoc-fleet-%d-%%C" % n}
hosts = {"byoc-fleet-%d" % i: dict(common, ansible_host="10.89.61.%d" % (100 + 10 * n + i)) for i in range(1, n + 1)}
print(yaml.safe_dump({"all": {"children": {"byoc_sbcs": {"hosts": hosts}}}}))
PY
}

timed_play() {  # timed_play INVENTORY LOG -> seconds; fails if the play fails
  local t0 t1
  t0=$(date +%s.%N)
  ansible-playbook -i "$1" playbooks/secure_trunk.yml -e @lab/demo/trunk.yml >"$2" 2>&1 || { tail -40 "$2" >&2; return 1; }
  t1=$(date +%s.%N)
  python -c "print('%.1f' % ($t1 - $t0))"
}

echo "| SBCs | first run s | re-run s (changed=0) | first run per SBC s |"
echo "|---|---|---|---|"
for n in $sizes; do
  cleanup
  for i in $(seq 1 "$n"); do start_sbc "$n" "$i" >/dev/null; done
  inventory "$n" > "$state/inventory-$n.yml"
  first=$(timed_play "$state/inventory-$n.yml" "$state/run-$n-first.log")
  again=$(timed_play "$state/inventory-$n.yml" "$state/run-$n-again.log")
  grep -q "changed=[1-9]" "$state/run-$n-again.log" && { echo "fleet: the re-run with $n SBCs changed something" >&2; exit 1; }
  echo "| $n | $first | $again | $(python -c "print('%.1f' % ($first / $n))") |"
done
