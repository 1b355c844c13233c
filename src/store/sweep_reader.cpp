#include "store/sweep_reader.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "store/h5/dataset.hpp"
#include "store/run_series.hpp"
#include "store/schema.hpp"
#include "store/sweep_layout.hpp"

namespace ssldyn {

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
    for (const auto& s : component_series()) {
        if (!group.exists(s.dataset)) continue;
        const auto d = h5::Dataset::open(group.id(), s.dataset);
        const auto components = static_cast<std::size_t>(d.dims().at(2));
        const auto v = d.read_rows(at, 1);
        for (std::size_t i = 0; i < c.records.size(); ++i) {
            const auto from = v.begin() + static_cast<std::ptrdiff_t>(i * components);
            ((c.records[i].*(s.side)).*(s.values))
                .assign(from, from + static_cast<std::ptrdiff_t>(k));
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
    std::vector<double> time;
    std::vector<std::pair<const Series*, std::vector<double>>> series;
    std::vector<std::pair<const ComponentSeries*, std::vector<double>>> component_series;
    std::vector<std::vector<double>> component_results;  // by column (empty: absent)
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
    c.components = read(schema::component_dimension).dims().at(0);
    for (const auto& s : component_series())
        if (group.exists(s.dataset))
            c.component_series.emplace_back(
                &s, h5::Dataset::open(group.id(), s.dataset).read_doubles());
    for (const auto& column : schema::component_columns())
        c.component_results.push_back(group.exists(column.name) ? read(column.name).read_doubles()
                                                                : std::vector<double>{});
    for (const auto& s : recorded_series())
        if (group.exists(s.dataset))
            c.series.emplace_back(&s, h5::Dataset::open(group.id(), s.dataset).read_doubles());
    for (const auto& column : schema::result_columns()) {
        // A column added after the store was written reads as not set (NaN, -1, empty).
        const bool present = group.exists(column.name);
        auto read_if = [&](schema::ColumnType type, auto reader) {
            using Values = decltype(reader(h5::Dataset::open(group.id(), column.name)));
            return present && column.type == type
                       ? reader(h5::Dataset::open(group.id(), column.name))
                       : Values{};
        };
        c.numbers.push_back(read_if(schema::ColumnType::number,
                                    [](const h5::Dataset& d) { return d.read_doubles(); }));
        c.integers.push_back(read_if(schema::ColumnType::integer,
                                     [](const h5::Dataset& d) { return d.read_integers(); }));
        c.texts.push_back(read_if(schema::ColumnType::text,
                                  [](const h5::Dataset& d) { return d.read_strings(); }));
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
        for (const auto& [series, values] : c.component_series)
            ((rec.*(series->side)).*(series->values))
                .assign(values.begin() + static_cast<std::ptrdiff_t>(at),
                        values.begin() + static_cast<std::ptrdiff_t>(at + k));
        s.records.push_back(std::move(rec));
    }
    for (std::size_t column = 0; column < c.component_results.size(); ++column)
        if (!c.component_results[column].empty()) {
            const auto from =
                c.component_results[column].begin() + static_cast<std::ptrdiff_t>(r * components);
            s.components[column].assign(from, from + static_cast<std::ptrdiff_t>(k));
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

std::vector<long long> read_saved_steps(const h5::File& file, const std::string& sweep) {
    const auto weights =
        h5::Group::open(file.id(), schema::sweep_path(sweep)).open_group(schema::weights_group);
    return h5::Dataset::open(weights.id(), schema::checkpoint_step).read_integers();
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
