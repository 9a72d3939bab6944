#!/usr/bin/env python3
"""A realistic pair of slot images for `make bench`: two ext4 images of a /usr-like tree of about
1 GiB taken from this machine's /usr, the second a point release of the first.

The release is modelled on what a distribution's point release does to /usr: a few percent of
the files are replaced by new builds (a rebuilt binary differs in scattered places and its
contents shift where code grew or shrank), a few are added and a few removed. Both images are
made by mkfs.ext4 -d from their trees with the same UUID and hash seed, as a reproducible image
build would; mkfs lays files out in directory order, so every file after an added or removed one
moves to other blocks. Everything is drawn from a seeded random generator: the same machine
gives the same pair.

    image_pair.py build WORKDIR            prints the two image paths
    image_pair.py chunking WORKDIR         what each chunking would send for the new image, and
                                           what casync sends (its chunks are compressed)
"""

import hashlib
import os
import random
import shutil
import subprocess
import sys

TREE_BYTES = 1 << 30
IMAGE_BYTES = 1280 << 20
LARGEST_FILE = 64 << 20
SEED = 16
CHANGED_SHARE = 0.03
REMOVED_SHARE = 0.01
ADDED_SHARE = 0.01
SOURCES = ["/usr/bin", "/usr/sbin", "/usr/lib", "/usr/libexec", "/usr/share"]
FS_UUID = "6d2b9c2e-4f0a-4d59-9a51-0c6f3f0a7e16"
HASH_SEED = "0f7c3b52-5a1e-4e2b-8d39-2b8c1e6f4a90"


def candidate_files():
    """Regular files under SOURCES, in a fixed order, with their sizes."""
    files = []
    for top in SOURCES:
        for root, dirs, names in os.walk(top):
            dirs.sort()
            for name in sorted(names):
                path = os.path.join(root, name)
                try:
                    if os.path.islink(path) or not os.path.isfile(path):
                        continue
                    size = os.path.getsize(path)
                except OSError:
                    continue
                if 0 < size <= LARGEST_FILE and os.access(path, os.R_OK):
                    files.append((path, size))
    return files


