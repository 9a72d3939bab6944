#!/usr/bin/env bash
# `make vm-test`: Tandem on a real Debian guest under QEMU (TCG, q35, OVMF, stock GRUB with the
# grub-env backend): tandemd started by a real systemd, reboots through the real logind, blessing
# after a real boot-complete.target, a failing health check, a hung kernel reset by the i6300esb
# watchdog, power cuts and rollbacks. Every boot is a fresh QEMU process driven through the
# serial console. See docs/vm-test.md.
#
# usage: vm-test.sh [--scenario NAME]... INSTALL_TREE CACHE_DIR
#   INSTALL_TREE  `make install DESTDIR=INSTALL_TREE PREFIX=/usr` of a --static-swift-stdlib build
#   CACHE_DIR     the debootstrapped tree is cached here; the run's files go to CACHE_DIR/run
set -euo pipefail

vm_test_dir=$(cd "$(dirname "$0")" && pwd)
boot_lib=$vm_test_dir/../Boot/lib
for part in "$boot_lib/common" "$boot_lib/bootloader" "$boot_lib/qemu-boot" "$boot_lib/partition-file" "$boot_lib/disk-image" \
    "$vm_test_dir/lib/rootfs" "$vm_test_dir/lib/guest-image"; do
    # shellcheck source=/dev/null
    source "$part.sh"
done

scenario_options=()
while [ $# -gt 2 ]; do
    case $1 in
    --scenario) scenario_options+=(--scenario "$2"); shift 2 ;;
    *) echo "vm-test: unknown option $1" >&2; exit 64 ;;
    esac
done
[ $# = 2 ] || { sed -n 's/^# usage: /usage: /p' "$0" >&2; exit 64; }
staged=$(realpath "$1")
cache=$(realpath "$2")
updatectl=$staged/usr/bin/updatectl

# Every tool the VM test runs. Missing ones skip the test, unless integration tests are
# mandatory (TANDEM_REQUIRE_INTEGRATION=1, as in CI), which makes them a failure.
missing=()
for tool in debootstrap mksquashfs mkfs.ext4 debugfs mkfs.vfat mcopy mmd mtype sgdisk grub-mkstandalone \
    qemu-system-x86_64 python3 journalctl systemctl chroot; do
    command -v "$tool" > /dev/null || missing+=("$tool")
done
for file in "$ovmf_code" "$ovmf_vars" "$updatectl" "$staged/usr/sbin/tandemd"; do
    [ -f "$file" ] || missing+=("$file")
done
skip_or_fail_missing vm-test "${missing[@]}"
[ "$(id -u)" = 0 ] || { echo "vm-test: FAILED: debootstrap and chroot need root" >&2; exit 1; }

work="$cache/run"
rm -rf "$work" && mkdir -p "$work"
started=$SECONDS

echo "== The guest's Debian ($debian_suite, minbase, debootstrapped once and cached)"
pristine=$(pristine_rootfs "$cache")
echo "   $pristine ($((SECONDS - started)) s)"

echo "== A signing key; Tandem installed from make install; the initramfs"
mkdir -p "$work/keys"
"$updatectl" image keygen --private "$work/keys/vm-test.key" --public "$work/keys/vm-test.pem" > /dev/null
prepare_root "$pristine" "$staged" "$work/root"
build_grub_efi "$work/BOOTX64.EFI"
echo "   kernel $(stat -c %s "$work/vmlinuz") bytes, initramfs $(stat -c %s "$work/initrd.img") bytes ($((SECONDS - started)) s)"

echo "== Slot images (squashfs) and signed bundles carrying the kernel and initramfs"
images="$work/images"
mkdir -p "$images"
declare -A extras_of=([1.0.0]="" [2.0.0]="" [3.0.0]="$vm_test_dir/guest/v3-unhealthy" [3.0.1]="$vm_test_dir/guest/v3-hang")
for version in 1.0.0 2.0.0 3.0.0 3.0.1; do
    squashfs_slot "$work/root" "$version" "${extras_of[$version]:-/nonexistent}" "$images/v$version.img"
    if [ "$version" != 1.0.0 ]; then
        "$updatectl" image create --key "$work/keys/vm-test.key" --version "$version" --compatible "$vm_compatible" \
            --image "$images/v$version.img" --kernel "$work/vmlinuz" --initrd "$work/initrd.img" \
            --out "$images/v$version.tandem" > /dev/null
    fi
    echo "   $version: $(stat -c %s "$images/v$version.img") bytes"
done
var_image "$work/root" "$work/var.img"

echo "== The guest disk: ESP with stock GRUB (grub-env), USR-A holding 1.0.0, USR-B empty, VAR"
guest_disk "$work/disk.img" "$images/v1.0.0.img" "$work/var.img"
cp "$ovmf_vars" "$work/vars.fd"
bundles_disk "$work/bundles.img" "$images/v2.0.0.tandem" "$images/v3.0.0.tandem" "$images/v3.0.1.tandem"
bundles_disk "$work/bundles-auto.img" "$images/v3.0.0.tandem=auto.tandem"
rm -rf "$work/root"
echo "   prepared in $((SECONDS - started)) s"

python3 "$vm_test_dir/scenarios.py" --work "$work" --updatectl "$updatectl" "${scenario_options[@]}"
