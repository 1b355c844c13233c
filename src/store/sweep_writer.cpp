#include "store/sweep_writer.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <numeric>
#include <type_traits>

#include "core/error.hpp"
#include "core/invocation.hpp"
#include "store/h5/dataset.hpp"
#include "store/run_series.hpp"
#include "store/schema.hpp"
#include "store/sweep_layout.hpp"

namespace ssldyn {

namespace {

using Clock = std::chrono::steady_clock;
constexpr double nan = std::numeric_limits<double>::quiet_NaN();
// Weights of more bytes than this a run are written at once rather than staged (staging copies
// them).
constexpr hsize_t staged_slot_bytes = hsize_t{8} << 20;

std::vector<double> row_major(const Matrix& m) {
    const Matrix t = transpose(m);
    return std::vector<double>(t.data(), t.data() + t.rows() * t.cols());
}

}  // namespace

// The open datasets of a sweep, by number, and where each run's blocks are.
struct SweepWriter::Targets {
    std::vector<h5::Dataset> all;
    std::size_t status = 0, step = 0, time = 0, checkpoint_step = 0;
    std::vector<std::pair<const Series*, std::size_t>> series;
    // The (run, record, component) series and the (run, component) results a store has (those of
    // THEORY §6.5 are absent from a store written before them).
    std::vector<std::pair<const ComponentSeries*, std::size_t>> component_series;
    std::vector<std::pair<std::size_t, std::size_t>> component_results;  // column, dataset
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
    t.components = h5::Dataset::open(group.id(), schema::component_dimension).dims().at(0);
    for (const auto& s : component_series())
        if (group.exists(s.dataset))
            t.component_series.emplace_back(&s, t.open(group.id(), s.dataset));
    const auto& component_columns = schema::component_columns();
    for (std::size_t c = 0; c < component_columns.size(); ++c)
        if (group.exists(component_columns[c].name))
            t.component_results.emplace_back(c, t.open(group.id(), component_columns[c].name));
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
    for (const auto& [series, target] : t.component_series) {
        std::vector<double> v(records * components, nan);
        for (std::size_t i = 0; i < run.records.size(); ++i) {
            const auto& s = (run.records[i].*(series->side)).*(series->values);
            std::copy_n(s.begin(), std::min<std::size_t>(s.size(), components),
                        v.begin() + static_cast<std::ptrdiff_t>(i * components));
        }
        batch.add(target, row, v);
    }
    for (const auto& [column, target] : t.component_results) {
        std::vector<double> v(components, nan);
        const auto& s = run.components[column];
        std::copy_n(s.begin(), std::min<std::size_t>(s.size(), components), v.begin());
        batch.add(target, row, v);
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

void SweepWriter::write_checkpoint(Index row, const RunConfig&, const RunState& state,
                                   double started, long long event) {
    StoredRun run;
    run.row = row;
    run.status = RunStatus::running;
    run.records = state.records;
    run.w = state.w;
    run.checkpoint_step = state.step;
    run.set("seconds", state.seconds);
    run.set_ran(started, utc_seconds(), event);
    Batch now;
    stage(now, run);
    write(now);
}

}  // namespace ssldyn
