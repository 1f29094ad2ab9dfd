# Sourced by build-image-offline.sh and run-image-local.sh: sets podman_run_limits, the --ulimit flags `podman run`
# needs on a machine where root lacks CAP_SYS_RESOURCE (bit 24 of CapEff), as in some sandboxed VMs. There podman
# cannot raise its own limits, lowers its process limit to 32768, and then asks the runtime for its defaults above
# what it holds, which the runtime is refused (crun: setrlimit `RLIMIT_NOFILE`: Operation not permitted). Asking for
# the limits the shell already has raises nothing. Elsewhere the array stays empty and podman's defaults apply.
podman_run_limits=()
cap_eff=$((16#$(awk '/^CapEff/ {print $2}' /proc/self/status)))
if (( (cap_eff >> 24 & 1) == 0 )); then
  nproc_limit=$(ulimit -Hu)
  [[ "$nproc_limit" == unlimited || "$nproc_limit" -gt 32768 ]] && nproc_limit=32768
  podman_run_limits=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit "nproc=$nproc_limit:$nproc_limit")
fi
