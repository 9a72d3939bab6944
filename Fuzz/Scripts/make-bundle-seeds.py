#!/usr/bin/env python3
"""Makes the bundle seeds in Fuzz/Corpus/bundle (format: docs/bundle-format.md), signed with
an ed25519 key whose public half is BundleTarget.trustedKey. Usage: make-bundle-seeds.py KEY.pem [OUT]"""
import hashlib, os, struct, subprocess, sys, tempfile

key = sys.argv[1]
out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", "Corpus", "bundle")
os.makedirs(out, exist_ok=True)
spki = subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-outform", "DER"], check=True, capture_output=True).stdout
key_id = hashlib.sha256(spki).digest()

def sign(message):
    with tempfile.NamedTemporaryFile() as f:
        f.write(message)
        f.flush()
        return subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", key, "-rawin", "-in", f.name],
                              check=True, capture_output=True).stdout

def bundle(image, version="3975.2.1", minimum=None):
    fields = {"compatible": "flatcar-amd64", "created": "2026-11-21T19:00:00Z", "format": "1",
              "image-sha256": hashlib.sha256(image).hexdigest(), "image-size": str(len(image)), "version": version}
    if minimum:
        fields["min-version"] = minimum
    manifest = "".join(f"{k}={fields[k]}\n" for k in sorted(fields)).encode()
    signature = sign(b"tandem-bundle-manifest-v1\n" + manifest)
    block = struct.pack("<I", 1) + key_id + bytes([1]) + struct.pack("<H", len(signature)) + signature
    offset = (64 + len(manifest) + len(block) + 4095) // 4096 * 4096
    header = b"TNDMBNDL" + struct.pack("<IIIIQQ", 1, 64, len(manifest), len(block), offset, len(image))
    preamble = header.ljust(64, b"\0") + manifest + block
    return preamble.ljust(offset, b"\0") + image

for name, data in [("small-image", bundle(b"USR-IMAGE" * 7)),
                   ("min-version", bundle(bytes(range(256)), minimum="3800.0.0")),
                   ("one-byte-image", bundle(b"\x5a"))]:
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
