#!/usr/bin/env bash
# Builds the kms-audit container image with daemonless podman (scripts/setup-podman.sh first):
#   1. the release binary (cargo build --release; or KMS_AUDIT_BIN=PATH to use a built one);
#   2. the base image: BASE_IMAGE if set (e.g. gcr.io/distroless/cc-debian12:nonroot where a
#      registry is reachable), else a local distroless-equivalent built from Debian 12 packages
#      with mmdebstrap (libc6, libgcc-s1, the ca-certificates bundle, nonroot user, no shell) and
#      `podman import`, reused while the host's libc6 version is unchanged (REBUILD_BASE=1 forces);
#   3. the image from ./Containerfile, tagged ghcr.io/kms-audit/kms-audit:<version> (or
#      KMS_AUDIT_IMAGE);
#   4. checks: `--version` in the container equals the host binary's, user 65532, no shell in the
#      file system, the CA bundle present;
#   5. dist/kms-audit-<version>-image.tar: an OCI archive (index.json) that also carries Docker's
#      manifest.json, so both `podman load` and `docker load` accept it; both readings are checked.
# Prints the image size and the time of each step. tests/e2e/container.rs then scans the emulator
# from inside the image and runs the Kubernetes Indexed Job's command lines in it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export BUILDAH_ISOLATION=chroot

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
image="${KMS_AUDIT_IMAGE:-ghcr.io/kms-audit/kms-audit:$version}"
local_base=localhost/kms-audit-base:bookworm
arch=$(dpkg --print-architecture) # amd64 / arm64: Docker's TARGETARCH names
dist="$root/dist"
archive="$dist/kms-audit-$version-image.tar"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$dist"

for tool in podman mmdebstrap; do
  command -v "$tool" >/dev/null || { echo "build-image: $tool not found: run scripts/setup-podman.sh" >&2; exit 1; }
done

t0=$(date +%s)
step() { echo "== build-image: $1 ($(( $(date +%s) - t0 ))s so far)"; }

# 1. The binary.
if [ -n "${KMS_AUDIT_BIN:-}" ]; then
  bin=$KMS_AUDIT_BIN
else
  step "release binary"
  cargo build --release --locked --bin kms-audit
  bin="${CARGO_TARGET_DIR:-$root/target}/release/kms-audit"
fi
[ -x "$bin" ] || { echo "build-image: $bin is not an executable" >&2; exit 1; }
t_bin=$(date +%s)

# 2. The base image.
libc_version=$(dpkg-query -W -f='${Version}' libc6)
build_base() {
  local rootfs="$work/rootfs"
  # extract: unpack the packages (and their dependencies) without running maintainer scripts,
  # so nothing needs a shell. ca-certificates is not installed (it would pull in openssl, perl
  # and debconf): its certificates are concatenated into the bundle that distroless ships.
  mmdebstrap --quiet --variant=extract --include=libc6,libgcc-s1 \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/lintian/*' \
    --dpkgopt='path-exclude=/usr/lib/*/gconv/*' \
    --extract-hook='set -e
      cd "$1/var/cache/apt/archives"
      APT_CONFIG="$MMDEBSTRAP_APT_CONFIG" apt-get download -q=2 ca-certificates 2>/dev/null
      mkdir -p "$1/etc/ssl/certs" "$1/var/lib/dpkg/status.d"
      dpkg-deb --fsys-tarfile ca-certificates_*.deb \
        | tar -xO --wildcards "./usr/share/ca-certificates/mozilla/*.crt" >"$1/etc/ssl/certs/ca-certificates.crt"
      for deb in *.deb; do dpkg-deb -f "$deb" >"$1/var/lib/dpkg/status.d/$(dpkg-deb -f "$deb" Package)"; done' \
    bookworm "$rootfs" \
    "deb http://deb.debian.org/debian bookworm main" \
    "deb http://deb.debian.org/debian bookworm-updates main" \
    "deb http://deb.debian.org/debian-security bookworm-security main"
  local got
  got=$(sed -n 's/^Version: //p' "$rootfs/var/lib/dpkg/status.d/libc6")
  if [ "$got" != "$libc_version" ]; then
    echo "build-image: the base has libc6 $got, the host $libc_version: run apt-get upgrade libc6 on the host" >&2
    exit 1
  fi
  # What mmdebstrap and apt leave behind, device nodes (the runtime provides /dev), docs.
  (cd "$rootfs" && rm -rf etc/apt etc/dpkg var/cache var/lib/apt var/log var/lib/dpkg/status \
    var/lib/dpkg/arch var/lib/dpkg/available etc/resolv.conf etc/hostname etc/fstab usr/share/doc \
    usr/share/lintian dev/* && rm -f usr/lib/*/gconv/gconv-modules* 2>/dev/null || true)
  find "$rootfs/usr" "$rootfs/var" -depth -type d -empty -delete
  # The accounts and files distroless has.
  mkdir -p "$rootfs"/{root,home/nonroot,tmp,etc/ssl/certs,usr/local/bin,var/lib/dpkg/status.d}
  cat >"$rootfs/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
