# The guest's Debian: debootstrap --variant=minbase of bookworm with systemd, udev, dbus, the
# kernel and initramfs-tools, and the shared libraries tandemd and updatectl still need after
# --static-swift-stdlib. The pristine tree is cached by what it was made from (suite, mirror,
# packages); every run customizes a fresh copy, so a cached tree never carries an old run's
# changes.

readonly debian_suite=bookworm
readonly debian_mirror=${TANDEM_VM_MIRROR:-http://deb.debian.org/debian}
readonly debian_packages=systemd,systemd-sysv,udev,dbus,kmod,procps,dosfstools,linux-image-amd64,initramfs-tools,libcurl4,libxml2,libssl3,libsystemd0,libblkid1

# pristine_rootfs CACHE: prints the cached tree's path, debootstrapping it first if needed.
pristine_rootfs() {
    local cache=$1 key tree
    key=$(printf '%s\n' "$debian_suite" "$debian_mirror" "$debian_packages" | sha256sum | cut -c1-16)
    tree="$cache/rootfs-$key"
    if [ ! -f "$tree.complete" ]; then
        rm -rf "$tree" "$tree.partial"
        echo "   debootstrap $debian_suite (minbase) from $debian_mirror" >&2
        if ! debootstrap --variant=minbase --include="$debian_packages" "$debian_suite" "$tree.partial" "$debian_mirror" \
            > "$cache/debootstrap.log" 2>&1; then
            tail -n 20 "$cache/debootstrap.log" >&2
            fail "debootstrap failed (log: $cache/debootstrap.log)"
        fi
        mv "$tree.partial" "$tree"
        touch "$tree.complete"
    fi
    echo "$tree"
}
