#!/usr/bin/env bash
# The Tandem demo on an embedded default: a GPT disk-image file with the Flatcar layout, a demo
# signing key and signed bundles, driven offline with updatectl. No root needed. Exits non-zero
# if any expectation fails, so it doubles as a smoke test.
set -euo pipefail

bin=${1:?usage: demo.sh BIN_DIR}
updatectl="$bin/updatectl"
work=$(mktemp -d "${TMPDIR:-/tmp}/tandem-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
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

step "Building signed bundles: v2 (a 12 MiB image) and a copy of v2 with one image byte flipped"
head -c $((12 * 1024 * 1024 + 321)) /dev/urandom > "$work/v2.raw"
"$updatectl" image create --key "$work/demo.key" --version 2.0.0 --compatible tandem-demo \
    --image "$work/v2.raw" --out "$work/v2.tandem"
"$updatectl" image inspect "$work/v2.tandem"
cp "$work/v2.tandem" "$work/v2-corrupt.tandem"
printf '\377' | dd of="$work/v2-corrupt.tandem" bs=1 seek=$((4096 + 5 * 1024 * 1024)) conv=notrunc status=none
"$updatectl" image verify "$work/v2.tandem" --keys "$work/keys.d"

install() { "$updatectl" disk install "$disk" "$1" --keys "$work/keys.d" --booted-slot A \
    --compatible tandem-demo --state-dir "$work/state"; }

step "Installing the corrupt bundle: the hash check must catch it, and nothing may become bootable"
a_before=$(slot_sha256 3 $((16 * 1024 * 1024)))
if install "$work/v2-corrupt.tandem"; then echo "FAILED: a corrupt bundle was installed" >&2; exit 1; fi
expect "slot A is untouched" [ "$(slot_sha256 3 $((16 * 1024 * 1024)))" = "$a_before" ]
expect "the bootloader still picks A" [ "$(next_boot)" = A ]

step "Installing v2 into the inactive slot B: verify, stream while hashing, read back, then trial"
install "$work/v2.tandem"
expect "slot B holds exactly the image (openssl dgst)" \
    [ "$(slot_sha256 4 $((12 * 1024 * 1024 + 321)))" = "$(openssl dgst -sha256 -r "$work/v2.raw" | cut -c1-64)" ]
expect "the bootloader would try B next" [ "$(next_boot)" = B ]
"$updatectl" disk show "$disk"

step "Simulated power-on: the bootloader picks B and uses up its one try"
"$updatectl" disk next-boot "$disk" --commit

step "B never proved itself; simulated power-on again: the bootloader falls back to A"
"$updatectl" disk next-boot "$disk" --commit
expect "the fallback boots A" [ "$(next_boot)" = A ]

step "Trying B again and marking it good this time (successful 1, tries 0, top priority)"
"$updatectl" disk mark "$disk" B trial
"$updatectl" disk next-boot "$disk" --commit
"$updatectl" disk mark "$disk" B good
"$updatectl" disk show "$disk"
expect "B is now the steady-state slot" [ "$(next_boot)" = B ]

step "Damaging the backup GPT header and letting Tandem repair it"
size=$(stat -c %s "$disk")
printf 'damage' | dd of="$disk" bs=1 seek=$((size - 512 + 40)) conv=notrunc status=none
"$updatectl" disk repair "$disk"
expect "sgdisk -v finds the table sound again" sh -c "sgdisk -v '$disk' | grep -q 'No problems found'"

step "Demo complete"
