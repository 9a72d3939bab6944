# Partitions of a GPT disk-image file, reached by byte offset: loop devices here do not scan
# partitions. Shared by the boot test and the VM test.

# partition_offset DISK NUMBER: the partition's first byte.
partition_offset() {
    local first
    first=$(sgdisk -i "$2" "$1" | sed -n 's/^First sector: \([0-9]*\).*/\1/p')
    [ -n "$first" ] || fail "no partition $2 on $1"
    echo $((first * 512))
}

# write_partition DISK NUMBER FILE: FILE's bytes at the start of partition NUMBER.
write_partition() {
    dd if="$3" of="$1" bs=1M oflag=seek_bytes seek="$(partition_offset "$1" "$2")" conv=notrunc,fsync status=none
}
