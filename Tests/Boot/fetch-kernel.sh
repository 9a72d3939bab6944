#!/usr/bin/env bash
# The boot test's guest kernel: Debian's linux-image-amd64, fetched as a package (apt-get download)
# and unpacked into a cache directory, never installed on the host. Keeps vmlinuz and the modules
# the guest's /init loads, with their dependencies, in load order (modules.load). The only step of
# the boot test that needs the Debian mirror; run by `make boot-deps`.
set -euo pipefail

cache=${1:?usage: fetch-kernel.sh CACHE_DIR}
# What the guest needs: the virtio disk, the FAT file systems (ESP and tools disk) with their
# code pages, EFI variables (systemd-boot's LoaderEntrySelected), and QEMU's fw_cfg (the action).
wanted="virtio_pci virtio_blk vfat nls_cp437 nls_ascii nls_iso8859-1 efivarfs qemu_fw_cfg"

kernel_package() {
    apt-cache depends linux-image-amd64 2> /dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n1
}
package=$(kernel_package)
if [ -z "$package" ]; then
    # A fresh machine whose package lists were never fetched.
    apt-get update -qq
    package=$(kernel_package)
fi
[ -n "$package" ] || { echo "fetch-kernel: apt-cache names no kernel package for linux-image-amd64" >&2; exit 1; }
kernel="$cache/kernel/$package"
if [ -s "$kernel/vmlinuz" ] && [ -s "$kernel/modules.load" ]; then
    echo "guest kernel: $package (cached in $kernel)"
    exit 0
fi

unpacked=$(mktemp -d "${TMPDIR:-/tmp}/tandem-kernel.XXXXXX")
trap 'rm -rf "$unpacked"' EXIT
(cd "$unpacked" && apt-get download -q "$package" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2 || true)
deb=$(ls "$unpacked"/*.deb 2>/dev/null | head -n1)
[ -n "$deb" ] || { echo "fetch-kernel: apt-get download $package fetched nothing" >&2; exit 1; }
dpkg-deb -x "$deb" "$unpacked/root"
modules=$(ls -d "$unpacked"/root/lib/modules/*/)

# The module closure, dependencies first, from each module's own modinfo `depends=` (the package
# has no modules.dep: depmod runs at install time).
declare -A path_of=() placed=()
while IFS= read -r file; do
    name=$(basename "$file"); name=${name%%.ko*}
    path_of[$name]=$file
    path_of[${name//-/_}]=$file
done < <(find "$modules" -name '*.ko*')
order=()
place() {
    local name=${1//-/_} dep
    [ -n "${placed[$name]:-}" ] && return
    [ -n "${path_of[$name]:-}" ] || { echo "fetch-kernel: no module $1 in $package" >&2; exit 1; }
    placed[$name]=1
    for dep in $(tr '\0' '\n' < "${path_of[$name]}" | sed -n 's/^depends=//p' | tr ',' ' '); do
        place "$dep"
    done
    order+=("$name")
}
for module in $wanted; do
    if grep -q "/${module//_/[-_]}\.ko" "$modules/modules.builtin"; then continue; fi
    place "$module"
done

rm -rf "$kernel" && mkdir -p "$kernel/modules"
cp "$unpacked"/root/boot/vmlinuz-* "$kernel/vmlinuz"
for name in "${order[@]}"; do
    cp "${path_of[$name]}" "$kernel/modules/$name.ko"
    echo "$name" >> "$kernel/modules.load"
done
# One kernel in the cache, the one boot-test.sh boots: an older one leaves when Debian moves on.
find "$cache/kernel" -mindepth 1 -maxdepth 1 ! -name "$package" -exec rm -rf {} +
echo "guest kernel: $package, modules: ${order[*]}"