PASSWD
  cat >"$rootfs/etc/group" <<'GROUP'
root:x:0:
nobody:x:65534:
tty:x:5:
staff:x:50:
nonroot:x:65532:
GROUP
  echo 'hosts: files dns' >"$rootfs/etc/nsswitch.conf"
  cat >"$rootfs/etc/os-release" <<'OS'
PRETTY_NAME="Distroless-equivalent (Debian GNU/Linux 12, bookworm)"
NAME="Debian GNU/Linux"
ID="debian"
VERSION_ID="12"
VERSION="Debian GNU/Linux 12 (bookworm)"
HOME_URL="https://github.com/kms-audit/kms-audit"
OS
  chmod 0700 "$rootfs/root"
  chmod 1777 "$rootfs/tmp"
  chown 65532:65532 "$rootfs/home/nonroot"
  chmod 0755 "$rootfs/home/nonroot"
  local certs
  certs=$(grep -c 'BEGIN CERTIFICATE' "$rootfs/etc/ssl/certs/ca-certificates.crt")
  [ "$certs" -ge 100 ] || { echo "build-image: only $certs CA certificates in the bundle" >&2; exit 1; }
  local epoch
  epoch=$(git log -1 --format=%ct 2>/dev/null || echo 0)
  tar --sort=name --numeric-owner --mtime="@$epoch" --clamp-mtime -C "$rootfs" -cf "$work/base.tar" .
  podman import --quiet \
    --change 'USER 65532:65532' --change 'WORKDIR /home/nonroot' \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
    --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
    --change "LABEL kms-audit.base.libc6=$libc_version" \
    --change "LABEL kms-audit.base.ca-certificates=$certs" \
    "$work/base.tar" "$local_base" >/dev/null
  echo "build-image: built $local_base (libc6 $libc_version, $certs CA certificates, $(du -sh "$rootfs" | cut -f1))"
}
if [ -n "${BASE_IMAGE:-}" ]; then
  base=$BASE_IMAGE
  echo "build-image: base $base (BASE_IMAGE)"
else
  base=$local_base
  have=$(podman image inspect --format '{{index .Labels "kms-audit.base.libc6"}}' "$local_base" 2>/dev/null || true)
  if [ "${REBUILD_BASE:-0}" = 1 ] || [ "$have" != "$libc_version" ]; then
    step "base image with mmdebstrap"
    build_base
  else
    echo "build-image: reusing $local_base (libc6 $libc_version)"
  fi
fi
t_base=$(date +%s)

# 3. The image. The context is only the binary.
step "image $image"
mkdir -p "$work/context/$arch"
cp "$bin" "$work/context/$arch/kms-audit"
podman build --quiet --isolation=chroot --pull=missing \
  --build-arg "BASE_IMAGE=$base" --build-arg "TARGETARCH=$arch" --build-arg "VERSION=$version" \
  -f "$root/Containerfile" -t "$image" "$work/context" >/dev/null
t_image=$(date +%s)

