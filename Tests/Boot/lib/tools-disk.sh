# The guest's tools disk: updatectl, the shared libraries it still needs after
# --static-swift-stdlib (libblkid, libcrypto, libsystemd, libcurl, libxml2 and theirs) and the
# dynamic loader, on a FAT file system without a partition table, attached read-only as
# /dev/vdb. Kept off the ESP so that the ESP holds only what the bootloader and Tandem put there,
# and out of the initramfs so that the bootloader loads a small one.

# build_tools_disk UPDATECTL OUT
build_tools_disk() {
    local updatectl=$1 out=$2 dir library kib
    dir=$(mktemp -d "$work/tools.XXXXXX")
    mkdir -p "$dir/lib"
    strip -o "$dir/updatectl" "$updatectl"
    while read -r library; do
        cp -L "$library" "$dir/lib/"
    done < <(ldd "$updatectl" | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p')
    cp -L "$(ldd "$updatectl" | sed -n 's/^[[:space:]]*\(\/[^ ]*ld-linux[^ ]*\) .*/\1/p')" "$dir/ld-linux-x86-64.so.2"
    kib=$(( $(du -sk "$dir" | cut -f1) * 11 / 10 + 8192 ))
    rm -f "$out"
    mkfs.vfat -C -n TANDEMTOOLS "$out" "$kib" > /dev/null
    mcopy -s -i "$out" "$dir"/* ::/
    rm -rf "$dir"
}
