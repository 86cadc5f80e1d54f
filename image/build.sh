#!/bin/bash
# Builds the eds-node appliance disk image from Debian 12 packages and the eds-node .deb, without
# Docker, KVM or loop mounts. Run as root (debootstrap and chroot need it); the host packages come
# from scripts/setup.sh.
#
#   image/build.sh [--deb FILE] [--out DIR] [--cache DIR] [--version V] [--rauc-key DIR]
#                  [--tuf-root FILE] [--overlay DIR]
#
#   --deb       the eds-node package (default: the newest build/eds-node_*.deb)
#   --out       where images go (default: build-image/); each image in its own folder named by
#               the hash of the .deb and of this recipe, so an unchanged input reuses the image
#   --cache     debootstrap's .debs and the prepared base system (default: /var/cache/eds-image)
#   --version   the image's version (default: the package's), in /usr/lib/os-release as
#               IMAGE_VERSION and in the RAUC bundle's manifest; updates only go up
#   --rauc-key  folder with the RAUC signing certificate (cert.pem, whose certificate is the
#               image's keyring) and its key (key.pem); made there, self-signed, when missing
#               (a development key: production bundles are signed with the operator's key)
#               (default: OUT/rauc-dev-key)
#   --tuf-root  the TUF root.json edsd trusts for updates (update.trusted_root), baked into the
#               image; without it the image has none and refuses every update bundle
#   --overlay   a folder copied over the root file system last (site files, or a test's changes)
#
# Environment: EDS_TCP_PORTS (default "8443, 9443, 2575"), the TCP ports the firewall opens;
# EDS_DEBIAN_MIRROR (default http://deb.debian.org/debian).
#
# Disk layout (GPT): ESP (systemd-boot, kernels, initrds) | root A (squashfs) | verity A |
# root B | verity B | var (ext4, the only writable partition). Next to disk.img the image folder
# holds update.raucb, the same root as a signed RAUC bundle that installs it into the other slot
# of a running box (image/README.md). Prints the image's path last.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
recipe="$repo/image"
deb=""
out="$repo/build-image"
version=""
rauc_key=""
tuf_root=""
overlay=""
cache="/var/cache/eds-image"
tcp_ports="${EDS_TCP_PORTS:-8443, 9443, 2575}"
mirror="${EDS_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
suite=bookworm

while [ $# -gt 0 ]; do
  case "$1" in
    --deb) deb="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --cache) cache="$2"; shift 2 ;;
    --version) version="$2"; shift 2 ;;
    --rauc-key) rauc_key="$2"; shift 2 ;;
    --tuf-root) tuf_root="$2"; shift 2 ;;
    --overlay) overlay="$2"; shift 2 ;;
    *) echo "usage: $0 [--deb FILE] [--out DIR] [--cache DIR] [--version V] [--rauc-key DIR]" \
         "[--tuf-root FILE] [--overlay DIR]" >&2; exit 2 ;;
  esac
done

log() { echo "image: $*" >&2; }
die() { echo "image: error: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap and chroot need it)"
for tool in debootstrap mksquashfs veritysetup mkfs.ext4 mkfs.vfat mcopy mmd sfdisk zstd rauc openssl; do
  command -v "$tool" >/dev/null || die "$tool is missing: run scripts/setup.sh"
done
if [ -z "$deb" ]; then
  deb="$(ls -t "$repo"/build/eds-node_*.deb 2>/dev/null | head -n 1 || true)"
  [ -n "$deb" ] || die "no build/eds-node_*.deb: run 'cpack -G DEB' in build/ or pass --deb"
fi
[ -f "$deb" ] || die "$deb does not exist"
deb="$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")"
[ -n "$version" ] || version="$(dpkg-deb -f "$deb" Version)"
[[ "$version" =~ ^[0-9]+(\.[0-9]+)*$ ]] || die "--version $version: digits and dots only (1.2.3)"
[ -z "$tuf_root" ] || [ -f "$tuf_root" ] || die "--tuf-root $tuf_root does not exist"
[ -z "$overlay" ] || [ -d "$overlay" ] || die "--overlay $overlay is not a folder"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

