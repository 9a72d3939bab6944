#!/usr/bin/env bash
# Makes the GPT seeds in Fuzz/Corpus/gpt from disks that sgdisk builds with the Flatcar layout
# of Tests/TestSupport/TestDisk.swift, in the fuzz input format of
# Sources/FuzzTargets/ImageDisk.swift: a sector-size byte, the size in sectors (u32 LE), the
# first 34 sectors and the last 33 (512-byte sectors; 6 and 5 for 4096). Only the damaged
# seed keeps its checksums as they are; the fuzzer reseals the others.
set -euo pipefail
out=${1:-"$(dirname "$0")/../Corpus/gpt"}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

layout=(-o
  -n 1:0:+4M -t 1:c12a7328-f81f-11d2-ba4b-00a0c93ec93b -c 1:EFI-SYSTEM
  -n 2:0:+1M -t 2:21686148-6449-6e6f-744e-656564454649 -c 2:BIOS-BOOT
  -n 3:0:+16M -t 3:5dfbf5f4-2848-4bac-aa5e-0d9a20b745a6 -c 3:USR-A -u 3:7130c94a-213a-4e5a-8e26-6cce9662f132
  -A 3:set:48 -A 3:set:56
  -n 4:0:+16M -t 4:5dfbf5f4-2848-4bac-aa5e-0d9a20b745a6 -c 4:USR-B -u 4:e03dd35c-7c2d-4a47-b3fe-27f15780a57c
  -n 6:0:+4M -t 6:0fc63daf-8483-4772-8e79-3d69d8477de4 -c 6:OEM -A 6:set:2
  -n 9:0:+8M -t 9:3884dd41-8582-4404-b9a8-e9b84f2df50e -c 9:ROOT)

# encode IMAGE SECTOR_SIZE NAME [KEEP_CHECKSUMS]
encode() {
  python3 - "$1" "$2" "$out/$3" "${4:-}" <<'PY'
import os, struct, sys
image, sector, target, keep = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] == "keep"
size = os.path.getsize(image)
head = 2 + 16384 // sector
with open(image, "rb") as f:
    first = f.read(head * sector)
    f.seek(size - (head - 1) * sector)
    last = f.read()
with open(target, "wb") as f:
    f.write(bytes([(1 if sector == 4096 else 0) | (2 if keep else 0)]) + struct.pack("<I", size // sector) + first + last)
PY
}

truncate -s 64M "$work/disk.img"
sgdisk "${layout[@]}" "$work/disk.img" >/dev/null
encode "$work/disk.img" 512 flatcar-512
# B on trial (priority 2, one try), as after an install.
sgdisk -A 4:set:49 -A 4:set:57 "$work/disk.img" >/dev/null
encode "$work/disk.img" 512 flatcar-b-on-trial
# The primary header's CRC broken: the backup is authoritative and the primary is repaired.
cp "$work/disk.img" "$work/damaged.img"
printf '\xff' | dd of="$work/damaged.img" bs=1 seek=$((512 + 16)) conv=notrunc status=none
encode "$work/damaged.img" 512 flatcar-primary-damaged keep
# The disk grew: the backup is no longer at the end.
truncate -s 96M "$work/disk.img"
encode "$work/disk.img" 512 flatcar-backup-misplaced

# 4096-byte sectors, which sgdisk only sees on a loop device.
if loop=$(losetup --find --show --sector-size 4096 "$work/disk.img" 2>/dev/null); then
  truncate -s 64M "$work/disk.img"
  losetup -c "$loop"
  sgdisk "${layout[@]}" "$loop" >/dev/null
  losetup -d "$loop"
  encode "$work/disk.img" 4096 flatcar-4096
fi
ls -l "$out"
