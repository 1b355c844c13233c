// A sweep's arrays (README "The HDF5 store"): their creation, the writer of finished runs and
// checkpoints, and the reading back of a checkpoint.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <type_traits>

#include "core/error.hpp"
#include "run/driver.hpp"
#include "store/h5/attribute.hpp"
#include "store/h5/dimension_scale.hpp"
#include "store/run_series.hpp"
#include "store/sweep_store.hpp"

namespace ssldyn {

namespace {

using Clock = std::chrono::steady_clock;
constexpr double nan = std::numeric_limits<double>::quiet_NaN();
// Blocks of weights larger than this are not filled when created (filling is a write of all of
// it) and are written at once rather than staged (staging copies them).
constexpr hsize_t filled_block_bytes = hsize_t{64} << 20;
constexpr hsize_t staged_slot_bytes = hsize_t{8} << 20;

void describe(hid_t object, const std::string& units, const std::string& description) {
    h5::write_attribute(object, "units", units);
    h5::write_attribute(object, "description", description);
}

std::string block_name(const char* what, std::size_t i) {
    return std::string(what) + "_" + std::to_string(i);
}

std::vector<double> row_major(const Matrix& m) {
    const Matrix t = transpose(m);
    return std::vector<double>(t.data(), t.data() + t.rows() * t.cols());
}

std::size_t column_index(const std::string& name) {
    const auto& columns = schema::result_columns();
    for (std::size_t i = 0; i < columns.size(); ++i)
        if (columns[i].name == name) return i;
    throw RuntimeFailure("store: no result column '" + name + "'");
}

// The series datasets a sweep has: the network ones only where some run is a network.
std::vector<const Series*> series_of(bool network) {
    std::vector<const Series*> out;
    for (const auto& s : recorded_series())
        if (network || !s.network_only) out.push_back(&s);
    return out;
}

}  // namespace

// --- creation ------------------------------------------------------------------------------

void create_sweep(const h5::File& file, const SweepPlan& plan, const SweepLayout& layout,
                  const Provenance& p) {
    const auto runs = static_cast<hsize_t>(plan.runs.size());
    const hsize_t records = layout.records, components = layout.components;
    const auto sweep = h5::Group::create_anonymous(file.id());
    h5::write_attribute(sweep.id(), "config", plan.source);
    h5::write_attribute(sweep.id(), "run_count", static_cast<long long>(runs));
    if (!plan.shard.whole()) h5::write_attribute(sweep.id(), "shard", plan.shard.text());
    std::string axes;
    for (const auto& a : plan.axes) axes += (axes.empty() ? "" : ",") + a;
    h5::write_attribute(sweep.id(), "axes", axes);
    h5::write_attribute(sweep.id(), "program_version", p.program_version);
    h5::write_attribute(sweep.id(), "git_commit", p.git_commit);
    h5::write_attribute(sweep.id(), "git_dirty", static_cast<long long>(p.git_dirty));
    h5::write_attribute(sweep.id(), "mpi_library", p.mpi_library);
    h5::write_attribute(sweep.id(), "hdf5_library", p.hdf5_library);
    h5::write_attribute(sweep.id(), "mpi_ranks", static_cast<long long>(p.mpi_ranks));
    h5::write_attribute(sweep.id(), "group_size", static_cast<long long>(p.group_size));
    h5::write_attribute(sweep.id(), "distribute_above", p.distribute_above);
    h5::write_attribute(sweep.id(), "block_size", p.block_size);
    h5::write_attribute(sweep.id(), "grid", p.grid);
    h5::write_attribute(sweep.id(), "blas_threads", static_cast<long long>(p.blas_threads));

    // The dimensions, each a dataset of its name (netCDF-4: xarray's coordinates).
    std::vector<std::string> ids;
    ids.reserve(plan.runs.size());
    for (const std::uint64_t id : plan.ids) ids.push_back(run_id_text(id));
    const auto run_scale =
        h5::Dataset::create_strings(sweep.id(), schema::run_dimension, runs, schema::run_id_length);
    run_scale.write(ids);
    ids = {};
    h5::write_attribute(run_scale.id(), "_Encoding", "utf-8");
    describe(run_scale.id(), "1", "run id (hash of the canonical config), in the plan's order");
    h5::make_dimension_scale(run_scale, schema::run_dimension);
    auto counting = [&](const char* name, hsize_t n, const std::string& what) {
        auto scale = h5::Dataset::create_integers(sweep.id(), name, {n});
        std::vector<long long> values(n);
        std::iota(values.begin(), values.end(), 0LL);
        scale.write(values.data());
        describe(scale.id(), "1", what);
        h5::make_dimension_scale(scale, name);
        return scale;
    };
    const auto record_scale =
        counting(schema::record_dimension, records, "record number along a run (its step: `step`)");
    const auto component_scale =
        counting(schema::component_dimension, components, "singular value number, descending");

    std::string coordinates;
    for (const auto& key : config_keys())
        coordinates += (coordinates.empty() ? "" : " ") + std::string(key.name);
    // A dataset along the runs (and the records, and the components): its dimensions, and the
    // settings as its coordinates.
    auto along_runs = [&](const h5::Dataset& d, const std::string& units,
                          const std::string& description, bool settings_as_coordinates = true) {
        describe(d.id(), units, description);
        const auto rank = d.dims().size();
        h5::attach_dimension_scale(d, run_scale, 0);
        if (rank > 1) h5::attach_dimension_scale(d, record_scale, 1);
        if (rank > 2) h5::attach_dimension_scale(d, component_scale, 2);
        if (settings_as_coordinates) h5::write_attribute(d.id(), "coordinates", coordinates);
    };
    auto text_column = [&](const std::string& name, const std::vector<std::string>& values,
                           std::size_t length) {
        for (const auto& v : values) length = std::max(length, v.size());
        auto column = h5::Dataset::create_strings(sweep.id(), name, runs, length);
        if (!values.empty()) column.write(values);
        h5::write_attribute(column.id(), "_Encoding", "utf-8");
        return column;
    };

    const auto status =
        h5::Dataset::create_enum(sweep.id(), schema::status, runs, schema::status_names(), 0);
    along_runs(status, "1", "per run: pending, running, done or failed");

    for (const auto& key : config_keys()) {
        const std::string name(key.name);
        if (key.kind == ValueKind::number) {
            std::vector<double> values;
            values.reserve(plan.runs.size());
            for (const auto& run : plan.runs) values.push_back(key.number(run));
            const auto column = h5::Dataset::create_doubles(sweep.id(), name, {runs});
            column.write(values.data());
            along_runs(column, "1", key.help, false);
        } else if (key.kind == ValueKind::text) {
            std::vector<std::string> values;
            values.reserve(plan.runs.size());
            for (const auto& run : plan.runs) values.push_back(key.print(run));
            along_runs(text_column(name, values, 1), "1", key.help, false);
        } else {
            std::vector<long long> values;
            values.reserve(plan.runs.size());
            for (const auto& run : plan.runs) values.push_back(key.integer(run));
            const auto column =
                key.kind == ValueKind::boolean
                    ? h5::Dataset::create_enum(sweep.id(), name, runs, schema::boolean_names(), 0)
                    : h5::Dataset::create_integers(sweep.id(), name, {runs});
            column.write(values.data());
            along_runs(column, "1", key.help, false);
        }
    }

    for (const auto& c : schema::result_columns()) {
        const auto column = c.type == schema::ColumnType::number
                                ? h5::Dataset::create_doubles(sweep.id(), c.name, {runs})
                            : c.type == schema::ColumnType::integer
                                ? h5::Dataset::create_integers(sweep.id(), c.name, {runs}, -1)
                                : text_column(c.name, {}, c.length);
        along_runs(column, c.units, c.description);
    }

    along_runs(h5::Dataset::create_integers(sweep.id(), schema::step, {runs, records}, -1), "1",
               "gradient-descent step of the record (-1: not reached)");
    along_runs(h5::Dataset::create_doubles(sweep.id(), schema::time, {runs, records}), "1",
               "time t = eta * step (THEORY §4)");
    for (const Series* s : series_of(layout.network)) {
        const std::string what = s->group == "trajectory" ? "gradient descent: "
                                 : s->group == "theory"   ? layout.theory + ": "
                                                          : "";
        const std::string description =
            s->name == "theory_distance" ? layout.theory_distance : what + s->description;
        along_runs(h5::Dataset::create_doubles(sweep.id(), s->dataset, {runs, records}), s->units,
                   description);
    }
    for (const char* side : {"gd", "theory"})
        along_runs(h5::Dataset::create_doubles(sweep.id(), std::string(side) + "_singular_values",
                                               {runs, records, components}),
                   "1",
                   std::string(side[0] == 'g' ? "gradient descent" : layout.theory) +
                       ": singular values of " + layout.singular_values +
                       ", descending (NaN beyond k)");

    // Per-run blocks: which block and slot hold each run's values, and the blocks.
    auto family = [&](const char* group_name, const BlockFamily& f, const char* what) {
        auto group = sweep.create_group(group_name);
        const auto block = h5::Dataset::create_integers(group.id(), "block", {runs});
        block.write(f.block.data());
        describe(block.id(), "1", std::string("per run: the ") + what + "_<block> holding it");
        const auto slot = h5::Dataset::create_integers(group.id(), "slot", {runs});
        slot.write(f.slot.data());
        describe(slot.id(), "1", std::string("per run: its slot (first index) in that block"));
        return group;
    };
    const auto weights = family(schema::weights_group, layout.weights, "W0_<block> and W");
    describe(h5::Dataset::create_integers(weights.id(), schema::checkpoint_step, {runs}, -1).id(),
             "1",
             "steps W holds (-1: none); the last step of a done run, else where a resumed run "
             "continues");
    for (std::size_t i = 0; i < layout.weights.blocks.size(); ++i) {
        const Block& b = layout.weights.blocks[i];
        const bool filled = b.slots * b.slot_size() * sizeof(double) <= filled_block_bytes;
        describe(
            h5::Dataset::create_doubles(weights.id(), block_name("W0", i), b.dims(), filled).id(),
            "1", "initial weights, " + b.description);
        describe(
            h5::Dataset::create_doubles(weights.id(), block_name("W", i), b.dims(), filled).id(),
            "1",
            "weights after checkpoint_step steps (a done run's final ones; NaN for a failed "
            "run), " +
                b.description);
    }
    const auto spectra = family(schema::spectrum_group, layout.spectra, "eigenvalues");
    for (std::size_t i = 0; i < layout.spectra.blocks.size(); ++i) {
        const Block& b = layout.spectra.blocks[i];
        describe(
            h5::Dataset::create_doubles(spectra.id(), block_name("eigenvalues", i), b.dims()).id(),
            "1", b.description + ", one slot per distinct problem");
    }

    // Last: the sweep becomes visible.
    sweep.link_as(h5::Group::open(file.id(), "/sweeps").id(), plan.name);
}

std::uintmax_t sweep_bytes(const SweepPlan& plan, const SweepLayout& layout) {
    const std::uintmax_t runs = plan.runs.size(), records = layout.records,
                         components = layout.components;
    std::uintmax_t per_run = 1 + schema::run_id_length + 3 * 8 + 2 * 8;  // status, id, blocks
    per_run += 8 * config_keys().size() + 64;                            // settings (text: a guess)
    for (const auto& c : schema::result_columns()) per_run += c.length > 0 ? c.length : 8;
    per_run += 8 * records * (2 + series_of(layout.network).size() + 2 * components);
    std::uintmax_t bytes = runs * per_run;
    for (const auto& b : layout.weights.blocks) bytes += 2 * 8 * b.slots * b.slot_size();
    for (const auto& b : layout.spectra.blocks) bytes += 8 * b.slots * b.slot_size();
    // HDF5's object headers, attributes and heaps: a few KiB per dataset.
    return bytes + (std::uintmax_t{1} << 20) + 8192 * (200 + 2 * layout.weights.blocks.size());
}

// --- the runs --------------------------------------------------------------------------------

StoredRun::StoredRun()
    : numbers(schema::result_columns().size(), nan),
      integers(schema::result_columns().size(), -1),
      texts(schema::result_columns().size()) {}

void StoredRun::set(const std::string& column, double value) {
    numbers[column_index(column)] = value;
}
void StoredRun::set(const std::string& column, long long value) {
    integers[column_index(column)] = value;
}
void StoredRun::set(const std::string& column, const std::string& value) {
    texts[column_index(column)] = value;
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
    s.set("failed_step", static_cast<long long>(r.failed_step));
    s.set("failure", r.failure);
    s.set("retraction_used", retraction_text(r));
    if (r.layer_retractions)
        for (std::size_t l = 0; l < 2; ++l)
            s.set(l == 0 ? "retraction_w1" : "retraction_w2",
                  std::string(name_of(retraction_names, (*r.layer_retractions)[l])));
    s.set("gradient_path_used", std::string(name_of(gradient_path_names, r.path)));
    s.set("host", host);
    return s;
}

// The open datasets of a sweep, by number, and where each run's blocks are.
struct SweepWriter::Targets {
    std::vector<h5::Dataset> all;
    std::size_t status = 0, step = 0, time = 0, gd_sv = 0, theory_sv = 0, checkpoint_step = 0;
    std::vector<std::pair<const Series*, std::size_t>> series;
    std::vector<std::size_t> results;  // schema::result_columns() order
    std::vector<std::size_t> w0, w, spectra;
    std::vector<hsize_t> w_slot_size, spectrum_size;
    std::vector<long long> weight_block, weight_slot, spectrum_block, spectrum_slot;
    hsize_t records = 0, components = 0;

