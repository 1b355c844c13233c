"""A schema-1 store kept as text: tests/data/v1_store.jsonl holds every group, dataset and
attribute of a store the last schema-1 ssldyn wrote (numbers bit for bit), and the inputs its
sweeps read. `materialise` writes it back as that HDF5 file; `dump` made it:

    python3 v1_fixture.py dump STORE INPUT... > ../data/v1_store.jsonl

One JSON object a line: the inputs ({"input": name, "text" or "hex": contents}), then the
root group and every group and dataset below it, parents before children and each group's
members in its iteration order (creation order where the group tracks it), so that writing them
in file order recreates that order. Doubles are written with float.hex, NaN as "nan" or "-nan"
(the two quiet NaNs a run writes; any other as "nan:" and its 16 hex digits), so no bit is lost.
Attributes are variable-length UTF-8 text (a JSON string) or int64 (a JSON integer); datasets
are contiguous, allocated early and filled with their fill value ("fill", null for HDF5's
default), as schema 1 made them."""

import json
import os
import struct
import sys

import h5py
import numpy as np

PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "v1_store.jsonl")

QUIET_NAN = {0x7FF8000000000000: "nan", 0xFFF8000000000000: "-nan"}
NAN_TEXT = {text: bits for bits, text in QUIET_NAN.items()}


def encode_double(bits):
    """The text of a double given by its 64 bits: float.hex, or the NaN it is."""
    value = struct.unpack("<d", struct.pack("<Q", bits))[0]
    if value != value:
        return QUIET_NAN.get(bits, f"nan:{bits:016x}")
    return float.hex(value)


def decode_double(text):
    """The 64 bits of a double written by encode_double."""
    if text in NAN_TEXT:
        return NAN_TEXT[text]
    if text.startswith("nan:"):
        return int(text[4:], 16)
    return struct.unpack("<Q", struct.pack("<d", float.fromhex(text)))[0]


def text_type(type_id):
    """(size, cset, strpad) of a fixed-length string type; size -1 for variable length."""
    size = -1 if type_id.is_variable_str() else type_id.get_size()
    return size, type_id.get_cset(), type_id.get_strpad()


def attributes(obj):
    """An object's attributes as JSON values: text or int64, nothing else in schema 1."""
    out = {}
    for name in sorted(obj.attrs):
        type_id = obj.attrs.get_id(name).get_type()
        value = obj.attrs[name]
        if isinstance(type_id, h5py.h5t.TypeStringID):
            if text_type(type_id) != (-1, h5py.h5t.CSET_UTF8, h5py.h5t.STR_NULLTERM):
                raise ValueError(f"{obj.name}@{name}: text attribute of another kind")
            out[name] = value
        elif obj.attrs.get_id(name).dtype == np.dtype("<i8") and np.shape(value) == ():
            out[name] = int(value)
        else:
            raise ValueError(f"{obj.name}@{name}: attribute of type {type_id} not in schema 1")
    return out


def dataset_entry(d):
    plist = d.id.get_create_plist()
    if (plist.get_layout(), plist.get_alloc_time(), plist.get_fill_time()) != (
            h5py.h5d.CONTIGUOUS, h5py.h5d.ALLOC_TIME_EARLY, h5py.h5d.FILL_TIME_ALLOC):
        raise ValueError(f"{d.name}: not a contiguous dataset allocated early")
    entry = {"dataset": d.name, "shape": list(d.shape), "attrs": attributes(d)}
    values = d[()].reshape(-1)
    # Schema 1 gave numbers a fill value (NaN, -1) and left text at HDF5's (zero bytes): null.
    user_fill = plist.fill_value_defined() == h5py.h5d.FILL_VALUE_USER_DEFINED
    if user_fill != (d.dtype.kind != "S"):
        raise ValueError(f"{d.name}: fill value not as schema 1 set it")
    if d.dtype == np.dtype("<f8"):
        entry["dtype"] = "float64"
        entry["fill"] = encode_double(int(np.array(d.fillvalue, "<f8").view("<u8")))
        entry["data"] = [encode_double(int(b)) for b in values.view("<u8")]
    elif d.dtype == np.dtype("<i8"):
        entry["dtype"] = "int64"
        entry["fill"] = int(d.fillvalue)
        entry["data"] = [int(v) for v in values]
    elif d.dtype.kind == "S":
        if text_type(d.id.get_type()) != (d.dtype.itemsize, h5py.h5t.CSET_UTF8,
                                          h5py.h5t.STR_NULLPAD):
            raise ValueError(f"{d.name}: text of another kind than fixed UTF-8, null-padded")
        entry["dtype"] = f"text{d.dtype.itemsize}"
        entry["fill"] = None
        entry["data"] = [v.decode() for v in values]
    else:
        raise ValueError(f"{d.name}: dtype {d.dtype} not in schema 1")
    return entry


