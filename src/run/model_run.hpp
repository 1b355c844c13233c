#pragma once
// A model as the run driver (run/driver.hpp) and everything above it see it. Each model
// implements two things, once, in its own file (run/linear_run, run/two_layer_run,
// run/supervised_run): a ModelKind, its row of the model table (run/model_table.hpp), which
// starts runs and tells the store and the command line how the model's runs look; and a
// ModelRun, one run in progress, which the driver steps, records and checkpoints.
#include <cstdio>
#include <memory>
#include <string>

#include "config/run_config.hpp"
#include "run/checkpoint.hpp"
#include "run/run_result.hpp"

namespace ssldyn {

struct Problem;

// The weights a run stores (W0, checkpoints, the final weights): one matrix of this shape.
struct StateLayout {
    Index rows = 0, cols = 0;
    std::string description;  // what its rows and columns hold, for the store
};

// What a model's records mean, for the store's descriptions.
struct RecordLayout {
    bool network = false;         // writes the network/ series (schema::network_metrics)
    std::string theory;           // what the theory side is
    std::string singular_values;  // of which matrix the records' singular values are
    std::string theory_distance;  // what trajectory/theory_distance measures
    std::string distance_short;   // the same in a few words, for tables
};

// One run in progress. The driver owns the loop, the clock, the checks of a checkpoint and the
// marking of failures; the model owns its weights, its theory and what a record measures.
class ModelRun {
  public:
    virtual ~ModelRun() = default;
    // The initial weights, packed as the model's StateLayout.
    virtual Matrix initial_state() const = 0;
    // The initial map whose rows the records measure (W₀, or a network's end-to-end W₂W₁ at
    // W₀), k x d on every rank (collective over a run group that shards it).
    virtual Matrix initial_map() const = 0;
    // Continues from a saved state whose shape the driver checked (from.records up to from.step).
    virtual void resume(const Checkpoint& from) = 0;
    // Fills the record whose step and t are set: the weights now and the theory at t. False when
    // a value the run depends on is not finite.
    virtual bool record(Record& r) = 0;
    // One gradient step: empty, or why the weights went bad.
    virtual std::string step(Index step) = 0;
    // The weights now, packed (collective over a run group that shards them).
    virtual Matrix state() const = 0;
    // The model's summaries of a run that ended (done or failed, not interrupted).
    virtual void finish(RunResult& result) const = 0;
};

// A model: its row of the model table.
class ModelKind {
  public:
    virtual ~ModelKind() = default;
    // Checks what needs the problem and starts a run: fills the model's part of the result's
    // header (retractions, theory_conditioning); the driver has set config, spectrum, eta, path.
    virtual std::unique_ptr<ModelRun> start(const RunConfig& config, const Problem& problem,
                                            RunResult& result) const = 0;
    virtual StateLayout state_layout(const RunConfig& config, Index d) const = 0;
    virtual RecordLayout record_layout(const RunConfig& config) const = 0;
    // How `ssldyn run` names the model in its first line ("" for the linear model).
    virtual std::string describe(const RunConfig& config) const = 0;
    // The group a run falls in in a sweep's summary table (the linear model's: its dynamics).
    virtual std::string label(const RunConfig& config) const = 0;
    // The model's own lines of `ssldyn run`'s summary, after the shared ones.
    virtual void print_summary(const RunResult& result, std::FILE* out) const = 0;
};

}  // namespace ssldyn
