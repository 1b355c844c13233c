#pragma once
// The series a run records, one value per record (README "The HDF5 store"): the metrics of
// gradient descent and of its theory, the distance between the two, and a network run's values;
// each a (run, record) dataset of the sweep, with the index column that holds its last value.
#include <string>
#include <vector>

#include "config/run_config.hpp"
#include "run/record.hpp"
#include "store/h5/file.hpp"
#include "store/index_reader.hpp"

namespace ssldyn {

struct Series {
    std::string group;         // trajectory, theory or network: queries name it group/name
    std::string name;          // the metric
    std::string final_column;  // its value at the last record, in the sweep's index
    bool network_only = false;
    std::string dataset;             // its (run, record) dataset in the sweep's group
    std::string units, description;  // the metric's (the store adds whose: its side's)
    // Where a Record holds it: a metric of one side, a network value, or the distance.
    Snapshot Record::*side = nullptr;
    double Snapshot::*metric = nullptr;
    double NetworkRecord::*network = nullptr;
    // ≥ 0: the value of this component of a (run, record, component) dataset (ComponentSeries),
    // read by SweepSeries only; its final value has no index column (final_column empty).
    long component = -1;

    std::string path() const { return group + "/" + name; }
    double of(const Record& record) const;
    void set(Record& record, double value) const;
    // Whether runs of this model record it: network_only series where the model writes the
    // network values (its RecordLayout, run/model_table.hpp).
    bool recorded_by(Model model) const;
};

// Every series, from the schema's tables: gradient descent (with theory_distance), theory,
// network.
const std::vector<Series>& recorded_series();

// The series of k values a record (run, record, component): a side's singular values and its
// modes ‖M vᵢ‖ (THEORY §5, §6.5), M the matrix whose singular values are recorded.
struct ComponentSeries {
    std::string dataset;  // gd_<name> or theory_<name>
    std::string name;     // singular_values or modes
    Snapshot Record::*side = nullptr;
    std::vector<double> Snapshot::*values = nullptr;
    // What the values are, after "singular values of " or "components ||M v_i|| of ", with
    // `matrix` the models' words for M (RecordLayout::singular_values).
    std::string describe(const std::string& matrix) const;
};

// gd_singular_values, theory_singular_values, gd_modes, theory_modes.
const std::vector<ComponentSeries>& component_series();

// The records of some runs of a sweep, read once per dataset for all of them (one selection of
// their rows): their steps and times, and their series on demand.
class SweepSeries {
  public:
    // rows: ascending rows of the sweep's index.
    SweepSeries(const h5::File& file, const SweepIndex& index, std::vector<std::size_t> rows);

    std::size_t records() const { return records_; }
    // Of the i-th row asked for: -1 marks a record not reached.
    const long long* steps(std::size_t i) const { return steps_.data() + i * records_; }
    const double* times(std::size_t i) const { return times_.data() + i * records_; }
    // rows × records values; NaN for a run whose model does not record the series (the network
    // values of a linear run), as its index column holds NaN.
    std::vector<double> read(const Series& series) const;

  private:
    h5::Group sweep_;
    std::vector<hsize_t> rows_;
    std::vector<Model> models_;
    std::size_t records_ = 0;
    std::vector<long long> steps_;
    std::vector<double> times_;
};

}  // namespace ssldyn