def rebuilt(data, rng):
    """A new build of a file: a few small regions rewritten throughout, and, for files of more
    than a page, a region that grew, shifting what follows."""
    data = bytearray(data)
    for _ in range(max(1, len(data) // (256 << 10))):
        at = rng.randrange(len(data))
        data[at:at + 64] = rng.randbytes(min(64, len(data) - at))
    if len(data) > 4096:
        at = rng.randrange(len(data) // 2)
        data[at:at] = rng.randbytes(rng.randrange(16, 512))
    return bytes(data)


def copy_into(tree, path, data=None):
    destination = os.path.join(tree, path.lstrip("/"))
    os.makedirs(os.path.dirname(destination), exist_ok=True)
    if data is None:
        shutil.copyfile(path, destination)
    else:
        with open(destination, "wb") as out:
            out.write(data)


def make_image(tree, image):
    if os.path.exists(image):
        os.unlink(image)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-b", "4096", "-L", "usr", "-U", FS_UUID,
                    "-E", f"hash_seed={HASH_SEED},root_owner=0:0", "-d", tree, image, f"{IMAGE_BYTES >> 20}M"],
                   check=True, env=dict(os.environ, E2FSPROGS_FAKE_TIME="1700000000"))


def build(workdir):
    """Builds the pair in WORKDIR unless it is there already; returns (old, new)."""
    old_image, new_image = os.path.join(workdir, "old.ext4"), os.path.join(workdir, "new.ext4")
    stamp = os.path.join(workdir, "pair.done")
    if os.path.exists(stamp):
        return old_image, new_image
    os.makedirs(workdir, exist_ok=True)
    rng = random.Random(SEED)
    files = candidate_files()
    rng.shuffle(files)
    chosen, total = [], 0
    spare = []
    for path, size in files:
        if total + size <= TREE_BYTES:
            chosen.append((path, size))
            total += size
        else:
            spare.append((path, size))
    chosen.sort()
    old_tree, new_tree = os.path.join(workdir, "old"), os.path.join(workdir, "new")
    for tree in (old_tree, new_tree):
        shutil.rmtree(tree, ignore_errors=True)
    removed = set(path for path, _ in rng.sample(chosen, int(len(chosen) * REMOVED_SHARE)))
    remaining = [entry for entry in chosen if entry[0] not in removed]
    changed = set(path for path, _ in rng.sample(remaining, int(len(chosen) * CHANGED_SHARE)))
    added = rng.sample(spare, min(len(spare), int(len(chosen) * ADDED_SHARE)))
    for path, _ in chosen:
        copy_into(old_tree, path)
        if path in removed:
            continue
        if path in changed:
            with open(path, "rb") as source:
                copy_into(new_tree, path, rebuilt(source.read(), rng))
        else:
            copy_into(new_tree, path)
    for path, _ in added:
        copy_into(new_tree, path)
    make_image(old_tree, old_image)
    make_image(new_tree, new_image)
    shutil.rmtree(old_tree)
    shutil.rmtree(new_tree)
    with open(stamp, "w") as out:
        out.write(f"files {len(chosen)} bytes {total} changed {len(changed)} removed {len(removed)} added {len(added)}\n")
    return old_image, new_image


def describe(workdir):
    with open(os.path.join(workdir, "pair.done")) as stamp:
        return stamp.read().strip()


def fixed_chunks(image, size):
    """(digest, length) of each SIZE-byte chunk of IMAGE, the last one shorter."""
    chunks = []
    with open(image, "rb") as source:
        while True:
            data = source.read(size)
            if not data:
                return chunks
            chunks.append((hashlib.sha256(data).digest(), len(data)))


def fixed_delta(old, new, size):
    """What a host holding OLD fetches for NEW with fixed SIZE chunks, looked up anywhere in OLD:
    (chunks in NEW, chunks fetched, bytes fetched, bytes fetched after zstd -3 of each chunk)."""
    have = set(digest for digest, _ in fixed_chunks(old, size))
    wanted = fixed_chunks(new, size)
    fetched = set()
    fetched_bytes = 0
    missing_offsets = []
    offset = 0
    for digest, length in wanted:
        if digest not in have and digest not in fetched:
            fetched.add(digest)
            fetched_bytes += length
            missing_offsets.append((offset, length))
        offset += length
    return len(wanted), len(fetched), fetched_bytes, compressed_bytes(new, missing_offsets)


def aligned_cdc_chunks(image, average_blocks, maximum_blocks, block=4096):
    """Content-defined chunks whose boundaries fall on block boundaries: a chunk ends after a
    block whose SHA-256 is 0 modulo AVERAGE_BLOCKS, or after MAXIMUM_BLOCKS blocks. A file that
    moved to other blocks keeps its chunks (its boundaries move with its contents), and the index
    is AVERAGE_BLOCKS times smaller than one entry per block. (digest, offset, length) each."""
    chunks = []
    with open(image, "rb") as source:
        offset = 0
        pending = []
        start = 0
        while True:
            data = source.read(block)
            if data:
                pending.append(data)
                boundary = int.from_bytes(hashlib.sha256(data).digest()[:4], "little") % average_blocks == 0
            if pending and (not data or boundary or len(pending) == maximum_blocks):
                joined = b"".join(pending)
                chunks.append((hashlib.sha256(joined).digest(), start, len(joined)))
                start += len(joined)
                pending = []
            if not data:
                return chunks


def aligned_cdc_delta(old, new, average_blocks, maximum_blocks):
    """As fixed_delta, for aligned_cdc_chunks."""
    have = set(digest for digest, _, _ in aligned_cdc_chunks(old, average_blocks, maximum_blocks))
    wanted = aligned_cdc_chunks(new, average_blocks, maximum_blocks)
    fetched, ranges = set(), []
    for digest, offset, length in wanted:
        if digest not in have and digest not in fetched:
            fetched.add(digest)
            ranges.append((offset, length))
    return len(wanted), len(fetched), sum(length for _, length in ranges), compressed_bytes(new, ranges)


class Zstd:
    """libzstd's one-shot compression, through ctypes: Python has no zstd module here, and a
    process per chunk would cost more than the chunk."""

    def __init__(self, level=3):
        import ctypes
        self.ctypes = ctypes
        self.library = ctypes.CDLL("libzstd.so.1")
        self.library.ZSTD_compressBound.restype = ctypes.c_size_t
        self.library.ZSTD_compressBound.argtypes = [ctypes.c_size_t]
        self.library.ZSTD_compress.restype = ctypes.c_size_t
        self.library.ZSTD_compress.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int]
        self.library.ZSTD_isError.argtypes = [ctypes.c_size_t]
        self.level = level

    def compressed_length(self, data):
        bound = self.library.ZSTD_compressBound(len(data))
        out = self.ctypes.create_string_buffer(bound)
        length = self.library.ZSTD_compress(out, bound, data, len(data), self.level)
        if self.library.ZSTD_isError(length):
            raise RuntimeError("ZSTD_compress failed")
        return length