    std::size_t open(hid_t group, const std::string& name) {
        all.push_back(h5::Dataset::open(group, name));
        return all.size() - 1;
    }
};

// Writes staged by dataset number, slot by slot (a slot: a row, or a block's slot).
template <class T>
struct Staged {
    std::vector<hsize_t> slots;
    std::vector<T> values;
    hsize_t per_slot = 1;

    void add(hsize_t slot, const T* begin, hsize_t count) {
        per_slot = count;
        slots.push_back(slot);
        values.insert(values.end(), begin, begin + count);
    }
    // One write per run of consecutive slots (a repeated slot, a problem shared by two runs of
    // the batch, is written once: its values are equal).
    void write(const h5::Dataset& d) const {
        std::vector<std::size_t> order(slots.size());
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::stable_sort(order.begin(), order.end(),
                         [&](std::size_t a, std::size_t b) { return slots[a] < slots[b]; });
        std::vector<T> run;
        hsize_t first = 0, count = 0;
        auto emit = [&] {
            if (count == 0) return;
            if constexpr (std::is_same_v<T, std::string>)
                d.write_rows(first, run);
            else
                d.write_rows(first, count, run.data());
            run.clear();
            count = 0;
        };
        for (std::size_t i : order) {
            if (count > 0 && slots[i] == first + count - 1) continue;
            if (count > 0 && slots[i] != first + count) emit();
            if (count == 0) first = slots[i];
            const auto from = values.begin() + static_cast<std::ptrdiff_t>(i * per_slot);
            run.insert(run.end(), from, from + static_cast<std::ptrdiff_t>(per_slot));
            ++count;
        }
        emit();
    }
};

struct SweepWriter::Batch {
    std::map<std::size_t, Staged<double>> doubles;
    std::map<std::size_t, Staged<long long>> integers;
    std::map<std::size_t, Staged<std::string>> texts;
    std::size_t runs = 0, bytes = 0;
    Clock::time_point first;

