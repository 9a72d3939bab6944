#!/usr/bin/env bash
# `make boot-test`: real QEMU boots of stock GRUB (grub-env) and systemd-boot driven by Tandem.
# A fresh QEMU process per boot (TCG, q35, OVMF) boots a GPT disk image in the Flatcar layout; a
# busybox initramfs reports on the serial port which slot booted, then powers off, "crashes",
# blesses or rolls back with updatectl. After every boot Tandem's view of the bootloader's state
# must equal the model's prediction and the bootloader's own files. See docs/boot-test.md.
#
# usage: boot-test.sh [--backend grub-env|systemd-boot]... [--scenario NAME]... UPDATECTL CACHE_DIR
#   UPDATECTL  updatectl built with --static-swift-stdlib (it runs in the guest too)
#   CACHE_DIR  where fetch-kernel.sh left the guest kernel; the run's logs go to CACHE_DIR/run
set -euo pipefail

boot_test_dir=$(cd "$(dirname "$0")" && pwd)
for part in common initramfs tools-disk bootloader partition-file disk-image qemu-boot boot-state oracle boot-step scenarios; do
    # shellcheck source=/dev/null
    source "$boot_test_dir/lib/$part.sh"
done

backends=() chosen_scenarios=()
while [ $# -gt 2 ]; do
    case $1 in
    --backend) backends+=("$2"); shift 2 ;;
    --scenario) chosen_scenarios+=("$2"); shift 2 ;;
    *) echo "boot-test: unknown option $1" >&2; exit 64 ;;
    esac
done
[ $# = 2 ] || { sed -n 's/^# usage: /usage: /p' "$0" >&2; exit 64; }
updatectl=$(realpath "$1")
cache=$(realpath "$2")
[ ${#backends[@]} -gt 0 ] || backends=(grub-env systemd-boot)
[ ${#chosen_scenarios[@]} -gt 0 ] || read -r -a chosen_scenarios <<< "$scenarios"

# Every tool the boot test runs. Missing ones skip the test, unless integration tests are
# mandatory (TANDEM_REQUIRE_INTEGRATION=1, as in CI), which makes them a failure.
missing=()
for tool in qemu-system-x86_64 grub-mkstandalone grub-editenv mkfs.vfat fsck.vfat mcopy mdir mtype sgdisk cpio zstd jq timeout strip ldd; do
    command -v "$tool" > /dev/null || missing+=("$tool")
done
for file in "$ovmf_code" "$ovmf_vars" "$systemd_boot_efi" /bin/busybox "$updatectl"; do
    [ -f "$file" ] || missing+=("$file")
done
guest_kernel_dir=$(ls -d "$cache"/kernel/*/ 2> /dev/null | head -n1 || true)
[ -n "$guest_kernel_dir" ] || missing+=("the guest kernel in $cache/kernel (make boot-deps)")
skip_or_fail_missing boot-test "${missing[@]}"
guest_kernel="$guest_kernel_dir/vmlinuz"

work="$cache/run"
rm -rf "$work" && mkdir -p "$work"
started=$SECONDS

echo "== Power cuts: TANDEM_BOOT_SEED=$power_cut_seed replays their delays"
echo "== The guest: $(basename "$guest_kernel_dir"), a busybox initramfs, updatectl on a tools disk"
guest_initrd="$work/initrd.img"
build_initramfs "$guest_kernel_dir" "$guest_initrd"
tools_disk="$work/tools.img"
build_tools_disk "$updatectl" "$tools_disk"

echo "== A signing key and signed bundles of versions 2 to 5, each carrying the kernel and initramfs"
bundles="$work/bundles"
mkdir -p "$bundles/keys.d"
"$updatectl" image keygen --private "$bundles/key.pem" --public "$bundles/keys.d/boot-test.pem" > /dev/null
for version in 2 3 4 5; do
    slot_image "$version" "$bundles/v$version.img"
    "$updatectl" image create --key "$bundles/key.pem" --version "$version" --compatible tandem-boot-test \
        --image "$bundles/v$version.img" --kernel "$guest_kernel" --initrd "$guest_initrd" \
        --out "$bundles/v$version.tandem" > /dev/null
done

# run_backend: every chosen scenario of $backend, one after another; a failed scenario is
# recorded and the next one runs. Writes "backend scenario boots result seconds" lines.
run_backend() {
    local name scenario_started status
    echo "== $backend: preparing the disk (updatectl disk init-boot --backend $backend)"
    prepare_backend
    for name in "${chosen_scenarios[@]}"; do
        scenario_dir="$work/$backend/$name"
        mkdir -p "$scenario_dir"
        scenario_started=$SECONDS
        echo "== $backend: $name"
        # In the background so that errexit holds inside: a subshell tested with || ignores it.
        (prepare_scenario; "scenario_${name//-/_}") &
        status=0
        wait $! || status=$?
        echo "$backend $name $(boots_so_far) $([ "$status" = 0 ] && echo PASS || echo FAIL) $((SECONDS - scenario_started))" \
            "$(cat "$scenario_dir/findings" 2> /dev/null | paste -sd ';' -)" >> "$work/$backend/results"
        # A failed scenario's disk stays for inspection.
        if [ "$status" = 0 ]; then rm -f "$scenario_dir/disk.img"; fi
    done
}

# The backends boot side by side: each QEMU is single-threaded under TCG.
pids=()
for backend in "${backends[@]}"; do
    mkdir -p "$work/$backend"
    (run_backend > "$work/$backend/log" 2>&1) &
    pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || true; done

failed=0
for backend in "${backends[@]}"; do
    echo
    cat "$work/$backend/log"
done
echo
echo "== Summary: $(( SECONDS - started ))s wall time"
printf '%-13s %-10s %-11s %-7s %-8s %s\n' BACKEND SCENARIO "REAL BOOTS" RESULT SECONDS FINDINGS
for backend in "${backends[@]}"; do
    total=0
    if [ ! -s "$work/$backend/results" ]; then
        printf '%-13s %-10s %-11s %-7s %s\n' "$backend" - 0 FAIL "(see $work/$backend/log)"
        failed=1
        continue
    fi
    while read -r _ name boots result seconds findings; do
        printf '%-13s %-10s %-11s %-7s %-8s %s\n' "$backend" "$name" "$boots" "$result" "$seconds" "$findings"
        total=$((total + boots))
        [ "$result" = PASS ] || failed=1
    done < "$work/$backend/results"
    printf '%-13s %-10s %-11s\n' "$backend" total "$total"
done
echo "logs and serial logs: $work"
exit "$failed"
