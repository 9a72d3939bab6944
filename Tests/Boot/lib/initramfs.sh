# The guest's initramfs: busybox, the kernel modules /init loads (in order), /init itself and
# the flips it makes until the power is cut.
# Shared by both slots: which slot booted comes from the kernel command line, not the initramfs.

# build_initramfs KERNEL_DIR OUT: KERNEL_DIR as fetch-kernel.sh leaves it.
build_initramfs() {
    local kernel=$1 out=$2 root
    root=$(mktemp -d "$work/initramfs.XXXXXX")
    mkdir -p "$root"/{bin,dev,proc,sys,run,tmp,etc,lib/modules}
    cp /bin/busybox "$root/bin/busybox"
    cp "$kernel"/modules/*.ko "$root/lib/modules/"
    cp "$kernel/modules.load" "$root/etc/modules.load"
    cp "$boot_test_dir/guest/init" "$root/init"
    cp "$boot_test_dir/guest/flips" "$root/etc/flips"
    chmod 0755 "$root/init"
    # The kernel opens /dev/console for init before devtmpfs is mounted.
    mknod -m 0600 "$root/dev/console" c 5 1
    (cd "$root" && find . | cpio -o -H newc --quiet) | zstd -q -10 -o "$out"
    rm -rf "$root"
}
