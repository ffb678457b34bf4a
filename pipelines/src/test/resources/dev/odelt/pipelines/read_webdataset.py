"""Reads WebDataset shards the way a training loader does, with Python's tarfile and PIL only.

Usage: read_webdataset.py SHARD.tar [SHARD.tar ...]
Prints one JSON line per sample: key, the fields present, class id, caption, the record's
request_id/index, the image's mode, size and sha256 of its decoded pixels (PIL tobytes: row-major,
channels interleaved). Exits 1 when a sample's members are not adjacent or a key holds a dot.
"""
import hashlib
import io
import json
import sys
import tarfile

from PIL import Image


def samples(path):
    current, fields = None, {}
    with tarfile.open(path, mode="r:") as tar:
        for member in tar:
            if not member.isfile():
                raise SystemExit(f"{path}: {member.name} is not a regular file")
            # WebDataset's rule: the key is the name up to the first dot.
            key, _, ext = member.name.partition(".")
            if key != current:
                if current is not None:
                    yield current, fields
                current, fields = key, {}
            if ext in fields:
                raise SystemExit(f"{path}: {member.name} repeats a field of {key}")
            fields[ext] = tar.extractfile(member).read()
    if current is not None:
        yield current, fields


def main():
    seen = set()
    for path in sys.argv[1:]:
        for key, fields in samples(path):
            if key in seen:
                raise SystemExit(f"{path}: key {key} appears twice (members not adjacent?)")
            seen.add(key)
            image = Image.open(io.BytesIO(fields["png"]))
            image.load()
            record = json.loads(fields["json"])
            print(json.dumps({
                "shard": path,
                "key": key,
                "fields": sorted(fields),
                "cls": int(fields["cls"].decode("ascii")) if "cls" in fields else None,
                "txt": fields["txt"].decode("utf-8"),
                "request_id": record["request_id"],
                "index": int(record.get("index", 0)),
                "mode": image.mode,
                "size": list(image.size),
                "pixels_sha256": hashlib.sha256(image.tobytes()).hexdigest(),
            }, sort_keys=True))


if __name__ == "__main__":
    main()
