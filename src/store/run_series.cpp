#include "store/run_series.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "core/error.hpp"
#include "run/model_table.hpp"
#include "store/h5/dataset.hpp"
#include "store/schema.hpp"

namespace ssldyn {

const std::vector<Series>& recorded_series() {
    static const std::vector<Series> table = [] {
        std::vector<Series> t;
        auto side = [&](const char* group, const char* prefix, const char* final_prefix,
                        Snapshot Record::*member) {
            for (const auto& m : schema::metrics()) {
                Series s;
                s.group = group;
                s.name = m.name;
                s.final_column = std::string(final_prefix) + m.name;
                s.dataset = std::string(prefix) + m.name;
                s.units = m.units;
                s.description = m.description;
                s.side = member;
                s.metric = m.field;
                t.push_back(s);
            }
        };
        side("trajectory", "gd_", "final_", &Record::simulated);
        Series distance;
        distance.group = "trajectory";
        distance.name = "theory_distance";
        distance.final_column = "final_theory_distance";
        distance.dataset = "theory_distance";
        distance.units = "1";
        t.push_back(distance);  // its description is the models' (RecordLayout)
        side("theory", "theory_", "theory_final_", &Record::theory);
        for (const auto& m : schema::network_metrics()) {
            Series s;
            s.group = "network";
            s.name = m.name;
            s.final_column = std::string("final_") + m.name;
            s.network_only = true;
            s.dataset = std::string("network_") + m.name;
            s.units = "1";
            s.description = m.description;
            s.network = m.field;
            t.push_back(s);
        }
        return t;
    }();
    return table;
}

const std::vector<ComponentSeries>& component_series() {
    static const std::vector<ComponentSeries> table{
        {"gd_singular_values", "singular_values", &Record::simulated, &Snapshot::singular_values},
        {"theory_singular_values", "singular_values", &Record::theory, &Snapshot::singular_values},
        {"gd_modes", "modes", &Record::simulated, &Snapshot::modes},
        {"theory_modes", "modes", &Record::theory, &Snapshot::modes},
    };
    return table;
}

std::string ComponentSeries::describe(const std::string& matrix) const {
    if (name == "singular_values")
        return "singular values of " + matrix + ", descending (NaN beyond k)";
    return "||M v_i||, M = " + matrix +
           ", v_i the i-th eigenvector of C, eigenvalues descending (THEORY 6.5; NaN beyond k)";
}

double Series::of(const Record& record) const {
    if (side) return (record.*side).*metric;
    if (network) return record.network.*network;
    return record.theory_distance;
}

void Series::set(Record& record, double value) const {
    if (side)
        (record.*side).*metric = value;
    else if (network)
        record.network.*network = value;
    else
        record.theory_distance = value;
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

SweepSeries::SweepSeries(const h5::File& file, const SweepIndex& index,
                         std::vector<std::size_t> rows)
    : sweep_(h5::Group::open(file.id(), schema::sweep_path(index.sweep))) {
    for (std::size_t r : rows) {
        rows_.push_back(static_cast<hsize_t>(r));
        models_.push_back(model_of(index, r));
    }
    const auto step = h5::Dataset::open(sweep_.id(), schema::step);
    records_ = static_cast<std::size_t>(step.dims().at(1));
    const auto steps = step.read_rows_of(rows_);
    steps_.assign(steps.begin(), steps.end());
    times_ = h5::Dataset::open(sweep_.id(), schema::time).read_rows_of(rows_);
}

std::vector<double> SweepSeries::read(const Series& series) const {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    // Whether each model records it, asked once per model rather than once per row.
    std::map<Model, bool> recorded;
    for (Model m : models_)
        if (!recorded.count(m)) recorded.emplace(m, series.recorded_by(m));
    const bool any = std::any_of(recorded.begin(), recorded.end(),
                                 [](const auto& entry) { return entry.second; });
    if (!any || (series.network_only && !sweep_.exists(series.dataset)))
        return std::vector<double>(rows_.size() * records_, nan);  // a sweep without networks
    if (series.component >= 0 && !sweep_.exists(series.dataset))   // a store before modes
        return std::vector<double>(rows_.size() * records_, nan);
    const auto dataset = h5::Dataset::open(sweep_.id(), series.dataset);
    auto values = dataset.read_rows_of(rows_);
    if (series.component >= 0) {
        const auto components = static_cast<std::size_t>(dataset.dims().at(2));
        const auto c = static_cast<std::size_t>(series.component);
        std::vector<double> picked(rows_.size() * records_, nan);
        if (c < components)
            for (std::size_t i = 0; i < picked.size(); ++i) picked[i] = values[i * components + c];
        values = std::move(picked);
    }
    for (std::size_t i = 0; i < models_.size(); ++i)
        if (!recorded.at(models_[i]))
            std::fill(values.begin() + static_cast<std::ptrdiff_t>(i * records_),
                      values.begin() + static_cast<std::ptrdiff_t>((i + 1) * records_), nan);
    return values;
}

}  // namespace ssldyn