# The RAUC signing key. A missing one is made here: a self-signed development certificate, which
# is also the keyring of the image, so that this build's bundles install on this build's boxes.
[ -n "$rauc_key" ] || rauc_key="$out/rauc-dev-key"
if [ ! -f "$rauc_key/cert.pem" ] || [ ! -f "$rauc_key/key.pem" ]; then
  log "no RAUC signing key in $rauc_key: making a self-signed development key"
  mkdir -p "$rauc_key"
  chmod 0700 "$rauc_key"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -subj "/O=eds-node/CN=eds-node development update signing" \
    -keyout "$rauc_key/key.pem" -out "$rauc_key/cert.pem" >/dev/null 2>&1 ||
    die "openssl could not make the RAUC development key"
fi

# Boot counting: a freshly installed slot boots this many times without passing its health check
# before systemd-boot goes back to the other slot (image/README.md, "Updates").
boot_tries=3

# Sizes of the disk's partitions in MiB. Slots are fixed so that a later image fits the slot it
# is installed into; the file is sparse, so unused space costs nothing on the build machine.
esp_mib=128
slot_mib=1024
verity_mib=64
var_mib=2048

# --- Finished image already there? ----------------------------------------------------------
recipe_hash="$( (cd "$repo" && find image/build.sh image/rootfs image/initramfs -type f -print0 |
  sort -z | xargs -0 sha256sum; echo "ports=$tcp_ports mirror=$mirror suite=$suite";
  echo "sizes=$esp_mib $slot_mib $verity_mib $var_mib version=$version tries=$boot_tries"
  sha256sum "$rauc_key/cert.pem" | cut -d' ' -f1
  if [ -n "$tuf_root" ]; then sha256sum "$tuf_root" | cut -d' ' -f1; fi
  if [ -n "$overlay" ]; then (cd "$overlay" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum); fi
  ) | sha256sum | cut -c1-16)"
# The package's content (file names, modes and bytes, control files), not its file dates: a
# package rebuilt from the same tree keys the same image.
deb_hash="$( (dpkg-deb -I "$deb" control md5sums conffiles postinst prerm;
  dpkg-deb --fsys-tarfile "$deb" | tar -tvf - | awk '{ print $1, $2, $3, $6 }') |
  sha256sum | cut -c1-16)"
image_dir="$out/eds-image-$deb_hash-$recipe_hash"
if [ -f "$image_dir/complete" ]; then
  log "up to date: $image_dir"
  echo "$image_dir/disk.img"
  exit 0
fi

start_s=$(date +%s)
mkdir -p "$cache/debs"
work="$(mktemp -d "$out/work.XXXXXX")"
rootfs="$work/rootfs"
mounted=()
cleanup() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount "${mounted[$i]}" 2>/dev/null || umount -l "${mounted[$i]}" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
# An interrupted build still unmounts and removes its work folder.
trap 'exit 130' INT TERM

mount_chroot() {
  mount -t proc proc "$rootfs/proc" && mounted+=("$rootfs/proc")
  mount -t sysfs sysfs "$rootfs/sys" && mounted+=("$rootfs/sys")
  mount --bind /dev "$rootfs/dev" && mounted+=("$rootfs/dev")
}
umount_chroot() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[$i]}"; done
  mounted=()
}
in_root() { chroot "$rootfs" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"; }

# --- Base system: Debian 12 with every package the box and the .deb need, cached -----------
# The .deb's dependencies, first alternative of each, without versions.
deb_depends="$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed -e 's/|.*//' -e 's/(.*)//' |
  tr -d ' ' | grep -v '^$' | sort -u | tr '\n' ',')"
