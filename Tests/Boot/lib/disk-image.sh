# The disk under test: a GPT disk-image file in the Flatcar layout, its ESP a FAT file system made
# on a file (mkfs.vfat) and dd'd in at its byte offset. The host reaches the ESP's files with
# mtools (`-i DISK@@OFFSET`): the host kernel may not have vfat, and loop devices here do not scan
# partitions.

readonly esp_type=c12a7328-f81f-11d2-ba4b-00a0c93ec93b
readonly usr_type=5dfbf5f4-2848-4bac-aa5e-0d9a20b745a6
# The slots' PARTUUIDs: the bootloader passes the booted one as mount.usr=PARTUUID=...
declare -A partuuid_of=([A]=7130c94a-213a-4e5a-8e26-6cce9662f132 [B]=e03dd35c-7c2d-4a47-b3fe-27f15780a57c)
readonly esp_mib=64 slot_mib=4

# slot_image VERSION OUT: a slot image whose first line names its version, for the guest to read.
slot_image() {
    { printf 'TANDEM-SLOT version=%s\n' "$1"; head -c $((1024 * 1024 - 64)) /dev/zero; } > "$2"
}

# create_disk DISK BOOTX64_EFI KERNEL INITRD: EFI-SYSTEM, BIOS-BOOT, USR-A (version 1), USR-B
# (empty), OEM, ROOT. The ESP holds the bootloader as the removable-media path and slot A's
# kernel and initramfs in the fixed layout, <ESP>/tandem/a/. Slot B's directory is empty: its
# kernel and initramfs come in the bundles, so B boots only if Tandem installed them.
create_disk() {
    local disk=$1 loader=$2 kernel=$3 initrd=$4 esp slot
    rm -f "$disk"
    truncate -s $((esp_mib + 2 * slot_mib + 16))M "$disk"
    sgdisk -o \
        -n 1:0:+${esp_mib}M -t 1:$esp_type -c 1:EFI-SYSTEM \
        -n 2:0:+1M -t 2:21686148-6449-6e6f-744e-656564454649 -c 2:BIOS-BOOT \
        -n 3:0:+${slot_mib}M -t 3:$usr_type -c 3:USR-A -u 3:${partuuid_of[A]} \
        -n 4:0:+${slot_mib}M -t 4:$usr_type -c 4:USR-B -u 4:${partuuid_of[B]} \
        -n 6:0:+2M -t 6:0fc63daf-8483-4772-8e79-3d69d8477de4 -c 6:OEM \
        -n 9:0:+4M -t 9:3884dd41-8582-4404-b9a8-e9b84f2df50e -c 9:ROOT \
        "$disk" > /dev/null
    slot_image 1 "$disk.slot-a"
    write_partition "$disk" 3 "$disk.slot-a"
    rm -f "$disk.slot-a"

    esp="$disk.esp"
    rm -f "$esp"
    mkfs.vfat -C -F 32 -n EFI-SYSTEM "$esp" $((esp_mib * 1024)) > /dev/null
    mmd -i "$esp" ::/EFI ::/EFI/BOOT ::/tandem
    mcopy -i "$esp" "$loader" ::/EFI/BOOT/BOOTX64.EFI
    mmd -i "$esp" ::/tandem/a ::/tandem/b
    mcopy -i "$esp" "$kernel" ::/tandem/a/vmlinuz
    mcopy -i "$esp" "$initrd" ::/tandem/a/initrd.img
    write_partition "$disk" 1 "$esp"
    rm -f "$esp"
}

# The ESP as mtools names it.
esp_of() { echo "$1@@$(partition_offset "$1" 1)"; }

# esp_pull DISK DIR: a copy of the ESP's files (the EFI directory aside) in DIR, for the host's
# updatectl --esp DIR and for the oracles.
esp_pull() {
    local disk=$1 dir=$2 name
    rm -rf "$dir" && mkdir -p "$dir"
    for name in $(mdir -b -i "$(esp_of "$disk")" ::/ | sed 's|^::/||'); do
        [ "${name^^}" = EFI ] && continue
        mcopy -s -m -n -i "$(esp_of "$disk")" "::/$name" "$dir/"
    done
}

# esp_push DISK DIR: makes the ESP's files (the EFI directory aside) exactly DIR's.
esp_push() {
    local disk=$1 dir=$2 name
    for name in $(mdir -b -i "$(esp_of "$disk")" ::/ | sed 's|^::/||'); do
        [ "${name^^}" = EFI ] && continue
        mdeltree -i "$(esp_of "$disk")" "::/$name" 2> /dev/null || mdel -i "$(esp_of "$disk")" "::/$name"
    done
    if [ -n "$(ls -A "$dir")" ]; then
        mcopy -s -m -i "$(esp_of "$disk")" "$dir"/* ::/
    fi
}

# esp_names DISK DIR: the file names in an ESP directory, as the FAT holds them (an oracle).
esp_names() {
    mdir -b -i "$(esp_of "$1")" "::/$2" 2> /dev/null | sed 's|.*/||' | sort
}

# esp_image DISK OUT: a copy of the ESP's bytes, for fsck.vfat.
esp_image() {
    dd if="$1" of="$2" bs=1M iflag=skip_bytes,count_bytes skip="$(partition_offset "$1" 1)" \
        count=$((esp_mib * 1024 * 1024)) status=none
}

# esp_damage DISK: what fsck.vfat (dosfstools, read-only) finds wrong with the ESP's FAT, one
# problem a line; nothing when it is sound. Not damage: the dirty bit and a stale free-cluster
# count, which every mounted or power-cut FAT has, and lost clusters ("Reclaimed N unused
# clusters": allocated for a file whose directory entry never reached the disk), which only
# waste space until fsck frees them.
esp_damage() {
    local copy="$1.esp-check"
    esp_image "$1" "$copy"
    fsck.vfat -n "$copy" 2>&1 | sed -n '2,$p' \
        | grep -v -E 'Reclaimed [0-9]+ unused clusters|Dirty bit|unmounted|removing dirty bit|Free cluster summary|Auto-correcting|Leaving filesystem unchanged|files, .* clusters|boot sector and its backup|mostly harmless|^ *[0-9]+:[0-9a-f]+/[0-9a-f]+$|Not automatically fixing' \
        || true
    rm -f "$copy"
}

# esp_repair DISK: fsck.vfat -a on the ESP in place, as systemd-fsck does for the ESP when
# Linux boots after a power cut.
esp_repair() {
    local copy="$1.esp-repair"
    esp_image "$1" "$copy"
    fsck.vfat -a "$copy" > /dev/null 2>&1 || true
    write_partition "$1" 1 "$copy"
    rm -f "$copy"
}
