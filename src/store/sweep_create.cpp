// Creating a sweep's arrays (README "The HDF5 store"), out of sight until the last step.
#include <algorithm>
#include <numeric>

#include "core/stop_signals.hpp"
#include "run/driver.hpp"
#include "store/events.hpp"
#include "store/h5/attribute.hpp"
#include "store/h5/dimension_scale.hpp"
#include "store/run_series.hpp"
#include "store/sweep_store.hpp"

namespace ssldyn {

namespace {

// Blocks of weights larger than this are not filled when created (filling is a write of all of
// it).
constexpr hsize_t filled_block_bytes = hsize_t{64} << 20;

void describe(hid_t object, const std::string& units, const std::string& description) {
    h5::write_attribute(object, "units", units);
    h5::write_attribute(object, "description", description);
}

// The width of a text column: the schema's, but for the data a run read, known from the plan.
std::size_t text_length(const schema::Column& c, const SweepLayout& layout) {
    return c.name == "data_source" ? layout.data_source_length : c.length;
}

// The settings' names: the `coordinates` of every dataset along the runs but the settings.
std::string settings_coordinates() {
    std::string coordinates;
    for (const auto& key : config_keys())
        coordinates += (coordinates.empty() ? "" : " ") + std::string(key.name);
    return coordinates;
}

// A result column along the runs (run_scale), fill NaN, -1 or empty text.
void create_result_column(hid_t sweep, const schema::Column& c, hsize_t runs, std::size_t length,
                          const h5::Dataset& run_scale) {
    const auto column = c.type == schema::ColumnType::number
                            ? h5::Dataset::create_doubles(sweep, c.name, {runs})
                        : c.type == schema::ColumnType::integer
                            ? h5::Dataset::create_integers(sweep, c.name, {runs}, -1)
                            : h5::Dataset::create_strings(sweep, c.name, runs, length);
    if (c.type == schema::ColumnType::text) h5::write_attribute(column.id(), "_Encoding", "utf-8");
    describe(column.id(), c.units, c.description);
    h5::attach_dimension_scale(column, run_scale, 0);
    h5::write_attribute(column.id(), "coordinates", settings_coordinates());
}

// A result per run and eigen-direction (run, component), fill NaN.
void create_component_column(hid_t sweep, const schema::ComponentColumn& c, hsize_t runs,
                             hsize_t components, const h5::Dataset& run_scale,
                             const h5::Dataset& component_scale) {
    const auto column = h5::Dataset::create_doubles(sweep, c.name, {runs, components});
    describe(column.id(), "1", c.description);
    h5::attach_dimension_scale(column, run_scale, 0);
    h5::attach_dimension_scale(column, component_scale, 1);
    h5::write_attribute(column.id(), "coordinates", settings_coordinates());
}

// The series datasets a sweep has: the network ones only where some run is a network.
std::vector<const Series*> series_of(bool network) {
    std::vector<const Series*> out;
    for (const auto& s : recorded_series())
        if (network || !s.network_only) out.push_back(&s);
    return out;
}

}  // namespace

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
        counting(schema::component_dimension, components,
                 "component number: of the singular values, descending, and of the eigenvectors "
                 "of C, eigenvalues descending (modes, rise times)");

    const std::string coordinates = settings_coordinates();
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

    // Stop points between datasets: a large sweep takes seconds to build, and a stop signal
    // (mpirun's SIGTERM is followed by SIGKILL a second later) must not wait for it.
    for (const auto& key : config_keys()) {
        stop_point();
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
        stop_point();
        create_result_column(sweep.id(), c, runs, text_length(c, layout), run_scale);
    }
    create_events(sweep.id());

    along_runs(h5::Dataset::create_integers(sweep.id(), schema::step, {runs, records}, -1), "1",
               "gradient-descent step of the record (-1: not reached)");
    along_runs(h5::Dataset::create_doubles(sweep.id(), schema::time, {runs, records}), "1",
               "time t = eta * step (THEORY §4)");
    for (const Series* s : series_of(layout.network)) {
        stop_point();
        const std::string what = s->group == "trajectory" ? "gradient descent: "
                                 : s->group == "theory"   ? layout.theory + ": "
                                                          : "";
        const std::string description =
            s->name == "theory_distance" ? layout.theory_distance : what + s->description;
        along_runs(h5::Dataset::create_doubles(sweep.id(), s->dataset, {runs, records}), s->units,
                   description);
    }
    for (const auto& s : component_series())
        along_runs(
            h5::Dataset::create_doubles(sweep.id(), s.dataset, {runs, records, components}), "1",
            (s.side == &Record::simulated ? std::string("gradient descent") : layout.theory) +
                ": " + s.describe(layout.singular_values));
    for (const auto& c : schema::component_columns())
        create_component_column(sweep.id(), c, runs, components, run_scale, component_scale);

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
        stop_point();
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
    stop_point();
    sweep.link_as(h5::Group::open(file.id(), "/sweeps").id(), plan.name);
}

void add_provenance_tables(const h5::File& file, const std::string& name) {
    const auto sweep = h5::Group::open(file.id(), schema::sweep_path(name));
    const auto run_scale = h5::Dataset::open(sweep.id(), schema::run_dimension);
    const hsize_t runs = run_scale.dims().at(0);
    for (const auto& c : schema::result_columns())
        if (!sweep.exists(c.name)) create_result_column(sweep.id(), c, runs, c.length, run_scale);
    if (!has_events(file, name)) add_events(file, name);
}

std::uintmax_t sweep_bytes(const SweepPlan& plan, const SweepLayout& layout) {
    const std::uintmax_t runs = plan.runs.size(), records = layout.records,
                         components = layout.components;
    std::uintmax_t per_run = 1 + schema::run_id_length + 3 * 8 + 2 * 8;  // status, id, blocks
    per_run += 8 * config_keys().size() + 64;                            // settings (text: a guess)
    for (const auto& c : schema::result_columns())
        per_run += c.type == schema::ColumnType::text ? text_length(c, layout) : 8;
    per_run += 8 * records *
               (2 + series_of(layout.network).size() + component_series().size() * components);
    per_run += 8 * components * schema::component_columns().size();
    std::uintmax_t bytes = runs * per_run;
    for (const auto& b : layout.weights.blocks) bytes += 2 * 8 * b.slots * b.slot_size();
    for (const auto& b : layout.spectra.blocks) bytes += 8 * b.slots * b.slot_size();
    // HDF5's object headers, attributes and heaps: a few KiB per dataset.
    return bytes + (std::uintmax_t{1} << 20) + 8192 * (200 + 2 * layout.weights.blocks.size());
}

}  // namespace ssldyn