def tracks_order(group):
    return bool(group.id.get_create_plist().get_link_creation_order())


def dump(store, inputs):
    """The lines of the fixture: inputs, then the store's groups and datasets."""
    lines = []
    for path in inputs:
        with open(path, "rb") as f:
            contents = f.read()
        entry = {"input": os.path.basename(path)}
        try:
            entry["text"] = contents.decode()
        except UnicodeDecodeError:
            entry["hex"] = contents.hex()
        lines.append(entry)
    with h5py.File(store, "r") as f:
        def walk(group):
            lines.append({"group": group.name, "track_order": tracks_order(group),
                          "attrs": attributes(group)})
            for name in group:  # creation order when tracked, else by name: as HDF5 iterates
                member = group[name]
                if isinstance(member, h5py.Group):
                    walk(member)
                else:
                    lines.append(dataset_entry(member))
        walk(f["/"])
    return lines


def load(path=PATH):
    with open(path) as f:
        return [json.loads(line) for line in f]


def write_inputs(folder, lines=None):
    """The files the fixture's sweeps read (configs and data), into folder; their names."""
    names = []
    for entry in lines or load():
        if "input" not in entry:
            continue
        contents = (entry["text"].encode() if "text" in entry else bytes.fromhex(entry["hex"]))
        with open(os.path.join(folder, entry["input"]), "wb") as f:
            f.write(contents)
        names.append(entry["input"])
    return names


def file_type(dtype):
    """The HDF5 type and numpy dtype of a fixture dtype name."""
    if dtype == "float64":
        return np.dtype("<f8")
    if dtype == "int64":
        return np.dtype("<i8")
    return h5py.string_dtype("utf-8", int(dtype[len("text"):]))


def write_attributes(obj, attrs):
    for name, value in attrs.items():
        if isinstance(value, str):
            obj.attrs.create(name, value, dtype=h5py.string_dtype("utf-8"))
        else:
            obj.attrs.create(name, value, dtype="<i8")


def create_group(f, name, track_order):
    """A group as schema 1 made it: links in creation order (tracked, not indexed) or not."""
    plist = h5py.h5p.create(h5py.h5p.GROUP_CREATE)
    if track_order:
        plist.set_link_creation_order(h5py.h5p.CRT_ORDER_TRACKED)
    parent, _, base = name.rpartition("/")
    h5py.h5g.create(f[parent or "/"].id, base.encode(), gcpl=plist)
    return f[name]


def materialise(path, lines=None):
    """Writes the fixture's store at path (replacing any file there)."""
    with h5py.File(path, "w", track_order=False) as f:
        for entry in lines or load():
            if "group" in entry:
                name = entry["group"]
                group = f[name] if name == "/" else create_group(f, name, entry["track_order"])
                write_attributes(group, entry["attrs"])
            elif "dataset" in entry:
                dtype = file_type(entry["dtype"])
                shape = tuple(entry["shape"])
                plist = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
                plist.set_layout(h5py.h5d.CONTIGUOUS)
                plist.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
                plist.set_fill_time(h5py.h5d.FILL_TIME_ALLOC)
                if entry["dtype"] == "float64":
                    bits = np.array([decode_double(v) for v in entry["data"]], "<u8")
                    values = bits.view("<f8").reshape(shape)
                    fill = np.array([decode_double(entry["fill"])], "<u8").view("<f8")
                else:
                    raw = entry["data"]
                    if dtype.kind == "S":
                        raw = [v.encode() for v in raw]
                    values = np.array(raw, dtype).reshape(shape)
                    fill = None if entry["fill"] is None else np.array([entry["fill"]], dtype)
                if fill is not None:
                    plist.set_fill_value(fill)
                d = f.create_dataset(entry["dataset"], shape=shape, dtype=dtype, dcpl=plist)
                d[...] = values
                write_attributes(d, entry["attrs"])


def main(argv):
    if len(argv) < 2 or argv[0] != "dump":
        sys.exit("usage: python3 v1_fixture.py dump STORE [INPUT ...] > FIXTURE.jsonl")
    for entry in dump(argv[1], argv[2:]):
        print(json.dumps(entry, ensure_ascii=False, separators=(",", ":")))


if __name__ == "__main__":
    main(sys.argv[1:])
