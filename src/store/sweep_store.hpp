#pragma once
// Writing sweeps into a store. All metadata of a sweep (groups, datasets at their final size,
// attributes) is created in one pass before any run starts; afterwards runs only write raw
// data into space allocated then, and a run's status is written last.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "plan/plan.hpp"
#include "run/checkpoint.hpp"
#include "run/run_result.hpp"
#include "store/h5/dataset.hpp"
#include "store/h5/file.hpp"
#include "store/provenance.hpp"
#include "store/schema.hpp"

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
// damaged or not of this schema, which is bad input naming path.
template <class Read>
auto read_store(const std::string& path, Read&& read) -> decltype(read()) {
    try {
        return read();
    } catch (const RuntimeFailure& e) {
        throw InputError(path + ": unreadable store, damaged or not of schema " +
                         std::to_string(schema::version) + " (" + e.what() + ")");
    }
}

bool has_sweep(const h5::File& file, const std::string& sweep);
// with_runs = false leaves out runs/ (for a merge, which copies the runs of the shards).
void create_sweep(const h5::File& file, const SweepPlan& plan, const Provenance& provenance,
                  bool with_runs = true);
std::string stored_signature(const h5::File& file, const std::string& sweep);
std::vector<RunStatus> read_statuses(const h5::File& file, const std::string& sweep);

// Writes the runs of one sweep into its pre-created datasets: raw data only.
class SweepWriter {
  public:
    SweepWriter(const h5::File& file, const std::string& sweep);
    void write_status(Index row, RunStatus status) const;
    // Everything of one finished run, then its status (done or failed).
    void write_run(Index row, const RunResult& result, const std::string& host) const;
    // The state of a running run, to continue from after an interruption (run/checkpoint.hpp).
    void write_checkpoint(Index row, const RunConfig& config, const RunState& state) const;

  private:
    void write_records(const h5::Group& run, const RunConfig& config,
                       const std::vector<Record>& records) const;
    const h5::File* file_;
    std::string sweep_;
    h5::Dataset status_;
    std::map<std::string, h5::Dataset> columns_;  // index/result, by name
};

// The last saved state of a run (none when it has none: never saved, or failed).
std::optional<Checkpoint> read_checkpoint(const h5::File& file, const std::string& sweep,
                                          const RunConfig& config, Index row);

// The file path names with its symbolic links followed (a relative target from the link's
// folder; a dangling link gives the file it would create): what replace_atomically replaces,
// so that a store given as a link keeps its link. path itself when it is no link.
std::string link_target(const std::string& path);

// Checks, before any work, that a new store can be written at path (no --overwrite: it must
// not exist).
void check_store_target(const std::string& path, bool overwrite);

// Removes the temporary files that writers of the store killed mid-way left beside it
// (PATH.partial-PID, beside the target for a link) whose process is gone: no other process of
// this host has that id. Those of running processes stay.
void remove_stale_partials(const std::string& path);

// Builds `make(file)` in memory (starting from a copy of path when `copy_existing` is set),
// writes it into a temporary file next to path (next to its target, for a link) and renames
// that into place (onto the target: the link stays). Stale temporary files go first. Either the
// whole change lands or path is untouched; a write that fails (a full disk) is a RuntimeFailure.
void replace_atomically(const std::string& path, bool copy_existing,
                        const std::function<void(const h5::File&)>& make);

}  // namespace ssldyn
