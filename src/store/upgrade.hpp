#pragma once
// Converting a store of schema 1 (a group per run) into one of schema 2 (README "`ssldyn
// upgrade`"): every sweep with its attributes, every run's records, weights, spectrum, results
// and status, number for number.
#include <string>

namespace ssldyn {

struct UpgradeOutcome {
    long sweeps = 0, runs = 0, done = 0, failed = 0;
    long spectra_differing = 0;  // runs whose problem's spectrum another run holds differently
};

// Writes the schema-2 store at out from the schema-1 store at old (out whole or not at all;
// overwrite: an existing out is replaced). InputError naming the file for bad input: old missing,
// not an HDF5 file or not a store, of schema 2 already, truncated or damaged, or locked by a job;
// out existing without overwrite, or not writable.
UpgradeOutcome upgrade_store(const std::string& old, const std::string& out, bool overwrite);

}  // namespace ssldyn