base_packages="linux-image-amd64,systemd,systemd-sysv,udev,dbus,kmod,initramfs-tools,zstd"
base_packages+=",cryptsetup-bin,systemd-boot-efi,systemd-timesyncd,systemd-resolved"
base_packages+=",nftables,openssl,ca-certificates,iproute2,procps,less"
# A/B updates: RAUC and its D-Bus service, systemd-boot's boot counting (systemd-bless-boot).
base_packages+=",rauc,rauc-service,systemd-boot"
# systemd-creds seals to the TPM2 through the TPM2 software stack, which systemd loads at run time
# (without it a box with a TPM2 cannot seal the master key to it).
base_packages+=",libtss2-esys-3.0.2-0,libtss2-rc0,libtss2-mu0,libtss2-tctildr0,libtss2-tcti-device0"
base_packages+=",$deb_depends"
base_key="$(echo "$suite $mirror $base_packages" | sha256sum | cut -c1-16)"
base_tar="$cache/base-$suite-$base_key.tar.zst"

if [ ! -f "$base_tar" ]; then
  log "debootstrap $suite (packages cached in $cache/debs)"
  debootstrap --variant=minbase --cache-dir="$cache/debs" --include="$base_packages" \
    "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -n 30 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
  # Security and point-release updates at build time: the box itself never runs apt (its root is
  # read-only); a new image carries them (image/README.md).
  cat >"$rootfs/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb http://deb.debian.org/debian-security $suite-security main
EOF
  mount_chroot
  in_root apt-get update -q >"$work/apt.log" 2>&1 || { tail -n 30 "$work/apt.log" >&2; die "apt-get update failed"; }
  in_root apt-get -y -q upgrade >>"$work/apt.log" 2>&1 || { tail -n 30 "$work/apt.log" >&2; die "apt-get upgrade failed"; }
  in_root apt-get clean
  umount_chroot
  tar -C "$rootfs" --numeric-owner --xattrs -cf - . | zstd -q -T0 -3 -o "$base_tar.tmp"
  mv "$base_tar.tmp" "$base_tar"
  log "base system cached in $base_tar"
else
  log "base system from cache: $base_tar"
  mkdir -p "$rootfs"
  zstd -q -dc "$base_tar" | tar -C "$rootfs" --numeric-owner --xattrs -xf -
fi

# --- eds-node and the appliance's configuration ---------------------------------------------
mount_chroot
cp "$deb" "$rootfs/tmp/eds-node.deb"
in_root dpkg -i /tmp/eds-node.deb >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; die "dpkg -i failed"; }
rm "$rootfs/tmp/eds-node.deb"

cp -a "$recipe/rootfs/." "$rootfs/"
sed "s/^define eds_tcp_ports = .*/define eds_tcp_ports = { $tcp_ports }/" \
  "$rootfs/usr/share/eds/nftables/eds.nft" >"$rootfs/etc/nftables.conf"
# Updates: RAUC's keyring is the signing certificate; the TUF root edsd trusts; what the image is.
install -m 0644 "$rauc_key/cert.pem" "$rootfs/etc/rauc/keyring.pem"
if [ -n "$tuf_root" ]; then
  install -D -m 0644 "$tuf_root" "$rootfs/usr/share/eds/tuf/root.json"
fi
printf 'IMAGE_ID=eds-node\nIMAGE_VERSION=%s\n' "$version" >>"$rootfs/usr/lib/os-release"
# The ESP is mounted on /efi (RAUC's boot loader back-end and systemd-bless-boot write entries
# there). Only the image build and RAUC write it: systemd-boot's kernel and initramfs hooks, which
# would install kernels into it themselves, are removed.
mkdir -p "$rootfs/efi"
rm -f "$rootfs/etc/kernel/postinst.d/zz-systemd-boot" "$rootfs/etc/kernel/postrm.d/zz-systemd-boot" \
  "$rootfs/etc/initramfs/post-update.d/systemd-boot"