    void add(std::size_t target, hsize_t slot, const std::vector<double>& v) {
        doubles[target].add(slot, v.data(), v.size());
        bytes += 8 * v.size();
    }
    void add(std::size_t target, hsize_t slot, long long v) {
        integers[target].add(slot, &v, 1);
        bytes += 8;
    }
    void add(std::size_t target, hsize_t slot, const std::string& v) {
        texts[target].add(slot, &v, 1);
        bytes += v.size();
    }
};

SweepWriter::SweepWriter(const h5::File& file, const std::string& sweep)
    : targets_(std::make_unique<Targets>()), pending_(std::make_unique<Batch>()) {
    Targets& t = *targets_;
    // The datasets stay open across runs: a run then costs its raw writes, not lookups.
    const auto group = h5::Group::open(file.id(), schema::sweep_path(sweep));
    t.status = t.open(group.id(), schema::status);
    t.step = t.open(group.id(), schema::step);
    t.time = t.open(group.id(), schema::time);
    const auto dims = t.all[t.step].dims();
    t.records = dims.at(1);
    for (const auto& s : recorded_series())
        if (group.exists(s.dataset)) t.series.emplace_back(&s, t.open(group.id(), s.dataset));
    t.gd_sv = t.open(group.id(), "gd_singular_values");
    t.theory_sv = t.open(group.id(), "theory_singular_values");
    t.components = t.all[t.gd_sv].dims().at(2);
    for (const auto& c : schema::result_columns()) t.results.push_back(t.open(group.id(), c.name));
    const auto weights = group.open_group(schema::weights_group);
    t.checkpoint_step = t.open(weights.id(), schema::checkpoint_step);
    t.weight_block = h5::Dataset::open(weights.id(), "block").read_integers();
    t.weight_slot = h5::Dataset::open(weights.id(), "slot").read_integers();
    for (std::size_t i = 0; weights.exists(block_name("W0", i)); ++i) {
        t.w0.push_back(t.open(weights.id(), block_name("W0", i)));
        t.w.push_back(t.open(weights.id(), block_name("W", i)));
        const auto d = t.all[t.w.back()].dims();
        t.w_slot_size.push_back(d.at(1) * d.at(2));
    }
    const auto spectra = group.open_group(schema::spectrum_group);
    t.spectrum_block = h5::Dataset::open(spectra.id(), "block").read_integers();
    t.spectrum_slot = h5::Dataset::open(spectra.id(), "slot").read_integers();
    for (std::size_t i = 0; spectra.exists(block_name("eigenvalues", i)); ++i) {
        t.spectra.push_back(t.open(spectra.id(), block_name("eigenvalues", i)));
        t.spectrum_size.push_back(t.all[t.spectra.back()].dims().at(1));
    }
}

SweepWriter::~SweepWriter() = default;

void SweepWriter::write_status(Index row, RunStatus status) const {
    targets_->all[targets_->status].write_at(static_cast<hsize_t>(row),
                                             schema::status_code(status));
}

void SweepWriter::stage(Batch& batch, const StoredRun& run) const {
    const Targets& t = *targets_;
    const auto row = static_cast<hsize_t>(run.row);
    const hsize_t records = t.records, components = t.components;
    if (run.records.size() > records)
        throw RuntimeFailure("store: run of row " + std::to_string(run.row) + " has " +
                             std::to_string(run.records.size()) + " records, its sweep room for " +
                             std::to_string(records));
    if (batch.runs++ == 0) batch.first = Clock::now();

    std::vector<double> values(records, nan);
    std::vector<long long> steps(records, -1);
    for (std::size_t i = 0; i < run.records.size(); ++i) {
        steps[i] = run.records[i].step;
        values[i] = run.records[i].t;
    }
    {
        Staged<long long>& s = batch.integers[t.step];
        s.add(row, steps.data(), records);
        batch.bytes += 8 * records;
    }
    batch.add(t.time, row, values);
    for (const auto& [series, target] : t.series) {
        std::fill(values.begin(), values.end(), nan);
        for (std::size_t i = 0; i < run.records.size(); ++i) values[i] = series->of(run.records[i]);
        batch.add(target, row, values);
    }
    for (auto [side, target] : {std::make_pair(&Record::simulated, t.gd_sv),
                                std::make_pair(&Record::theory, t.theory_sv)}) {
        std::vector<double> sv(records * components, nan);
        for (std::size_t i = 0; i < run.records.size(); ++i) {
            const auto& s = (run.records[i].*side).singular_values;
            std::copy_n(s.begin(), std::min<std::size_t>(s.size(), components),
                        sv.begin() + static_cast<std::ptrdiff_t>(i * components));
        }
        batch.add(target, row, sv);
    }

    const auto& columns = schema::result_columns();
    for (std::size_t c = 0; c < columns.size(); ++c) {
        const std::size_t target = t.results[c];
        if (columns[c].type == schema::ColumnType::number)
            batch.add(target, row, std::vector<double>{run.numbers[c]});
        else if (columns[c].type == schema::ColumnType::integer)
            batch.add(target, row, run.integers[c]);
        else
            batch.add(target, row, run.texts[c]);
    }

    // The blocks: weights (large ones written at once, after invalidating the saved state) and
    // the spectrum.
    const auto block = static_cast<std::size_t>(t.weight_block.at(row));
    const auto slot = static_cast<hsize_t>(t.weight_slot.at(row));
    const hsize_t size = t.w_slot_size[block];
    auto weights = [&](std::size_t target, const Matrix& m, bool nan_when_empty) {
        if (m.empty() && !nan_when_empty) return;
        std::vector<double> v = m.empty() ? std::vector<double>(size, nan) : row_major(m);
        if (v.size() != size)
            throw RuntimeFailure("store: weights of row " + std::to_string(run.row) + " hold " +
                                 std::to_string(v.size()) + " numbers, their block " +
                                 std::to_string(size));
        if (8 * size <= staged_slot_bytes) {
            batch.add(target, slot, v);
            return;
        }
        t.all[t.checkpoint_step].write_at(row, -1LL);
        t.all[target].write_rows(slot, 1, v.data());
    };
    const bool finished = run.status == RunStatus::done || run.status == RunStatus::failed;
    weights(t.w0[block], run.w0, run.status == RunStatus::failed);
    weights(t.w[block], run.checkpoint_step >= 0 ? run.w : Matrix(), finished);
    if (!run.spectrum.empty()) {
        const auto s = static_cast<std::size_t>(t.spectrum_block.at(row));
        if (run.spectrum.size() != t.spectrum_size[s])
            throw RuntimeFailure("store: spectrum of row " + std::to_string(run.row) +
                                 " has the wrong length");
        batch.add(t.spectra[s], static_cast<hsize_t>(t.spectrum_slot.at(row)), run.spectrum);
    }
    batch.add(t.checkpoint_step, row, static_cast<long long>(run.checkpoint_step));
    batch.add(t.status, row, schema::status_code(run.status));
}

void SweepWriter::write(Batch& batch) const {
    const Targets& t = *targets_;
    // The saved state is invalidated first and validated after its weights and records: a kill
    // between leaves the previous state or none, never new weights under an old step. Statuses
    // last: a run is done only once everything of it is in the file.
    const auto saved = batch.integers.find(t.checkpoint_step);
    const auto status = batch.integers.find(t.status);
    if (saved != batch.integers.end()) {
        Staged<long long> none = saved->second;
        std::fill(none.values.begin(), none.values.end(), -1LL);
        none.write(t.all[t.checkpoint_step]);
    }
    for (const auto& [target, staged] : batch.doubles) staged.write(t.all[target]);
    for (const auto& [target, staged] : batch.texts) staged.write(t.all[target]);
    for (const auto& [target, staged] : batch.integers)
        if (target != t.checkpoint_step && target != t.status) staged.write(t.all[target]);
    if (saved != batch.integers.end()) saved->second.write(t.all[t.checkpoint_step]);
    if (status != batch.integers.end()) status->second.write(t.all[t.status]);
    batch = Batch();
}

void SweepWriter::add(const StoredRun& run) {
    stage(*pending_, run);
}

void SweepWriter::flush() {
    if (pending_->runs > 0) write(*pending_);
}

bool SweepWriter::flush_due() const {
    constexpr std::size_t most_bytes = std::size_t{32} << 20;
    return pending_->runs > 0 && (pending_->bytes > most_bytes ||
                                  Clock::now() - pending_->first > std::chrono::seconds(1));
}

void SweepWriter::write_checkpoint(Index row, const RunConfig&, const RunState& state) {
    StoredRun run;
    run.row = row;
    run.status = RunStatus::running;
    run.records = state.records;
    run.w = state.w;
    run.checkpoint_step = state.step;
    run.set("seconds", state.seconds);
    Batch now;
    stage(now, run);
    write(now);
}

// --- reading back ------------------------------------------------------------------------------

std::optional<Checkpoint> read_checkpoint(const h5::File& file, const std::string& sweep,
                                          const RunConfig& config, Index row) {
    const auto group = h5::Group::open(file.id(), schema::sweep_path(sweep));
    const auto weights = group.open_group(schema::weights_group);
    const auto at = static_cast<hsize_t>(row);
    Checkpoint c;
    c.step =
        h5::Dataset::open(weights.id(), schema::checkpoint_step).read_integer_rows(at, 1).at(0);
    if (c.step < 0) return std::nullopt;
    const auto block = h5::Dataset::open(weights.id(), "block").read_integer_rows(at, 1).at(0);
    const auto slot = h5::Dataset::open(weights.id(), "slot").read_integer_rows(at, 1).at(0);
    const auto w =
        h5::Dataset::open(weights.id(), block_name("W", static_cast<std::size_t>(block)));
    const auto dims = w.dims();
    const auto values = w.read_rows(static_cast<hsize_t>(slot), 1);
    // Row-major rows x cols on disk: the column-major cols x rows matrix of those values,
    // transposed.
    Matrix wt(static_cast<Index>(dims.at(2)), static_cast<Index>(dims.at(1)));
    std::copy(values.begin(), values.end(), wt.data());
    c.w = transpose(wt);

    const auto steps = h5::Dataset::open(group.id(), schema::step).read_integer_rows(at, 1);
    const auto times = h5::Dataset::open(group.id(), schema::time).read_rows(at, 1);
    for (std::size_t i = 0; i < steps.size() && steps[i] >= 0 && steps[i] <= c.step; ++i) {
        Record r;
        r.step = steps[i];
        r.t = times[i];
        c.records.push_back(r);
    }
    for (const auto& s : recorded_series()) {
        if (!group.exists(s.dataset)) continue;
        const auto v = h5::Dataset::open(group.id(), s.dataset).read_rows(at, 1);
        for (std::size_t i = 0; i < c.records.size(); ++i) s.set(c.records[i], v[i]);
    }
    const auto k = static_cast<std::size_t>(config.k);
    for (auto [side, name] : {std::make_pair(&Record::simulated, "gd_singular_values"),
                              std::make_pair(&Record::theory, "theory_singular_values")}) {
        const auto d = h5::Dataset::open(group.id(), name);
        const auto components = static_cast<std::size_t>(d.dims().at(2));
        const auto v = d.read_rows(at, 1);
        for (std::size_t i = 0; i < c.records.size(); ++i) {
            const auto from = v.begin() + static_cast<std::ptrdiff_t>(i * components);
            (c.records[i].*side)
                .singular_values.assign(from, from + static_cast<std::ptrdiff_t>(k));
        }
    }
    c.seconds = h5::Dataset::open(group.id(), "seconds").read_double_at(at);
    return c;
}

struct SweepReader::Columns {
    std::vector<h5::Group> blocks;  // weights/, spectrum/
    hsize_t records = 0, components = 0;
    std::vector<long long> status, step, k, checkpoint_step;
    std::vector<long long> weight_block, weight_slot, spectrum_block, spectrum_slot;
    std::vector<double> time, gd_sv, theory_sv;
    std::vector<std::pair<const Series*, std::vector<double>>> series;
    std::vector<std::vector<double>> numbers;  // by result column (empty: not of that type)
    std::vector<std::vector<long long>> integers;
    std::vector<std::vector<std::string>> texts;
};

SweepReader::SweepReader(const h5::File& file, const std::string& sweep)
    : columns_(std::make_unique<Columns>()) {
    Columns& c = *columns_;
    const auto group = h5::Group::open(file.id(), schema::sweep_path(sweep));
    auto read = [&](const char* name) { return h5::Dataset::open(group.id(), name); };
    c.status = read(schema::status).read_integers();
    const auto step = read(schema::step);
    c.records = step.dims().at(1);
    c.step = step.read_integers();
    c.time = read(schema::time).read_doubles();
    c.k = read("k").read_integers();
    const auto gd_sv = read("gd_singular_values");
    c.components = gd_sv.dims().at(2);
    c.gd_sv = gd_sv.read_doubles();
    c.theory_sv = read("theory_singular_values").read_doubles();
    for (const auto& s : recorded_series())
        if (group.exists(s.dataset))
            c.series.emplace_back(&s, h5::Dataset::open(group.id(), s.dataset).read_doubles());
    for (const auto& column : schema::result_columns()) {
        const auto d = h5::Dataset::open(group.id(), column.name);
        c.numbers.push_back(column.type == schema::ColumnType::number ? d.read_doubles()
                                                                      : std::vector<double>{});
        c.integers.push_back(column.type == schema::ColumnType::integer ? d.read_integers()
                                                                        : std::vector<long long>{});
        c.texts.push_back(column.type == schema::ColumnType::text ? d.read_strings()
                                                                  : std::vector<std::string>{});
    }
    c.blocks.push_back(group.open_group(schema::weights_group));
    c.blocks.push_back(group.open_group(schema::spectrum_group));
    const hid_t weights = c.blocks[0].id(), spectra = c.blocks[1].id();
    c.checkpoint_step = h5::Dataset::open(weights, schema::checkpoint_step).read_integers();
    c.weight_block = h5::Dataset::open(weights, "block").read_integers();
    c.weight_slot = h5::Dataset::open(weights, "slot").read_integers();
    c.spectrum_block = h5::Dataset::open(spectra, "block").read_integers();
    c.spectrum_slot = h5::Dataset::open(spectra, "slot").read_integers();
}

SweepReader::~SweepReader() = default;

namespace {

// Slot `slot` of a (slots, rows, cols) block as the rows x cols matrix.
Matrix block_matrix(const h5::Group& group, const std::string& name, long long slot) {
    const auto d = h5::Dataset::open(group.id(), name);
    const auto dims = d.dims();
    const auto values = d.read_rows(static_cast<hsize_t>(slot), 1);
    Matrix wt(static_cast<Index>(dims.at(2)), static_cast<Index>(dims.at(1)));
    std::copy(values.begin(), values.end(), wt.data());
    return transpose(wt);
}

}  // namespace

StoredRun SweepReader::run(Index row) const {
    const Columns& c = *columns_;
    const auto r = static_cast<std::size_t>(row);
    StoredRun s;
    s.row = row;
    s.status = static_cast<RunStatus>(c.status.at(r));
    const std::size_t records = c.records, components = c.components;
    const auto k = static_cast<std::size_t>(c.k.at(r));
    for (std::size_t i = 0; i < records && c.step[r * records + i] >= 0; ++i) {
        Record rec;
        rec.step = c.step[r * records + i];
        rec.t = c.time[r * records + i];
        for (const auto& [series, values] : c.series) series->set(rec, values[r * records + i]);
        const std::size_t at = (r * records + i) * components;
        rec.simulated.singular_values.assign(c.gd_sv.begin() + static_cast<std::ptrdiff_t>(at),
                                             c.gd_sv.begin() + static_cast<std::ptrdiff_t>(at + k));
        rec.theory.singular_values.assign(
            c.theory_sv.begin() + static_cast<std::ptrdiff_t>(at),
            c.theory_sv.begin() + static_cast<std::ptrdiff_t>(at + k));
        s.records.push_back(std::move(rec));
    }
    for (std::size_t column = 0; column < c.numbers.size(); ++column) {
        if (!c.numbers[column].empty()) s.numbers[column] = c.numbers[column][r];
        if (!c.integers[column].empty()) s.integers[column] = c.integers[column][r];
        if (!c.texts[column].empty()) s.texts[column] = c.texts[column][r];
    }
    const auto block = static_cast<std::size_t>(c.weight_block.at(r));
    s.w0 = block_matrix(c.blocks[0], block_name("W0", block), c.weight_slot[r]);
    s.checkpoint_step = c.checkpoint_step.at(r);
    if (s.checkpoint_step >= 0)
        s.w = block_matrix(c.blocks[0], block_name("W", block), c.weight_slot[r]);
    const auto spectrum =
        h5::Dataset::open(
            c.blocks[1].id(),
            block_name("eigenvalues", static_cast<std::size_t>(c.spectrum_block.at(r))))
            .read_rows(static_cast<hsize_t>(c.spectrum_slot.at(r)), 1);
    if (std::any_of(spectrum.begin(), spectrum.end(), [](double v) { return !std::isnan(v); }))
        s.spectrum = spectrum;
    return s;
}

std::string stored_signature(const h5::File& file, const std::string& sweep) {
    std::string out;
    const auto group = h5::Group::open(file.id(), schema::sweep_path(sweep));
    for (const auto& id : h5::Dataset::open(group.id(), schema::run_dimension).read_strings())
        out += id + "\n";
    return out;
}

std::vector<RunStatus> read_statuses(const h5::File& file, const std::string& sweep) {
    std::vector<RunStatus> out;
    const auto group = h5::Group::open(file.id(), schema::sweep_path(sweep));
    for (long long code : h5::Dataset::open(group.id(), schema::status).read_integers()) {
        if (code < 0 || code > 3)
            throw RuntimeFailure("sweep '" + sweep + "': invalid run status " +
                                 std::to_string(code));
        out.push_back(static_cast<RunStatus>(code));
    }
    return out;
}

}  // namespace ssldyn
