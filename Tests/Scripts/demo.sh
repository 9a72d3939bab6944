#!/usr/bin/env bash
# The Tandem demo on an embedded default: a GPT disk-image file with the Flatcar layout,
# driven offline with updatectl. No root needed. Exits non-zero if any expectation fails.
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

step "Putting slot B on trial (successful 0, tries 1, top priority), as an install does"
"$updatectl" disk mark "$disk" B trial
expect "the bootloader would try B next" [ "$(next_boot)" = B ]

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