install -m 0755 "$recipe/initramfs/hook-eds-verity" "$rootfs/etc/initramfs-tools/hooks/eds-verity"
install -m 0755 "$recipe/initramfs/local-top-eds-verity" "$rootfs/etc/initramfs-tools/scripts/local-top/eds-verity"
install -m 0755 "$recipe/initramfs/local-bottom-eds-var" "$rootfs/etc/initramfs-tools/scripts/local-bottom/eds-var"
mkdir -p "$rootfs/etc/initramfs-tools/conf.d"
printf 'MODULES=list\nCOMPRESS=zstd\n' >"$rootfs/etc/initramfs-tools/conf.d/eds.conf"
printf '127.0.0.1\tlocalhost\n127.0.1.1\teds-node\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$rootfs/etc/hosts"
ln -sf /run/systemd/resolve/stub-resolv.conf "$rootfs/etc/resolv.conf"

in_root systemctl enable systemd-networkd.service systemd-resolved.service \
  systemd-timesyncd.service nftables.service eds-boot-report.service eds-health.service \
  eds-reboot.path >/dev/null 2>&1
# systemd-boot is updated with the image, never by bootctl on the box.
in_root systemctl mask systemd-boot-update.service >/dev/null 2>&1
# Nothing on this box updates itself in place: apt's timers would only fail on the read-only root.
in_root systemctl mask apt-daily.timer apt-daily-upgrade.timer >/dev/null 2>&1

# No passwords anywhere: root is locked and there is no other login account; no SSH server.
in_root usermod -p '!' root
if awk -F: '$2 !~ /^[!*]/ { found = 1; print "image: account with a password: " $1 } END { exit !found }' \
  "$rootfs/etc/shadow" >&2; then
  die "an account has a usable password"
fi
if [ -e "$rootfs/usr/sbin/sshd" ]; then die "an SSH server is installed"; fi

# The machine id lives on /var (made on first boot by the initramfs, see local-bottom-eds-var):
# systemd-creds binds its host key to it, so it must not change between boots.
ln -sfn ../var/lib/machine-id "$rootfs/etc/machine-id"
rm -f "$rootfs/var/lib/dbus/machine-id"

in_root update-initramfs -u -k all >"$work/initramfs.log" 2>&1 || { cat "$work/initramfs.log" >&2; die "update-initramfs failed"; }
umount_chroot
if [ -n "$overlay" ]; then
  log "overlay $overlay"
  cp -a "$overlay/." "$rootfs/"
fi

# /var leaves the root for its own partition; /var stays as the empty mount point.
mkdir -p "$work/var"
cp -a "$rootfs/var/." "$work/var/"
find "$rootfs/var" -mindepth 1 -delete
mkdir -p "$work/var/log/journal"
rm -rf "$work/var/cache/apt/"*.bin "$work/var/lib/apt/lists/"*
# RAUC's record of what slot A holds (what it writes itself after installing a bundle), so the
# first update can be compared with the factory image's version.
mkdir -p "$work/var/lib/rauc"
printf '[slot.rootfs.0]\nbundle.compatible=eds-node-x86_64\nbundle.version=%s\nstatus=ok\n' \
  "$version" >"$work/var/lib/rauc/central.raucs"
find "$rootfs/tmp" -mindepth 1 -delete

kernel="$(ls "$rootfs"/boot/vmlinuz-* | sort -V | tail -n 1)"
initrd="$rootfs/boot/initrd.img-${kernel##*/vmlinuz-}"
[ -f "$initrd" ] || die "no initrd for $kernel"
cp "$kernel" "$work/vmlinuz"
cp "$initrd" "$work/initrd.img"
cp "$rootfs/usr/lib/systemd/boot/efi/systemd-bootx64.efi" "$work/BOOTX64.EFI"