def compressed_bytes(image, ranges):
    """The bytes RANGES of IMAGE take when each is compressed on its own with zstd -3, or kept
    as it is where that is not smaller."""
    zstd = Zstd()
    total = 0
    with open(image, "rb") as source:
        for offset, length in ranges:
            source.seek(offset)
            data = source.read(length)
            total += min(zstd.compressed_length(data), len(data))
    return total


def casync_delta(workdir, old, new):
    """What `casync extract --seed=OLD` of NEW fetches from a casync store of NEW with casync's
    default chunking (64 KiB on average, zstd-compressed chunks): the chunks of NEW's index that
    OLD's own chunking does not have, at their size in the store, and the index itself.
    (chunks, chunks fetched, bytes fetched, index bytes)."""
    stores = {}
    for name, image in (("old", old), ("new", new)):
        store, index = os.path.join(workdir, f"casync-{name}.castr"), os.path.join(workdir, f"casync-{name}.caibx")
        if not os.path.exists(index):
            shutil.rmtree(store, ignore_errors=True)
            subprocess.run(["casync", "make", f"--store={store}", index, image], check=True, stdout=subprocess.DEVNULL)
        chunks = {}
        for root, _, names in os.walk(store):
            for chunk in names:
                if chunk.endswith(".cacnk"):
                    chunks[chunk] = os.path.getsize(os.path.join(root, chunk))
        stores[name] = (chunks, index)
    wanted, index = stores["new"]
    missing = [size for chunk, size in wanted.items() if chunk not in stores["old"][0]]
    return len(wanted), len(missing), sum(missing), os.path.getsize(index)


def chunking_table(workdir):
    """The comparison behind format 3's chunking (docs/bundle-format.md), as lines."""
    old, new = build(workdir)
    image_bytes = os.path.getsize(new)
    lines = [describe(workdir),
             f"{'chunking':>12} {'chunks':>8} {'index':>10} {'fetched':>8} {'bytes':>12} {'share':>7} {'zstd -3':>12}"]
    def row(name, count, fetched, fetched_bytes, packed):
        lines.append(f"{name:>12} {count:>8} {count * 32 >> 10:>9}K {fetched:>8} {fetched_bytes:>12} "
                     f"{100 * fetched_bytes / image_bytes:>6.2f}% {packed:>12}")
    for size in (4 << 10, 16 << 10, 64 << 10):
        row(f"fixed {size >> 10}K", *fixed_delta(old, new, size))
    for average in (4, 8, 16):
        row(f"aligned {average * 4}K", *aligned_cdc_delta(old, new, average, average * 4))
    chunks, fetched, fetched_bytes, index = casync_delta(workdir, old, new)
    lines.append(f"{'casync':>12} {chunks:>8} {index >> 10:>9}K {fetched:>8} {'-':>12} {'-':>7} {fetched_bytes:>12}")
    return lines


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("build", "chunking"):
        sys.exit(__doc__)
    if sys.argv[1] == "build":
        print(*build(sys.argv[2]))
        return
    print("\n".join(chunking_table(sys.argv[2])))


if __name__ == "__main__":
    main()
