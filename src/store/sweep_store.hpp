#pragma once
// Writing sweeps into a store (README "The HDF5 store"). All metadata of a sweep (its group,
// datasets at their final size, attributes) is created in one pass before any run starts;
// afterwards runs only write raw data into space allocated then, and a run's status last.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "linalg/matrix.hpp"
#include "plan/plan.hpp"
#include "run/checkpoint.hpp"
#include "run/run_result.hpp"
#include "store/h5/dataset.hpp"
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
// The bytes create_sweep allocates, with room for HDF5's own structures: what an existing store
// is grown by.
std::uintmax_t sweep_bytes(const SweepPlan& plan, const SweepLayout& layout);
std::string stored_signature(const h5::File& file, const std::string& sweep);
std::vector<RunStatus> read_statuses(const h5::File& file, const std::string& sweep);

// Everything the store holds of one run, row by row as the sweep's datasets do: what a finished
// run writes, and what an upgrade of an older store copies.
struct StoredRun {
    Index row = 0;
    RunStatus status = RunStatus::pending;
    std::vector<Record> records;
    Matrix w0;                     // empty: none (a run that failed before its first step)
    Matrix w;                      // the weights after checkpoint_step steps
    Index checkpoint_step = -1;    // -1: w holds nothing
    std::vector<double> spectrum;  // empty: none
    // The index's result columns, in the order of schema::result_columns().
    std::vector<double> numbers;
    std::vector<long long> integers;
    std::vector<std::string> texts;

    StoredRun();  // results NaN, -1 and empty
    void set(const std::string& column, double value);
    void set(const std::string& column, long long value);
    void set(const std::string& column, const std::string& value);
};

// A finished run as the store holds it.
StoredRun stored_run(Index row, const RunResult& result, const std::string& host);

// Writes the runs of one sweep into its datasets: raw data only. Finished runs are staged and
// written several at a time (one write per dataset for consecutive rows), their statuses last;
// flush() writes what is staged.
class SweepWriter {
  public:
    SweepWriter(const h5::File& file, const std::string& sweep);
    ~SweepWriter();
    SweepWriter(const SweepWriter&) = delete;
    SweepWriter& operator=(const SweepWriter&) = delete;

    void write_status(Index row, RunStatus status) const;
    // A finished run (done or failed): staged; written at the next flush.
    void add(const StoredRun& run);
    // Writes what is staged, statuses last.
    void flush();
    // Whether staged runs have waited long enough (a second) or take enough memory to flush.
    bool flush_due() const;
    // The state of a running run, to continue from after an interruption (run/checkpoint.hpp),
    // written at once.
    void write_checkpoint(Index row, const RunConfig& config, const RunState& state);

  private:
    struct Targets;
    struct Batch;
    void stage(Batch& batch, const StoredRun& run) const;
    void write(Batch& batch) const;
    std::unique_ptr<Targets> targets_;
    std::unique_ptr<Batch> pending_;
};

// Whole runs read back from a sweep, as a merge copies them: the per-run datasets are read once,
// whole; the blocks slot by slot.
class SweepReader {
  public:
    SweepReader(const h5::File& file, const std::string& sweep);
    ~SweepReader();
    SweepReader(const SweepReader&) = delete;
    SweepReader& operator=(const SweepReader&) = delete;
    // The run of that row (row set to it): a spectrum never written reads as none.
    StoredRun run(Index row) const;

  private:
    struct Columns;
    std::unique_ptr<Columns> columns_;
};

// The last saved state of a run (none when it has none: never saved, or failed).
std::optional<Checkpoint> read_checkpoint(const h5::File& file, const std::string& sweep,
                                          const RunConfig& config, Index row);

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