# --- Root slot: squashfs + dm-verity hash tree ----------------------------------------------
log "squashfs root"
rm -f "$rootfs"/boot/initrd.img-*
mksquashfs "$rootfs" "$work/root.squashfs" -comp zstd -noappend -quiet -no-progress >/dev/null
root_bytes=$(stat -c %s "$work/root.squashfs")
[ "$root_bytes" -le $((slot_mib * 1024 * 1024)) ] || die "root ($root_bytes bytes) exceeds the ${slot_mib} MiB slot"
veritysetup format "$work/root.squashfs" "$work/root.verity" >"$work/verity.txt"
roothash="$(awk -F: '/^Root hash:/ { gsub(/[ \t]/, "", $2); print $2 }' "$work/verity.txt")"
[ -n "$roothash" ] || die "veritysetup gave no root hash"
cmdline_common="root=/dev/mapper/eds-root rootfstype=squashfs ro console=ttyS0,115200 panic=10"

# --- Update bundle: the same root as a signed RAUC bundle (verity format) ---------------------
# Images rootfs and verity go to the other slot's partitions; the kernel, initramfs, root hash and
# command line go to the ESP when RAUC marks the slot bootable (rauc-systemd-boot set-primary).
log "RAUC bundle"
mkdir -p "$work/bundle"
ln "$work/root.squashfs" "$work/bundle/root.img"
cp "$work/root.verity" "$work/bundle/verity.img"
cp "$work/vmlinuz" "$work/initrd.img" "$work/bundle/"
echo "$roothash" >"$work/bundle/roothash"
echo "$cmdline_common" >"$work/bundle/cmdline"
printf '%s\n' "[update]" "compatible=eds-node-x86_64" "version=$version" \
  "description=eds-node appliance image $version" "" "[bundle]" "format=verity" "" \
  "[image.rootfs]" "filename=root.img" "" "[image.verity]" "filename=verity.img" \
  >"$work/bundle/manifest.raucm"
rauc bundle --cert="$rauc_key/cert.pem" --key="$rauc_key/key.pem" "$work/bundle" \
  "$work/update.raucb" >"$work/rauc.log" 2>&1 || { cat "$work/rauc.log" >&2; die "rauc bundle failed"; }
rauc info --keyring="$rauc_key/cert.pem" "$work/update.raucb" >"$work/rauc-info.txt" 2>&1 ||
  { cat "$work/rauc-info.txt" >&2; die "the RAUC bundle does not verify"; }
rm -rf "$work/bundle"

# --- /var partition ---------------------------------------------------------------------------
log "var partition"
mkfs.ext4 -q -L eds-var -d "$work/var" "$work/var.ext4" "${var_mib}M" >"$work/mkfs.log" 2>&1 ||
  { cat "$work/mkfs.log" >&2; die "mkfs.ext4 failed"; }

# --- ESP: systemd-boot with one entry per installed slot (made with mtools, never mounted) ----
log "EFI system partition"
# Entries are eds-<generation>-<slot>[+<tries left>[-<tries done>]].conf. systemd-boot boots the
# highest generation whose tries are not used up (entries with +0 sort last), so a new slot is
# tried first and the previous one is the fallback. rauc.slot tells RAUC which slot is booted.
cat >"$work/loader.conf" <<EOF
default eds-*
timeout 0
console-mode keep
editor no
EOF
cat >"$work/eds-a.conf" <<EOF
title   eds-node (slot A)
linux   /eds/a/vmlinuz
initrd  /eds/a/initrd.img
options $cmdline_common eds.slot=a rauc.slot=a eds.verity.data=eds-root-a eds.verity.hash=eds-verity-a eds.verity.roothash=$roothash
EOF
echo "$roothash" >"$work/roothash"
echo "$cmdline_common" >"$work/cmdline"
mkfs.vfat -F 32 -n EDS-ESP -C "$work/esp.img" $((esp_mib * 1024)) >/dev/null
export MTOOLS_SKIP_CHECK=1
mmd -i "$work/esp.img" ::/EFI ::/EFI/BOOT ::/loader ::/loader/entries ::/eds ::/eds/a
mcopy -i "$work/esp.img" "$work/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$work/esp.img" "$work/loader.conf" ::/loader/loader.conf
mcopy -i "$work/esp.img" "$work/eds-a.conf" ::/loader/entries/eds-1-a.conf
mcopy -i "$work/esp.img" "$work/roothash" "$work/cmdline" ::/eds/a/
mcopy -i "$work/esp.img" "$work/vmlinuz" ::/eds/a/vmlinuz
mcopy -i "$work/esp.img" "$work/initrd.img" ::/eds/a/initrd.img

