#include "store/run_series.hpp"

#include <limits>

#include "core/error.hpp"
#include "run/model_table.hpp"
#include "store/h5/dataset.hpp"
#include "store/schema.hpp"

namespace ssldyn {

const std::vector<Series>& recorded_series() {
    static const std::vector<Series> table = [] {
        std::vector<Series> t;
        for (const auto& m : schema::metrics())
            t.push_back({"trajectory", m.name, std::string("final_") + m.name});
        t.push_back({"trajectory", "theory_distance", "final_theory_distance"});
        for (const auto& m : schema::metrics())
            t.push_back({"theory", m.name, std::string("theory_final_") + m.name});
        for (const auto& m : schema::network_metrics())
            t.push_back({"network", m.name, std::string("final_") + m.name, true});
        return t;
    }();
    return table;
}

bool Series::recorded_by(Model model) const {
    if (!network_only) return true;
    RunConfig run;
    run.model = model;
    return model_kind(model).record_layout(run).network;
}

namespace {

Model model_of(const SweepIndex& index, std::size_t row) {
    const auto column = index.config.find("model");
    if (column == index.config.end())
        throw RuntimeFailure("sweep '" + index.sweep + "': the index has no column 'model'");
    try {
        return parse_name(model_names, column->second.at(row), "model");
    } catch (const InputError& e) {
        throw RuntimeFailure("sweep '" + index.sweep + "': " + e.what());
    }
}

}  // namespace

RunSeries::RunSeries(const h5::File& file, const SweepIndex& index, std::size_t row)
    : run_(h5::Group::open(file.id(), schema::run_path(index.sweep, index.run_ids.at(row)))),
      model_(model_of(index, row)),
      steps_(h5::Dataset::open(run_.id(), "trajectory/step").read_integers()),
      times_(h5::Dataset::open(run_.id(), "trajectory/t").read_doubles()) {}

std::vector<double> RunSeries::read(const Series& series) const {
    if (!series.recorded_by(model_))
        return std::vector<double>(steps_.size(), std::numeric_limits<double>::quiet_NaN());
    return h5::Dataset::open(run_.id(), series.path()).read_doubles();
}

}  // namespace ssldyn
