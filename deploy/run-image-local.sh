#!/usr/bin/env bash
# Runs the image as the three roles on this machine, one container each, and sends one completion through them:
# a prefill container, a decode container that trusts it, and a gateway in front of both. Each runs as the image's
# non-root user with a read-only root, a tmpfs /tmp and no capabilities, as the Kubernetes manifests run them; the node
# token and an API key come from the environment, as the pods get them from the Secret. The containers share the
# host's network and bind 127.0.0.1 only, so nothing is reachable from outside. They are removed on exit, also on
# failure or Ctrl-C.
#
#   deploy/run-image-local.sh [--image pdserve:0.1.0] [--runtime runc] [--port 18000]
#
# Needs root and podman (apt-get install podman; runc too where crun refuses the machine's cgroup layout).
set -euo pipefail

image="localhost/pdserve:0.1.0"
runtime=""
gateway_port=18000
prefill_port=18100
decode_port=18200

fail() { echo "run-image-local: $*" >&2; exit 2; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --image) image="${2:?--image needs a value}"; shift 2 ;;
    --runtime) runtime="${2:?--runtime needs a value}"; shift 2 ;;
    --port) gateway_port="${2:?--port needs a value}"; shift 2 ;;
    -h|--help) sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) fail "unknown argument '$1' (see --help)" ;;
  esac
done
command -v podman >/dev/null || fail "podman is not installed (apt-get install podman)"
command -v curl >/dev/null || fail "curl is not installed"

podman=(podman)
[[ -n "$runtime" ]] && podman+=(--runtime "$runtime")

# shellcheck source=deploy/podman-run-flags.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/podman-run-flags.sh"
run_flags=(--detach --network host --read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges "${podman_run_limits[@]}")

suffix="$$"
names=("pdserve-prefill-$suffix" "pdserve-decode-$suffix" "pdserve-gateway-$suffix")
cleanup() {
  for name in "${names[@]}"; do "${podman[@]}" rm --force --time 5 "$name" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

token="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
api_key="sk-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"

echo "== prefill container: 127.0.0.1:$prefill_port (gRPC), :$((prefill_port + 1)) (HTTP/1.1)"
"${podman[@]}" run "${run_flags[@]}" --name "${names[0]}" --env PDSERVE_NODE_TOKEN="$token" "$image" \
  prefill --model /models/kjv-llama --host 127.0.0.1 --port "$prefill_port" --http-port "$((prefill_port + 1))" --threads 1 >/dev/null
echo "== decode container: 127.0.0.1:$decode_port (gRPC), :$((decode_port + 1)) (HTTP/1.1)"
"${podman[@]}" run "${run_flags[@]}" --name "${names[1]}" --env PDSERVE_NODE_TOKEN="$token" "$image" \
  decode --model /models/kjv-llama --host 127.0.0.1 --port "$decode_port" --http-port "$((decode_port + 1))" --threads 1 \
  --max-batch 16 --max-context 512 --kv-budget-mb 96 --prefill-nodes "http://127.0.0.1:$prefill_port" >/dev/null
echo "== gateway container: 127.0.0.1:$gateway_port (the image's /etc/pdserve/gateway.json, pools moved by environment)"
"${podman[@]}" run "${run_flags[@]}" --name "${names[2]}" \
  --env Gateway__NodeToken="$token" --env Gateway__ApiKeys__0="$api_key" \
  --env ReverseProxy__Clusters__prefill__Destinations__prefill0__Address="http://127.0.0.1:$prefill_port" \
  --env ReverseProxy__Clusters__decode__Destinations__decode0__Address="http://127.0.0.1:$decode_port" \
  "$image" gateway --config /etc/pdserve/gateway.json --model /models/kjv-llama --host 127.0.0.1 --port "$gateway_port" >/dev/null

wait_healthy() {
  local url="$1" name="$2"
  for _ in $(seq 1 120); do
    if curl -fsS --max-time 2 "$url" >/dev/null 2>&1; then echo "   $name healthy: $url"; return 0; fi
    if [[ "$("${podman[@]}" inspect --format '{{.State.Running}}' "$name" 2>/dev/null)" != true ]]; then
      "${podman[@]}" logs "$name" >&2 || true
      fail "$name exited before it was healthy"
    fi
    sleep 0.5
  done
  "${podman[@]}" logs "$name" >&2 || true
  fail "$name was not healthy within 60 s"
}
wait_healthy "http://127.0.0.1:$((prefill_port + 1))/healthz" "${names[0]}"
wait_healthy "http://127.0.0.1:$((decode_port + 1))/healthz" "${names[1]}"
wait_healthy "http://127.0.0.1:$gateway_port/healthz" "${names[2]}"
# The gateway marks a pool's node healthy after its first active health check (1 s interval).
for _ in $(seq 1 20); do
  pools="$(curl -fsS --max-time 2 -H "Authorization: Bearer $api_key" "http://127.0.0.1:$gateway_port/pools" || true)"
  [[ "$pools" == *'"active_health":"Healthy"'* && "$pools" != *'"active_health":"Unknown"'* \
     && "$pools" != *'"active_health":"Unhealthy"'* ]] && break
  sleep 0.5
done
echo "   pools: $pools"

echo "== one completion through the gateway"
curl -fsS --max-time 60 "http://127.0.0.1:$gateway_port/v1/completions" \
  -H "Authorization: Bearer $api_key" -H 'Content-Type: application/json' \
  -d '{"model":"kjv-llama","prompt":"And God said","max_tokens":24,"temperature":0}'
echo
echo "== containers (memory as podman reports it)"
"${podman[@]}" stats --no-stream --format '{{.Name}} {{.MemUsage}}' "${names[@]}" 2>/dev/null || echo "   (podman stats unavailable without cgroup accounting)"
echo "== done; removing the containers"
