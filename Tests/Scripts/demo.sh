#!/usr/bin/env bash
# The Tandem demo on an embedded default: a GPT disk-image file with the Flatcar layout, a demo
# signing key and signed bundles, a private D-Bus bus with tandemd on it, driven with updatectl
# and busctl as a host would be; then the bootloader is played offline. No root needed. Exits
# non-zero if any expectation fails, so it doubles as a smoke test.
set -euo pipefail

bin=${1:?usage: demo.sh BIN_DIR}
updatectl="$bin/updatectl"
tandemd="$bin/tandemd"
work=$(mktemp -d "${TMPDIR:-/tmp}/tandem-demo.XXXXXX")
bus_pid="" daemon_pid=""
cleanup() {
    if [ -n "$daemon_pid" ]; then kill -KILL "$daemon_pid" 2>/dev/null || true; fi
    if [ -n "$bus_pid" ]; then kill -KILL "$bus_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
disk="$work/disk.img"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
expect() { # expect DESCRIPTION COMMAND...: run a check and stop the demo if it fails
    local what=$1; shift
    if "$@"; then echo "ok: $what"; else echo "FAILED: $what" >&2; exit 1; fi
}
next_boot() { "$updatectl" disk next-boot "$disk" --json | sed -n 's/.*"slot" : "\([AB]\)".*/\1/p'; }
slot_sha256() { # slot_sha256 PARTITION BYTES: hash of the first BYTES of a partition, by openssl
    local start
    start=$("$updatectl" disk show "$disk" --json | python3 -c "import json,sys; print(next(p['firstLBA'] for p in json.load(sys.stdin)['partitions'] if p['number']==$1))")
    dd if="$disk" iflag=skip_bytes,count_bytes skip=$((start * 512)) count="$2" bs=1M status=none | openssl dgst -sha256 -r | cut -c1-64
}

step "Creating a 64 MiB GPT disk image with the Flatcar layout (EFI-SYSTEM, BIOS-BOOT, USR-A, USR-B, OEM, ROOT)"
truncate -s 64M "$disk"
usr=5dfbf5f4-2848-4bac-aa5e-0d9a20b745a6
sgdisk -o \
    -n 1:0:+4M -t 1:c12a7328-f81f-11d2-ba4b-00a0c93ec93b -c 1:EFI-SYSTEM \
    -n 2:0:+1M -t 2:21686148-6449-6e6f-744e-656564454649 -c 2:BIOS-BOOT \
    -n 3:0:+16M -t 3:$usr -c 3:USR-A -u 3:7130c94a-213a-4e5a-8e26-6cce9662f132 -A 3:set:48 -A 3:set:56 \
    -n 4:0:+16M -t 4:$usr -c 4:USR-B -u 4:e03dd35c-7c2d-4a47-b3fe-27f15780a57c \
    -n 6:0:+4M -t 6:0fc63daf-8483-4772-8e79-3d69d8477de4 -c 6:OEM \
    -n 9:0:+8M -t 9:3884dd41-8582-4404-b9a8-e9b84f2df50e -c 9:ROOT \
    "$disk" >/dev/null
"$updatectl" disk show "$disk"
expect "slot A boots first on a fresh image" [ "$(next_boot)" = A ]

step "Generating a demo signing key (Ed25519) and trusting its public key"
mkdir -p "$work/keys.d"
"$updatectl" image keygen --private "$work/demo.key" --public "$work/keys.d/demo.pem"

step "Building signed bundles: v2 (a 12 MiB image), v3 (which will fail its trial boot) and a corrupt copy of v2"
head -c $((12 * 1024 * 1024 + 321)) /dev/urandom > "$work/v2.raw"
"$updatectl" image create --key "$work/demo.key" --version 2.0.0 --compatible tandem-demo \
    --image "$work/v2.raw" --out "$work/v2.tandem"
head -c $((8 * 1024 * 1024)) /dev/urandom > "$work/v3.raw"
"$updatectl" image create --key "$work/demo.key" --version 3.0.0 --compatible tandem-demo \
    --image "$work/v3.raw" --out "$work/v3.tandem" >/dev/null
"$updatectl" image inspect "$work/v2.tandem"
cp "$work/v2.tandem" "$work/v2-corrupt.tandem"
# One byte 5 MiB into the image, wherever the format puts the image (format 3: after its chunk table).
image_offset=$("$updatectl" image inspect "$work/v2.tandem" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['header']['imageOffset'])")
printf '\377' | dd of="$work/v2-corrupt.tandem" bs=1 seek=$((image_offset + 5 * 1024 * 1024)) conv=notrunc status=none
"$updatectl" image verify "$work/v2.tandem" --keys "$work/keys.d"

step "Starting a private D-Bus system bus and tandemd on it (the disk image stands in for the host's disk)"
chmod 755 "$work"
cat > "$work/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$work/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/> <allow own="*"/> <allow send_destination="*"/> <allow receive_sender="*"/>
  </policy>
</busconfig>
EOF
dbus-daemon --config-file="$work/bus.conf" --nofork --print-address=3 3>"$work/bus.address" 2>/dev/null &
bus_pid=$!
disown "$bus_pid"  # killed at exit; no job notice
for _ in $(seq 50); do [ -s "$work/bus.address" ] && break; sleep 0.1; done
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$work/bus"
# A "machine": the slot it runs from, that slot's os-release, and the kernel's boot id. A
# simulated reboot changes all three, the way a real one would.
booted=A
declare -A version_in=([A]=1.0.0 [B]=none)
start_tandemd() {
    printf 'ID=tandem-demo\nVERSION_ID=%s\n' "${version_in[$booted]}" > "$work/os-release"
    sed -i "s/^BootedSlot=.*/BootedSlot=$booted/" "$work/tandem.conf"
    "$tandemd" --config "$work/tandem.conf" 2>>"$work/tandemd.log" &
    daemon_pid=$!
    for _ in $(seq 100); do "$updatectl" status >/dev/null 2>&1 && return; sleep 0.1; done
    echo "FAILED: tandemd did not start" >&2; cat "$work/tandemd.log" >&2; exit 1
}
stop_tandemd() { # stop_tandemd [SIGNAL]: a clean stop, or with KILL a crash
    kill "-${1:-TERM}" "$daemon_pid"
    wait "$daemon_pid" 2>/dev/null || true
    daemon_pid=""
}
simulate_reboot() { # the bootloader (GRUB's gptprio.next) picks a slot; the kernel gets a new boot id
    [ -n "$daemon_pid" ] && stop_tandemd
    booted=$("$updatectl" disk next-boot "$disk" --commit --json | sed -n 's/.*"slot" : "\([AB]\)".*/\1/p')
    cat /proc/sys/kernel/random/uuid > "$work/boot_id"
    echo "power-on: the bootloader chose slot $booted (version ${version_in[$booted]})"
    start_tandemd
}
cat /proc/sys/kernel/random/uuid > "$work/boot_id"
cat > "$work/tandem.conf" <<EOF
[Slots]
Disk=$disk
BootedSlot=A

[Update]
Source=$work/v2.tandem
KeysDirectory=$work/keys.d
CheckpointInterval=4M

[Host]
OSRelease=$work/os-release
BootIDFile=$work/boot_id

[Daemon]
StateDirectory=$work/state
EOF
start_tandemd
"$updatectl" status
busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" call com.coreos.update1 /com/coreos/update1 com.coreos.update1.Manager GetStatus

step "updatectl check: the configured source offers 2.0.0, newer than the running 1.0.0"
"$updatectl" check

step "Installing the corrupt bundle through tandemd: its chunk fails its signed digest before it is written, and nothing may become bootable"
a_before=$(slot_sha256 3 $((16 * 1024 * 1024)))
if "$updatectl" update "$work/v2-corrupt.tandem"; then echo "FAILED: a corrupt bundle was installed" >&2; exit 1; fi
expect "slot A is untouched" [ "$(slot_sha256 3 $((16 * 1024 * 1024)))" = "$a_before" ]
expect "the bootloader still picks A" [ "$(next_boot)" = A ]

step "updatectl update: tandemd verifies, streams into B while hashing, reads back, then puts B on trial"
"$updatectl" update
expect "slot B holds exactly the image (openssl dgst)" \
    [ "$(slot_sha256 4 $((12 * 1024 * 1024 + 321)))" = "$(openssl dgst -sha256 -r "$work/v2.raw" | cut -c1-64)" ]
expect "the bootloader would try B next" [ "$(next_boot)" = B ]
"$updatectl" status
expect "update_engine's API says UPDATED_NEED_REBOOT, as locksmithd expects" sh -c \
    "busctl --address='$DBUS_SYSTEM_BUS_ADDRESS' call com.coreos.update1 /com/coreos/update1 com.coreos.update1.Manager GetStatus | grep -q UPDATE_STATUS_UPDATED_NEED_REBOOT"
"$updatectl" reboot --dry-run
set +e; "$updatectl" update; status=$?; set -e
expect "a second update finds nothing new (exit status 2)" [ "$status" = 2 ]
version_in[B]=2.0.0

step "Simulated reboot into the update: a trial boot of B, unproven until the boot completes"
simulate_reboot
expect "the bootloader tried B" [ "$booted" = B ]
"$updatectl" status
expect "tandemd reports a trial boot" sh -c "'$updatectl' status --json | grep -q '\"kind\" : \"trial\"'"

step "The boot completes (boot-complete.target): tandem-bless-boot.service runs updatectl mark-good"
"$updatectl" mark-good
expect "B is blessed: successful, and the bootloader's steady choice" [ "$(next_boot)" = B ]
expect "A stays the good fallback" sh -c "'$updatectl' disk show '$disk' --json | grep -q '\"successful\" : true'"

step "Installing v3 into A, the other slot, now that B is proven"
"$updatectl" update "$work/v3.tandem"
version_in[A]=3.0.0

step "Simulated reboot into v3, which crashes before the boot completes (no blessing), then a power cycle"
simulate_reboot
expect "the bootloader tried A (v3)" [ "$booted" = A ]
stop_tandemd KILL
simulate_reboot
expect "the bootloader fell back to B (v2): A used its only try" [ "$booted" = B ]
"$updatectl" status
expect "tandemd reports the fallback with its reason" sh -c \
    "'$updatectl' status --json | grep -q '\"reason\" : \"tries exhausted\"'"
expect "v3 is quarantined" sh -c "'$updatectl' status --json | grep -A1 '\"quarantined\"' | grep -q '3.0.0' || '$updatectl' status | grep -q 'Quarantined:  3.0.0'"
set +e; "$updatectl" update "$work/v3.tandem"; status=$?; set -e
expect "installing v3 again is refused while it is quarantined" [ "$status" = 1 ]
stop_tandemd

step "Damaging the backup GPT header and letting Tandem repair it"
size=$(stat -c %s "$disk")
printf 'damage' | dd of="$disk" bs=1 seek=$((size - 512 + 40)) conv=notrunc status=none
"$updatectl" disk repair "$disk"
expect "sgdisk -v finds the table sound again" sh -c "sgdisk -v '$disk' | grep -q 'No problems found'"

step "Demo complete"
