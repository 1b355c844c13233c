"""`ssldyn upgrade`: a schema-1 store (tests/data/v1_store.jsonl, materialised by v1_fixture)
converted to schema 2 with every number bit for bit."""

import os
import tempfile
import unittest

import v1_fixture


class FixtureTest(unittest.TestCase):
    def test_the_fixture_materialises_to_the_store_it_was_dumped_from(self):
        """Materialised and dumped again, the store gives back every line of the fixture: the
        encoding loses nothing (NaN signs, fill values, string kinds and order included)."""
        lines = v1_fixture.load()
        with tempfile.TemporaryDirectory() as folder:
            store = os.path.join(folder, "v1.h5")
            v1_fixture.materialise(store, lines)
            inputs = v1_fixture.write_inputs(folder, lines)
            again = v1_fixture.dump(store, [os.path.join(folder, name) for name in inputs])
        self.assertEqual(len(again), len(lines))
        for want, got in zip(lines, again):
            self.assertEqual(got, want)
        self.assertIn("-nan", {v for entry in lines for v in entry.get("data", [])
                               if isinstance(v, str)})


if __name__ == "__main__":
    unittest.main()
