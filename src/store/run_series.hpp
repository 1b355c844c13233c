#pragma once
// The series a run records, one value per record (README "The HDF5 store"): the metrics of
// gradient descent (trajectory/) and of its theory (theory/), the distance between the two, and
// a two-layer run's network/ values; each with the index column that holds its last value.
#include <string>
#include <vector>

#include "config/run_config.hpp"
#include "store/h5/file.hpp"
#include "store/h5/group.hpp"
#include "store/index_reader.hpp"

namespace ssldyn {

struct Series {
    std::string group;         // trajectory, theory or network
    std::string name;          // its dataset in that group
    std::string final_column;  // its value at the last record, in the sweep's index
    bool network_only = false;

    std::string path() const { return group + "/" + name; }
    // Whether runs of this model record it: network_only series where the model writes the
    // network/ series (its RecordLayout, run/model_table.hpp).
    bool recorded_by(Model model) const;
};

// Every series, from the schema's tables: trajectory/ (with theory_distance), theory/, network/.
const std::vector<Series>& recorded_series();

// The records of one run of a sweep: their steps and times, and its series read on demand.
class RunSeries {
  public:
    // The run of row `row` of the sweep's index (its model says which series it has).
    RunSeries(const h5::File& file, const SweepIndex& index, std::size_t row);

    const std::vector<long long>& steps() const { return steps_; }  // -1: a record not reached
    const std::vector<double>& times() const { return times_; }
    // One value per record; NaN throughout for a series the run's model does not record (the
    // network/ values of a linear run), as its index column holds NaN.
    std::vector<double> read(const Series& series) const;

  private:
    h5::Group run_;
    Model model_;
    std::vector<long long> steps_;
    std::vector<double> times_;
};

}  // namespace ssldyn
