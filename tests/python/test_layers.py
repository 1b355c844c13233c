"""The folders of src/ form layers: a folder includes only folders of lower layers, so the
folder-level include graph has no cycle. Reads every `#include "folder/..."` under src/."""

import os
import re
import unittest

SOURCE_DIR = os.environ.get(
    "SSLDYN_SOURCE_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SRC = os.path.join(SOURCE_DIR, "src")

# The layering, lowest first: a folder may include itself and the folders before it, no others.
# A new folder must be placed here.
LAYERS = [
    "core",     # errors, names, formatting, Index, threads, signals
    "mpi",      # the only door to MPI
    "linalg",   # BLAS, LAPACK, BLACS/ScaLAPACK
    "random",
    "data",
    "loss",
    "optim",
    "model",
    "theory",   # closed forms, reference flow, tangent kernels (of model/'s networks)
    "metrics",
    "config",
    "run",      # one run
    "plan",     # a sweep's runs, axes and shards
    "store",    # HDF5 (store/h5/, the only door to HDF5), schema, provenance
    "sweep",    # the MPI runner of a plan into a store
    "query",
    "cli",
]

INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"/]+)/[^"]*"')
SOURCE_SUFFIXES = (".hpp", ".cpp", ".hpp.in")


def include_graph(src):
    """{folder: {included folder: (file, line number)}} over the top folders of src, the first
    place each dependency is seen; a folder's includes of itself are left out."""
    graph = {}
    for root, _, files in os.walk(src):
        rel = os.path.relpath(root, src)
        if rel == ".":
            continue
        folder = rel.split(os.sep)[0]
        graph.setdefault(folder, {})
        for name in sorted(files):
            if not name.endswith(SOURCE_SUFFIXES):
                continue
            path = os.path.join(root, name)
            with open(path, encoding="utf-8") as f:
                for number, line in enumerate(f, 1):
                    match = INCLUDE.match(line)
                    if match and match.group(1) != folder:
                        where = (os.path.relpath(path, src), number)
                        graph[folder].setdefault(match.group(1), where)
    return graph


def find_cycle(graph):
    """One cycle of the graph as [a, b, ..., a], or None."""
    state = {}  # absent: not seen; 1: on the current path; 2: done
    path = []

    def visit(node):
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, {})):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def describe_cycle(graph, cycle):
    return "\n".join(f"  {a} -> {b}  ({graph[a][b][0]}:{graph[a][b][1]})"
                     for a, b in zip(cycle, cycle[1:]))


def violations(graph, layers):
    """Lines naming each folder outside the layering and each include of a higher layer."""
    rank = {folder: i for i, folder in enumerate(layers)}
    out = []
    for folder in sorted(graph):
        if folder not in rank:
            out.append(f"  {folder}/ is not in LAYERS")
            continue
        for target, (path, number) in sorted(graph[folder].items()):
            if target not in rank:
                out.append(f"  {path}:{number} includes {target}/, which is not in LAYERS")
            elif rank[target] > rank[folder]:
                out.append(f"  {path}:{number}: {folder}/ includes {target}/, a higher layer")
    return out


class CheckerTest(unittest.TestCase):
    """The checks find what they are for, on made-up graphs."""

    GRAPH = {
        "a": {"b": ("a/x.hpp", 3)},
        "b": {"c": ("b/y.cpp", 7)},
        "c": {"a": ("c/z.hpp", 5)},
        "d": {},
    }

    def test_cycle_found_and_printed(self):
        cycle = find_cycle(self.GRAPH)
        self.assertEqual(cycle, ["a", "b", "c", "a"])
        text = describe_cycle(self.GRAPH, cycle)
        self.assertIn("c -> a  (c/z.hpp:5)", text)

    def test_no_cycle(self):
        graph = {"a": {"b": ("a/x.hpp", 1)}, "b": {}, "c": {"a": ("c/z.hpp", 1)}}
        self.assertIsNone(find_cycle(graph))

    def test_upward_include_and_unknown_folder(self):
        found = violations(self.GRAPH, ["a", "b", "c"])
        self.assertIn("  a/x.hpp:3: a/ includes b/, a higher layer", found)
        self.assertIn("  b/y.cpp:7: b/ includes c/, a higher layer", found)
        self.assertIn("  d/ is not in LAYERS", found)
        self.assertEqual(len(found), 3)  # c -> a goes down

    def test_include_lines_parsed(self):
        self.assertEqual(INCLUDE.match('#include "store/h5/file.hpp"').group(1), "store")
        self.assertEqual(INCLUDE.match('  #  include "core/error.hpp"  // why').group(1), "core")
        self.assertIsNone(INCLUDE.match("#include <mpi.h>"))
        self.assertIsNone(INCLUDE.match('#include "grids.hpp"'))


class LayersTest(unittest.TestCase):
    def setUp(self):
        self.graph = include_graph(SRC)

    def test_every_folder_seen(self):
        # The walk found the tree (a wrong root would pass the other tests vacuously).
        self.assertEqual(sorted(self.graph), sorted(LAYERS))
        self.assertIn("core", self.graph["linalg"])

    def test_no_folder_cycle(self):
        cycle = find_cycle(self.graph)
        if cycle:
            self.fail("folders of src/ include each other in a cycle:\n" +
                      describe_cycle(self.graph, cycle))

    def test_layering(self):
        found = violations(self.graph, LAYERS)
        if found:
            self.fail("includes against the layering of LAYERS (lowest first: " +
                      ", ".join(LAYERS) + "):\n" + "\n".join(found))


if __name__ == "__main__":
    unittest.main()