# --- The disk -------------------------------------------------------------------------------
log "disk"
disk="$work/disk.img"
total_mib=$((1 + esp_mib + 2 * (slot_mib + verity_mib) + var_mib + 1))
truncate -s "${total_mib}M" "$disk"
# Partition types: ESP, root x86-64, root verity x86-64 (Discoverable Partitions), Linux data.
sfdisk --quiet "$disk" <<EOF
label: gpt
unit: sectors
start=2048, size=$((esp_mib * 2048)), type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="eds-esp"
size=$((slot_mib * 2048)), type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name="eds-root-a"
size=$((verity_mib * 2048)), type=2C7357ED-EBD2-46D9-AEC1-23D437EC2BF5, name="eds-verity-a"
size=$((slot_mib * 2048)), type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name="eds-root-b"
size=$((verity_mib * 2048)), type=2C7357ED-EBD2-46D9-AEC1-23D437EC2BF5, name="eds-verity-b"
size=$((var_mib * 2048)), type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="eds-var"
EOF
# Partition N starts where N-1 ends (sfdisk packs them in order from sector 2048).
part_mib=(0 "$esp_mib" "$slot_mib" "$verity_mib" "$slot_mib" "$verity_mib" "$var_mib")
write_partition() {  # write_partition NUMBER FILE
  local start_mib=1 i
  for ((i = 1; i < $1; i++)); do start_mib=$((start_mib + part_mib[i])); done
  dd if="$2" of="$disk" bs=1M seek="$start_mib" conv=notrunc,sparse status=none
}
write_partition 1 "$work/esp.img"
write_partition 2 "$work/root.squashfs"
write_partition 3 "$work/root.verity"
write_partition 6 "$work/var.ext4"

# --- Done: the image and what it is made of ---------------------------------------------------
mkdir -p "$image_dir.tmp"
mv "$disk" "$image_dir.tmp/disk.img"
cp "$work/verity.txt" "$image_dir.tmp/root-a.verity.txt"
cp "$work/root.squashfs" "$image_dir.tmp/root.squashfs"
cp "$work/root.verity" "$image_dir.tmp/root.verity"
cp "$work/vmlinuz" "$work/initrd.img" "$image_dir.tmp/"
mv "$work/update.raucb" "$image_dir.tmp/update.raucb"
end_s=$(date +%s)
{
  echo "deb=$(basename "$deb") sha256=$(sha256sum "$deb" | cut -d' ' -f1)"
  echo "version=$version"
  echo "kernel=${kernel##*/vmlinuz-}"
  echo "roothash_a=$roothash"
  echo "root_squashfs_bytes=$root_bytes"
  echo "bundle_bytes=$(stat -c %s "$image_dir.tmp/update.raucb")"
  echo "disk_apparent_bytes=$(stat -c %s "$image_dir.tmp/disk.img")"
  echo "disk_allocated_bytes=$(($(stat -c %b "$image_dir.tmp/disk.img") * $(stat -c %B "$image_dir.tmp/disk.img")))"
  echo "build_seconds=$((end_s - start_s))"
} >"$image_dir.tmp/manifest.txt"
rm -rf "$image_dir"
mv "$image_dir.tmp" "$image_dir"
touch "$image_dir/complete"
log "built in $((end_s - start_s)) s: $image_dir"
cat "$image_dir/manifest.txt" >&2
echo "$image_dir/disk.img"
