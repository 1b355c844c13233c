#pragma once
// A store file (README "The HDF5 store"): opening and checking one, creating one or growing it
// by a sweep without ever leaving it half written, and the sweep's creation. All metadata of a
// sweep (its group, datasets at their final size, attributes) is created in one pass before any
// run starts; afterwards runs only write raw data into space allocated then (sweep_writer.hpp).
#include <cstdint>
#include <functional>
#include <string>

#include "core/error.hpp"
#include "plan/plan.hpp"
#include "store/h5/file.hpp"
#include "store/provenance.hpp"
#include "store/schema.hpp"
#include "store/sweep_layout.hpp"

namespace ssldyn {

// Marks a new file as a store: schema_version and creator at the root.
void initialise_store(const h5::File& file);
// InputError unless the file is a store of this schema version.
void check_store_schema(const h5::File& file, const std::string& path);
// InputError naming path unless it is a regular file (or a link to one): missing, a folder, a
// named pipe, a device.
void require_store_file(const std::string& path);
// InputError naming path unless it is a store file this process may write: before a sweep is
// added to it or resumed in it ("store is not writable (Operation not permitted)").
void check_store_writable(const std::string& path);
// A store to read: InputError naming path when it is missing, not a regular file, not HDF5,
// truncated or of another schema.
h5::File open_store(const std::string& path);
// Runs read() on a store given as input: an HDF5 failure inside means a store truncated,
// damaged or not of the schema it is read as (this ssldyn's, or an older one an upgrade reads),
// which is bad input naming path.
template <class Read>
auto read_store(const std::string& path, Read&& read, long long version = schema::version)
    -> decltype(read()) {
    try {
        return read();
    } catch (const RuntimeFailure& e) {
        throw InputError(path + ": unreadable store, damaged or not of schema " +
                         std::to_string(version) + " (" + e.what() + ")");
    }
}

bool has_sweep(const h5::File& file, const std::string& sweep);
// Builds the sweep's group and every dataset of it at its final size, out of sight, and makes
// it visible as /sweeps/<name> last: a kill before leaves the file's visible content as it was.
void create_sweep(const h5::File& file, const SweepPlan& plan, const SweepLayout& layout,
                  const Provenance& provenance);
// Adds to a sweep written by an earlier build of schema 2 what it lacks: the per-run result
// columns added since (started, ended, event: NaN and -1 for the runs before) and the events
// table. Each object appears whole (a column is made at its size; the table is linked last).
void add_provenance_tables(const h5::File& file, const std::string& sweep);
// The bytes create_sweep allocates, with room for HDF5's own structures: what an existing store
// is grown by.
std::uintmax_t sweep_bytes(const SweepPlan& plan, const SweepLayout& layout);

// The file path names with its symbolic links followed (a relative target from the link's
// folder; a dangling link gives the file it would create): what create_atomically replaces,
// so that a store given as a link keeps its link. path itself when it is no link.
std::string link_target(const std::string& path);

// Checks, before any work, that a new store can be written at path (no --overwrite: it must
// not exist).
void check_store_target(const std::string& path, bool overwrite);

// Removes the temporary files that writers of the store killed mid-way left beside it
// (PATH.partial-PID, beside the target for a link) whose process is gone: no other process of
// this host has that id. Those of running processes stay.
void remove_stale_partials(const std::string& path);

// Builds a new store at path: `make(file)` in a file beside it (beside its target, for a link),
// renamed into place once complete. Stale temporary files go first; the `bytes` it will hold are
// reserved first; a failure (a full disk) removes the temporary file and leaves path untouched.
void create_atomically(const std::string& path, std::uintmax_t bytes,
                       const std::function<void(const h5::File&)>& make);

// Grows an existing store in place by `make(file)`, which must leave everything it writes out of
// sight until its last step (create_sweep). The space it needs (`bytes`) is reserved first, so
// that a full disk fails before the store is touched.
void grow_in_place(const std::string& path, std::uintmax_t bytes,
                   const std::function<void(const h5::File&)>& make);

}  // namespace ssldyn
