#pragma once
// Reading a sweep back (README "The HDF5 store"): its run ids and statuses, whole runs (what a
// merge copies), and a run's saved state (what a resume continues from).
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/run_config.hpp"
#include "run/checkpoint.hpp"
#include "run/run_result.hpp"
#include "store/h5/file.hpp"
#include "store/stored_run.hpp"

namespace ssldyn {

std::string stored_signature(const h5::File& file, const std::string& sweep);
std::vector<RunStatus> read_statuses(const h5::File& file, const std::string& sweep);
// Per run, the steps its saved state holds (-1: none; a done run's: its last step).
std::vector<long long> read_saved_steps(const h5::File& file, const std::string& sweep);

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

}  // namespace ssldyn