# 4. Checks.
step "checks"
want=$("$bin" --version)
got=$(podman run --rm "$image" --version)
[ "$got" = "$want" ] || { echo "build-image: the image says '$got', the binary '$want'" >&2; exit 1; }
user=$(podman image inspect --format '{{.Config.User}}' "$image")
[ "$user" = "65532:65532" ] || { echo "build-image: the image runs as '$user', not 65532:65532" >&2; exit 1; }
container=$(podman create "$image")
podman export "$container" >"$work/fs.tar"
podman rm "$container" >/dev/null
tar -tf "$work/fs.tar" | sed 's|^\./||' >"$work/files"
shells=$(grep -E '(^|/)(sh|bash|dash|ash|zsh|ksh|busybox|toybox)$' "$work/files" || true)
[ -z "$shells" ] || { echo "build-image: the image has a shell: $shells" >&2; exit 1; }
if podman run --rm --entrypoint /bin/sh "$image" -c true >/dev/null 2>&1; then
  echo "build-image: /bin/sh ran in the image" >&2
  exit 1
fi
grep -qx 'etc/ssl/certs/ca-certificates.crt' "$work/files" || { echo "build-image: no CA bundle" >&2; exit 1; }
echo "build-image: '$got' runs as 65532:65532; no shell among $(wc -l <"$work/files") paths; CA bundle present"

# 5. The archive.
step "archive"
rm -f "$archive"
podman save --quiet --format oci-archive -o "$work/oci.tar" "$image"
mkdir "$work/oci" && tar -xf "$work/oci.tar" -C "$work/oci"
python3 - "$work/oci" "$image" <<'PY'
# Adds Docker's manifest.json (as `docker save` writes beside index.json since Docker 25) so
# that older `docker load` reads the same archive; layers and config are the OCI blobs.
import json, os, sys
oci, tag = sys.argv[1], sys.argv[2]
def blob(desc):
    return os.path.join("blobs", *desc["digest"].split(":", 1))
index = json.load(open(os.path.join(oci, "index.json")))
manifest = json.load(open(os.path.join(oci, blob(index["manifests"][0]))))
index["manifests"][0].setdefault("annotations", {})["io.containerd.image.name"] = tag
json.dump(index, open(os.path.join(oci, "index.json"), "w"))
json.dump([{"Config": blob(manifest["config"]), "RepoTags": [tag],
            "Layers": [blob(layer) for layer in manifest["layers"]]}],
          open(os.path.join(oci, "manifest.json"), "w"))
PY
tar --sort=name --numeric-owner --owner=0 --group=0 -C "$work/oci" -cf "$archive" .
id=$(podman image inspect --format '{{.Id}}' "$image")
for transport in oci-archive docker-archive; do
  loaded=$(podman pull --quiet "$transport:$archive" 2>/dev/null | tail -n1)
  [ "$loaded" = "$id" ] || { echo "build-image: $transport read $archive as '$loaded', not $id" >&2; exit 1; }
done
podman load --quiet -i "$archive" >/dev/null
# vfs keeps a full copy of every layer: drop the images this build replaced.
podman image prune --force >/dev/null
t_archive=$(date +%s)

size=$(podman image inspect --format '{{.Size}}' "$image")
# The archive's layers are gzip-compressed, as a registry stores and serves them.
gz=$(python3 -c 'import json, sys; print(sum(l["size"] for l in json.load(open(sys.argv[1]))["layers"]))' \
  "$work/oci/blobs/$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"].replace(":", "/"))' "$work/oci/index.json")")
mib() { awk -v b="$1" 'BEGIN {printf "%.1f MiB", b / 1048576}'; }
echo "build-image: $image $(mib "$size") uncompressed, $(mib "$gz") compressed (its layers as pushed); binary $(mib "$(stat -c %s "$bin")")"
echo "build-image: $archive ($(mib "$(stat -c %s "$archive")")): podman load -i / docker load -i"
echo "build-image: times: binary $(( t_bin - t0 ))s, base $(( t_base - t_bin ))s, image $(( t_image - t_base ))s, checks+archive $(( t_archive - t_image ))s, total $(( t_archive - t0 ))s"
