# The guest, assembled from the pristine Debian tree the way an image builder would: Tandem
# installed from `make install DESTDIR=` with its units enabled, a read-only squashfs of the root
# per version, signed bundles carrying the kernel and initramfs, and a GPT disk with stock GRUB.

readonly vm_kernel_options="console=ttyS0,115200 ro quiet loglevel=3 panic=0 systemd.show_status=false"
readonly vm_esp_mib=64 vm_slot_mib=256 vm_var_mib=256
readonly vm_compatible=tandem-vm-test
readonly vm_var_type=4d21b016-b534-45c2-a9fb-5c16e091fd2d

# prepare_root PRISTINE INSTALL_TREE ROOT: a copy of the pristine tree made into the guest's base
# system (version-neutral), its kernel and initramfs left in $work/vmlinuz and $work/initrd.img.
prepare_root() {
    local pristine=$1 staged=$2 root=$3 guest=$vm_test_dir/guest kernel_version
    rm -rf "$root"
    cp -a "$pristine" "$root"

    # The initramfs: only the modules listed, and the slot chosen by the bootloader as the root.
    sed -i 's/^MODULES=.*/MODULES=list/' "$root/etc/initramfs-tools/initramfs.conf"
    cp "$guest/initramfs/modules" "$root/etc/initramfs-tools/modules"
    install -m 0755 "$guest/initramfs/tandem-root" "$root/etc/initramfs-tools/scripts/init-top/tandem-root"
    kernel_version=$(basename "$(ls -d "$root"/usr/lib/modules/*/ | head -n1)")
    rm -f "$root"/boot/initrd.img-*
    chroot "$root" update-initramfs -c -k "$kernel_version" > "$work/update-initramfs.log" 2>&1 \
        || { cat "$work/update-initramfs.log" >&2; fail "update-initramfs failed in the guest tree"; }
    cp "$root/boot/vmlinuz-$kernel_version" "$work/vmlinuz"
    cp "$root/boot/initrd.img-$kernel_version" "$work/initrd.img"

    # Tandem, as a distribution installs it: the staged `make install` tree, units enabled.
    cp -a "$staged/." "$root/"
    systemctl --root="$root" enable tandemd.service tandem-bless-boot.service > /dev/null 2>&1
    install -D -m 0644 "$guest/rootfs/tandem.conf" "$root/etc/tandem/tandem.conf"
    install -D -m 0644 "$work/keys/vm-test.pem" "$root/usr/share/tandem/keys.d/vm-test.pem"
    install -D -m 0644 "$guest/rootfs/bundles-disk-bandwidth.conf" "$root/etc/systemd/system/tandemd.service.d/vm-test-bandwidth.conf"

    # A read-only root: what changes lives on /var, /boot/efi and /tmp (fstab).
    cp "$guest/rootfs/fstab" "$root/etc/fstab"
    install -D -m 0644 "$guest/rootfs/journald.conf" "$root/etc/systemd/journald.conf.d/persistent.conf"
    install -D -m 0644 "$guest/rootfs/watchdog.conf" "$root/etc/systemd/system.conf.d/watchdog.conf"
    install -D -m 0644 "$guest/rootfs/autologin.conf" "$root/etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf"
    # One machine: the same id in every version keeps one journal directory across slots.
    echo 5e1f7a2b0c3d4e5f8a9b0c1d2e3f4a5b > "$root/etc/machine-id"
    echo tandem-vm > "$root/etc/hostname"
    chroot "$root" passwd -d root > /dev/null

    # What a read-only image does not need: the kernel's modules beyond the initramfs's, package
    # caches and documentation. /var's contents seed the persistent partition instead.
    rm -rf "$root"/usr/lib/modules/*/kernel "$root"/boot/* "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/* \
        "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/*
    mkdir -p "$root/var/log/journal" "$root/boot/efi" "$root/bundles"
}

# squashfs_slot ROOT VERSION EXTRAS OUT: the root as a squashfs naming VERSION in os-release, plus
# the units in EXTRAS (a directory, may be empty) installed and enabled.
squashfs_slot() {
    local root=$1 version=$2 extras=$3 out=$4 copy="$work/root-$2" unit
    rm -rf "$copy"
    cp -a "$root" "$copy"
    rm -f "$copy/etc/os-release"
    cat > "$copy/usr/lib/os-release" <<OS
PRETTY_NAME="Tandem VM test $version (Debian $debian_suite)"
NAME="Tandem VM test"
ID=debian
VERSION_ID=$version
TANDEM_COMPATIBLE=$vm_compatible
OS
    ln -s ../usr/lib/os-release "$copy/etc/os-release"
    for unit in "$extras"/*.service; do
        [ -e "$unit" ] || continue
        install -m 0644 "$unit" "$copy/etc/systemd/system/"
        systemctl --root="$copy" enable "$(basename "$unit")" > /dev/null 2>&1
    done
    rm -f "$out"
    mksquashfs "$copy" "$out" -comp zstd -no-xattrs -noappend -quiet -no-progress > /dev/null
    rm -rf "$copy"
    [ "$(stat -c %s "$out")" -le $((vm_slot_mib << 20)) ] || fail "the slot image of $version is larger than $vm_slot_mib MiB"
}

# var_image ROOT OUT: the persistent /var partition, seeded from the image's /var.
var_image() {
    rm -f "$2"
    mkfs.ext4 -q -L VAR -d "$1/var" "$2" "${vm_var_mib}M" > /dev/null
}

# bundles_disk OUT BUNDLE...: an ext4 file system (no partition table) labelled BUNDLES holding
# the bundles, attached read-only as the guest's second disk; a bundle is copied under its own
# name unless given as SOURCE=NAME.
bundles_disk() {
    local out=$1 dir="$work/bundles-dir" entry kib
    shift
    rm -rf "$dir" && mkdir -p "$dir"
    for entry in "$@"; do
        case $entry in
        *=*) ln "${entry%%=*}" "$dir/${entry#*=}" 2> /dev/null || cp "${entry%%=*}" "$dir/${entry#*=}" ;;
        *) ln "$entry" "$dir/" 2> /dev/null || cp "$entry" "$dir/" ;;
        esac
    done
    kib=$(( $(du -sk "$dir" | cut -f1) * 11 / 10 + 16384 ))
    rm -f "$out"
    mkfs.ext4 -q -L BUNDLES -d "$dir" "$out" "${kib}k" > /dev/null
    rm -rf "$dir"
}

# guest_disk OUT VERSION1_IMAGE VAR_IMAGE: ESP with stock GRUB and Tandem's grub-env files, USR-A
# holding version 1 (good, first), USR-B empty and unbootable, VAR.
guest_disk() {
    local disk=$1 slot_a=$2 var=$3 esp_file="$work/esp.img" esp_dir="$work/esp"
    rm -f "$disk"
    truncate -s $((vm_esp_mib + 2 * vm_slot_mib + vm_var_mib + 2))M "$disk"
    sgdisk -o \
        -n 1:0:+${vm_esp_mib}M -t 1:$esp_type -c 1:EFI-SYSTEM \
        -n 3:0:+${vm_slot_mib}M -t 3:$usr_type -c 3:USR-A -u 3:${partuuid_of[A]} \
        -n 4:0:+${vm_slot_mib}M -t 4:$usr_type -c 4:USR-B -u 4:${partuuid_of[B]} \
        -n 9:0:+${vm_var_mib}M -t 9:$vm_var_type -c 9:VAR \
        "$disk" > /dev/null
    write_partition "$disk" 3 "$slot_a"
    write_partition "$disk" 9 "$var"

    # The ESP's Tandem files come from `updatectl disk init-boot`, run on a copy of its tree.
    rm -rf "$esp_dir" && mkdir -p "$esp_dir/tandem/a" "$esp_dir/tandem/b"
    cp "$work/vmlinuz" "$esp_dir/tandem/a/vmlinuz"
    cp "$work/initrd.img" "$esp_dir/tandem/a/initrd.img"
    "$updatectl" disk init-boot "$disk" --backend grub-env --esp "$esp_dir" --kernel-options "$vm_kernel_options" \
        | sed 's/^/   init-boot: /'
    rm -f "$esp_file"
    mkfs.vfat -C -F 32 -n EFI-SYSTEM "$esp_file" $((vm_esp_mib * 1024)) > /dev/null
    mmd -i "$esp_file" ::/EFI ::/EFI/BOOT
    mcopy -i "$esp_file" "$work/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
    mcopy -s -m -i "$esp_file" "$esp_dir"/* ::/
    write_partition "$disk" 1 "$esp_file"
    rm -rf "$esp_file" "$esp_dir"
}
