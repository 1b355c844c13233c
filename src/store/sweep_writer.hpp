#pragma once
// Writing the runs of a sweep into its datasets (README "The HDF5 store"): raw data only, into
// space create_sweep allocated.
#include <limits>
#include <memory>

#include "config/run_config.hpp"
#include "run/checkpoint.hpp"
#include "store/h5/file.hpp"
#include "store/stored_run.hpp"

namespace ssldyn {

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
    // written at once, with when the run started and the event running it.
    void write_checkpoint(Index row, const RunConfig& config, const RunState& state,
                          double started = std::numeric_limits<double>::quiet_NaN(),
                          long long event = -1);

  private:
    struct Targets;
    struct Batch;
    void stage(Batch& batch, const StoredRun& run) const;
    void write(Batch& batch) const;
    std::unique_ptr<Targets> targets_;
    std::unique_ptr<Batch> pending_;
};

}  // namespace ssldyn
