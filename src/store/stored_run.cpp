#include "store/stored_run.hpp"

#include <cmath>
#include <limits>
#include <unordered_map>

#include "core/error.hpp"
#include "store/schema.hpp"
#include "theory/loss_flows.hpp"

namespace ssldyn {

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

// A column's place in schema::result_columns(): looked up some sixty times a run.
std::size_t column_index(const std::string& name) {
    static const std::unordered_map<std::string, std::size_t> places = [] {
        std::unordered_map<std::string, std::size_t> out;
        const auto& columns = schema::result_columns();
        for (std::size_t i = 0; i < columns.size(); ++i) out.emplace(columns[i].name, i);
        return out;
    }();
    const auto found = places.find(name);
    if (found == places.end()) throw RuntimeFailure("store: no result column '" + name + "'");
    return found->second;
}

}  // namespace

StoredRun::StoredRun()
    : numbers(schema::result_columns().size(), nan),
      integers(schema::result_columns().size(), -1),
      texts(schema::result_columns().size()),
      components(schema::component_columns().size()) {}

void StoredRun::set(const std::string& column, double value) {
    numbers[column_index(column)] = value;
}
void StoredRun::set(const std::string& column, long long value) {
    integers[column_index(column)] = value;
}
void StoredRun::set(const std::string& column, const std::string& value) {
    texts[column_index(column)] = value;
}

void StoredRun::set_components(const std::string& column, std::vector<double> values) {
    const auto& columns = schema::component_columns();
    for (std::size_t i = 0; i < columns.size(); ++i)
        if (column == columns[i].name) {
            components[i] = std::move(values);
            return;
        }
    throw RuntimeFailure("store: no component column '" + column + "'");
}

long long StoredRun::integer(const std::string& column) const {
    return integers[column_index(column)];
}

void StoredRun::set_ran(double started, double ended, long long event) {
    set("started", started);
    set("ended", ended);
    set("event", event);
}

StoredRun stored_run(Index row, const RunResult& r, const std::string& host) {
    StoredRun s;
    s.row = row;
    s.status = r.status;
    s.records = r.records;
    s.w0 = r.w0;
    // The final weights of a done run; nothing for a failed one (whatever an earlier checkpoint
    // held), so that a resumed store equals an uninterrupted one.
    if (r.status == RunStatus::done) {
        s.w = r.w;
        s.checkpoint_step = r.steps_taken;
    }
    s.spectrum = r.spectrum;
    if (!r.records.empty()) {
        const Record& last = r.records.back();
        s.set("final_step", static_cast<long long>(last.step));
        s.set("final_t", last.t);
        s.set("final_theory_distance", last.theory_distance);
        double largest = nan;  // without a theory
        for (const auto& rec : r.records)
            if (std::isfinite(rec.theory_distance) && !(rec.theory_distance <= largest))
                largest = rec.theory_distance;
        s.set("max_theory_distance", largest);
        for (const auto& m : schema::metrics()) {
            s.set(std::string("final_") + m.name, last.simulated.*(m.field));
            s.set(std::string("theory_final_") + m.name, last.theory.*(m.field));
        }
        for (const auto& m : schema::network_metrics()) {
            s.set(std::string("initial_") + m.name, r.records.front().network.*(m.field));
            s.set(std::string("final_") + m.name, last.network.*(m.field));
        }
        // THEORY §6.5: each eigen-direction's rise time, measured and predicted.
        std::vector<double> t;
        std::vector<std::vector<double>> modes;
        for (const auto& rec : r.records) {
            t.push_back(rec.t);
            modes.push_back(rec.simulated.modes);
        }
        s.set_components("rise_time", rise_times(t, modes));
        s.set_components("rise_time_predicted", predicted_rise_times(r.config.loss, r.spectrum,
                                                                     r.initial_top_coordinates));
    }
    s.set("reference_accepted", static_cast<long long>(r.reference_accepted));
    s.set("reference_rejected", static_cast<long long>(r.reference_rejected));
    s.set("eta_used", r.eta);
    s.set("eta_lambda_max", r.eta * r.lambda_max);
    s.set("lambda_max", r.lambda_max);
    s.set("theory_conditioning", r.theory_conditioning);
    s.set("seconds", r.seconds);
    s.set("seconds_per_step", r.seconds_per_step);
    s.set("final_loss_gap", r.final_loss_gap);
    s.set("final_grassmann_distance", r.final_grassmann_distance);
    s.set("theory_final_loss_gap", r.theory_final_loss_gap);
    s.set("min_effective_rank", r.min_effective_rank);
    s.set("optimum_effective_rank", r.optimum_effective_rank);
    s.set("optimum_orthogonality_error", r.optimum_orthogonality_error);
    s.set("initial_predictor_offdiagonal", r.initial_predictor_offdiagonal);
    s.set("final_predictor_offdiagonal", r.final_predictor_offdiagonal);
    s.set("final_predictor_norm", r.final_predictor_norm);
    s.set("failed_step", static_cast<long long>(r.failed_step));
    s.set("failure", r.failure);
    s.set("retraction_used", retraction_text(r));
    if (r.layer_retractions)
        for (std::size_t l = 0; l < 2; ++l)
            s.set(l == 0 ? "retraction_w1" : "retraction_w2",
                  std::string(name_of(retraction_names, (*r.layer_retractions)[l])));
    s.set("gradient_path_used", std::string(name_of(gradient_path_names, r.path)));
    s.set("host", host);
    s.set("data_source", data_source_text(r.config));
    return s;
}

}  // namespace ssldyn
