#!/usr/bin/env bash
# Builds the PdServe image without pulling any base image: a minimal Debian 12 root made by debootstrap from this
# machine's apt mirror, a self-contained `dotnet publish` of the CLI (the TorchSharp ELF patch runs in that publish,
# as it does for every build on Debian 12), the default model, a non-root user; committed with buildah. The result
# is the image deploy/Dockerfile describes: one image for every role, the role chosen by the command
# (`pdserve prefill|decode|gateway ...`).
#
#   sudo deploy/build-image-offline.sh [--tag pdserve:0.1.0] [--mirror URL] [--work DIR] [--keep-work] [--smoke [--runtime runc]]
#
# Needs root, the .NET 10 SDK, and Debian's debootstrap and buildah (apt-get install debootstrap buildah; podman too
# for --smoke). --smoke runs `pdserve generate` in the committed image with podman, so a native library that does not
# load fails here rather than in a pod; --runtime picks podman's OCI runtime (runc where crun refuses the machine's
# cgroup layout).
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd -P)"
tag="pdserve:0.1.0"
mirror=""
work=""
keep_work=0
smoke=0
runtime=""
suite="bookworm"
# What the self-contained app loads from the system: glibc, libgcc/libstdc++ (apt brings both into minbase), ICU
# for globalization, zlib and OpenSSL for the runtime's compression and crypto; ca-certificates for outbound TLS.
packages="libicu72,zlib1g,libssl3,ca-certificates"
uid=10001

usage() { sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
fail() { echo "build-image-offline: $*" >&2; exit 2; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --tag) tag="${2:?--tag needs a value}"; shift 2 ;;
    --mirror) mirror="${2:?--mirror needs a value}"; shift 2 ;;
    --work) work="${2:?--work needs a value}"; shift 2 ;;
    --keep-work) keep_work=1; shift ;;
    --smoke) smoke=1; shift ;;
    --runtime) runtime="${2:?--runtime needs a value}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) fail "unknown argument '$1' (see --help)" ;;
  esac
done

[[ $(id -u) -eq 0 ]] || fail "run as root (debootstrap and buildah need it)"
for tool in dotnet debootstrap buildah; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (apt-get install debootstrap buildah; the .NET 10 SDK for dotnet)"
done
if [[ $smoke -eq 1 ]]; then command -v podman >/dev/null || fail "--smoke needs podman (apt-get install podman)"; fi

# The mirror apt already uses here, so the build reaches only what this machine's apt reaches.
if [[ -z "$mirror" ]]; then
  mirror="$(grep -hsE '^(URIs:|deb) ' /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list 2>/dev/null \
    | sed -E 's/^deb (\[[^]]*\] )?//; s/^URIs: //' | awk '{print $1}' | grep -m1 '/debian/\?$' || true)"
  mirror="${mirror:-http://deb.debian.org/debian}"
fi

work="${work:-$(mktemp -d /var/tmp/pdserve-image.XXXXXX)}"
container=""
cleanup() {
  [[ -n "$container" ]] && buildah rm "$container" >/dev/null 2>&1 || true
  if [[ $keep_work -eq 0 ]]; then rm -rf "$work"; else echo "work folder kept: $work"; fi
}
trap cleanup EXIT

step() { echo "== $*"; }

step "publish: self-contained linux-x64 into $work/publish"
(cd "$root" && dotnet publish src/Cli/PdServe.Cli.csproj -c Release -r linux-x64 --self-contained true \
  -p:UseAppHost=true -o "$work/publish" -nologo -v q -clp:NoSummary)
[[ -x "$work/publish/pdserve" ]] || fail "publish produced no $work/publish/pdserve"

step "debootstrap: $suite minbase from $mirror"
debootstrap --variant=minbase --include="$packages" "$suite" "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -20 "$work/debootstrap.log" >&2; fail "debootstrap failed (log above)"; }

step "trim: apt caches, documentation, locales"
rm -rf "$work/rootfs"/var/cache/apt/archives/*.deb "$work/rootfs"/var/lib/apt/lists/* \
  "$work/rootfs"/usr/share/doc/* "$work/rootfs"/usr/share/man/* "$work/rootfs"/usr/share/info/*
find "$work/rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} + 2>/dev/null || true

step "layout: /opt/pdserve (the app), /models/kjv-llama (the default model), /etc/pdserve (configs), user $uid"
install -d "$work/rootfs/opt/pdserve" "$work/rootfs/models" "$work/rootfs/etc/pdserve"
cp -a "$work/publish/." "$work/rootfs/opt/pdserve/"
cp -a "$root/models/kjv-llama" "$work/rootfs/models/kjv-llama"
cp "$root"/configs/*.json "$work/rootfs/etc/pdserve/"
ln -sf /opt/pdserve/pdserve "$work/rootfs/usr/local/bin/pdserve"
chroot "$work/rootfs" groupadd --gid "$uid" pdserve
chroot "$work/rootfs" useradd --uid "$uid" --gid "$uid" --home-dir /home/pdserve --create-home --shell /usr/sbin/nologin pdserve
chmod -R a+rX "$work/rootfs/opt/pdserve" "$work/rootfs/models" "$work/rootfs/etc/pdserve"

step "commit: $tag"
container="$(buildah from scratch)"
mount="$(buildah mount "$container")"
cp -a "$work/rootfs/." "$mount/"
buildah umount "$container" >/dev/null
buildah config \
  --user "$uid:$uid" \
  --workingdir /home/pdserve \
  --env DOTNET_CLI_TELEMETRY_OPTOUT=1 --env DOTNET_NOLOGO=1 \
  --port 8000 --port 8100 --port 8101 --port 8200 --port 8201 \
  --entrypoint '["/opt/pdserve/pdserve"]' --cmd '["--help"]' \
  --label org.opencontainers.image.title=pdserve \
  --label org.opencontainers.image.description="PdServe: prefill, decode and gateway in one image; the role is the command" \
  --label org.opencontainers.image.base.name="debian:$suite (debootstrap --variant=minbase)" \
  "$container"
buildah commit --quiet --rm "$container" "$tag" >/dev/null
container=""
buildah images --format '{{.Name}}:{{.Tag}} {{.Size}}' "$tag"

if [[ $smoke -eq 1 ]]; then
  step "smoke: pdserve generate inside $tag"
  # shellcheck source=deploy/podman-run-flags.sh
  source "$root/deploy/podman-run-flags.sh"
  podman ${runtime:+--runtime "$runtime"} run --rm --network none --read-only --tmpfs /tmp --cap-drop ALL \
    "${podman_run_limits[@]}" "$tag" generate --prompt "And God said" --max-tokens 8 --temperature 0
fi
step "done: $tag"
