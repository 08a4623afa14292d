#!/usr/bin/env bash
# Installs and configures daemonless podman/buildah (Debian packages) so scripts/build-image.sh and
# tests/e2e/container.rs can build and run the kms-audit image on a plain VM or CI runner, as root:
#   - vfs storage (no overlay or fuse needed) and chroot isolation for builds;
#   - runc, not crun (crun refuses the hybrid cgroup v1/v2 layout of this kind of machine);
#   - cgroupfs and file events (no systemd, no journald);
#   - default_ulimits: nofile = this shell's hard limit (runc cannot raise a limit above the
#     caller's), nproc <= 32768.
# Also installs mmdebstrap, which builds the local distroless-equivalent base image.
# Idempotent: packages are installed once, config files are rewritten only when they differ.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then exec sudo --preserve-env=CI "$0" "$@"; fi
  echo "setup-podman.sh: needs root (or sudo) to install packages and write /etc/containers" >&2
  exit 1
fi

packages=(podman buildah runc conmon mmdebstrap uidmap ca-certificates)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup-podman.sh: installing ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

nofile=$(ulimit -Hn)
nproc_hard=$(ulimit -Hu)
nproc=32768
if [ "$nproc_hard" != unlimited ] && [ "$nproc_hard" -lt "$nproc" ]; then nproc=$nproc_hard; fi

# Writes $2 to $1 unless it already holds exactly that.
write_config() {
  local path=$1 content=$2
  if [ -f "$path" ] && [ "$(cat "$path")" = "$content" ]; then return; fi
  if [ -f "$path" ] && ! grep -q 'written by kms-audit scripts/setup-podman.sh' "$path"; then
    cp "$path" "$path.before-kms-audit"
  fi
  mkdir -p "$(dirname "$path")"
  printf '%s\n' "$content" >"$path"
  echo "setup-podman.sh: wrote $path"
}

write_config /etc/containers/storage.conf '# written by kms-audit scripts/setup-podman.sh
[storage]
driver = "vfs"
runroot = "/run/containers/storage"
graphroot = "/var/lib/containers/storage"'

write_config /etc/containers/containers.conf "# written by kms-audit scripts/setup-podman.sh
[containers]
default_ulimits = [\"nofile=${nofile}:${nofile}\", \"nproc=${nproc}:${nproc}\"]

[engine]
runtime = \"runc\"
cgroup_manager = \"cgroupfs\"
events_logger = \"file\""

# Pulls of unqualified names never guess a registry; the base image is local.
if [ ! -s /etc/containers/policy.json ]; then
  write_config /etc/containers/policy.json '{"default": [{"type": "insecureAcceptAnything"}]}'
fi

echo "setup-podman.sh: $(podman --version), $(buildah --version | cut -d' ' -f1-3), runc $(runc --version | sed -n '1s/runc version //p'), mmdebstrap $(mmdebstrap --version | cut -d' ' -f2)"
echo "setup-podman.sh: storage $(podman info --format '{{.Store.GraphDriverName}}'), runtime $(podman info --format '{{.Host.OCIRuntime.Name}}'), ulimits nofile=$nofile nproc=$nproc"
