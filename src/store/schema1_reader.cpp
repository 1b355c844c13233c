#include "store/schema1_reader.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "core/error.hpp"
#include "run/model_table.hpp"
#include "store/h5/attribute.hpp"
#include "store/h5/dataset.hpp"
#include "store/run_series.hpp"
#include "store/schema.hpp"

namespace ssldyn::schema1 {

namespace {

// The sweep attributes besides config, run_count, axes and shard (which the plan gives).
struct CopiedAttribute {
    const char* name;
    bool text;  // else an integer
};
const std::vector<CopiedAttribute>& copied_attributes() {
    static const std::vector<CopiedAttribute> table{
        {"program_version", true}, {"git_commit", true},
        {"git_dirty", false},      {"mpi_library", true},
        {"hdf5_library", true},    {"mpi_ranks", false},
        {"group_size", false},     {"distribute_above", false},
        {"block_size", false},     {"grid", true},
        {"blas_threads", false},   {"merged_from", true},
    };
    return table;
}

template <class Read>
auto read(const std::string& path, Read&& r) -> decltype(r()) {
    return read_store(path, std::forward<Read>(r), version);
}

// A (rows, cols) dataset, row-major on disk, as a matrix.
Matrix read_matrix(const h5::Group& group, const std::string& name) {
    const auto d = h5::Dataset::open(group.id(), name);
    const auto dims = d.dims();
    const auto values = d.read_doubles();
    Matrix transposed(static_cast<Index>(dims.at(1)), static_cast<Index>(dims.at(0)));
    std::copy(values.begin(), values.end(), transposed.data());
    return transpose(transposed);
}

}  // namespace

h5::File open_store(const std::string& path) {
    require_store_file(path);
    if (!h5::is_hdf5(path)) throw InputError(path + ": not an HDF5 file");
    h5::File file = read(path, [&] { return h5::File::open(path, h5::Mode::read_only); });
    const auto root = file.root();
    if (!read(path, [&] { return h5::has_attribute(root.id(), "schema_version"); }))
        throw InputError(path + ": not an ssldyn store (no schema_version attribute)");
    const long long v =
        read(path, [&] { return h5::read_integer_attribute(root.id(), "schema_version"); });
    if (v == schema::version)
        throw InputError(path + ": store has schema_version " + std::to_string(v) +
                         " already: nothing to upgrade");
    if (v != version)
        throw InputError(path + ": store has schema_version " + std::to_string(v) +
                         ", ssldyn upgrade reads " + std::to_string(version));
    return file;
}

Sweep::Sweep(const h5::File& file, const std::string& path, const std::string& name)
    : path_(path),
      name_(name),
      group_(read(path, [&] { return h5::Group::open(file.id(), schema::sweep_path(name)); })) {
    const std::string what = path + ": sweep '" + name + "'";
    read(path, [&] {
        ids_ = h5::Dataset::open(group_.id(), "index/run_id").read_strings();
        for (long long code : h5::Dataset::open(group_.id(), "status").read_integers()) {
            if (code < 0 || code > 3)
                throw InputError(what + ": invalid run status " + std::to_string(code));
            status_.push_back(static_cast<RunStatus>(code));
        }
        if (status_.size() != ids_.size())
            throw InputError(what + ": " + std::to_string(status_.size()) + " statuses for " +
                             std::to_string(ids_.size()) + " runs");
        for (const auto& [attribute, text] : copied_attributes()) {
            std::optional<AttributeValue> value;
            if (h5::has_attribute(group_.id(), attribute)) {
                if (text)
                    value = h5::read_string_attribute(group_.id(), attribute);
                else
                    value = h5::read_integer_attribute(group_.id(), attribute);
            }
            attributes_.emplace_back(attribute, std::move(value));
        }
        const auto result = group_.open_group("index").open_group("result");
        for (const auto& c : schema::result_columns()) {
            const bool stored = result.exists(c.name);  // older stores lack later columns
            auto column = [&] { return h5::Dataset::open(result.id(), c.name); };
            numbers_.push_back(stored && c.type == schema::ColumnType::number
                                   ? column().read_doubles()
                                   : std::vector<double>{});
            integers_.push_back(stored && c.type == schema::ColumnType::integer
                                    ? column().read_integers()
                                    : std::vector<long long>{});
            texts_.push_back(stored && c.type == schema::ColumnType::text
                                 ? column().read_strings()
                                 : std::vector<std::string>{});
            const std::size_t rows =
                numbers_.back().size() + integers_.back().size() + texts_.back().size();
            if (stored && rows != ids_.size())
                throw InputError(what + ": result column " + c.name + " holds " +
                                 std::to_string(rows) + " rows for " + std::to_string(ids_.size()) +
                                 " runs");
        }
    });

    // Each run's d is the length of its spectrum; runs of other shards are not here (and are
    // dropped by shard_of below).
    std::map<std::string, Index> dimension;
    read(path, [&] {
        const auto runs = group_.open_group("runs");
        for (const auto& id : ids_)
            dimension[id] = static_cast<Index>(
                h5::Dataset::open(runs.id(), id + "/spectrum/eigenvalues").dims().at(0));
    });
    const std::string config =
        read(path, [&] { return h5::read_string_attribute(group_.id(), "config"); });
    plan_ = parse_sweep_plan(config, what + " (its stored config)", [&](const RunConfig& c) {
        const auto found = dimension.find(run_id(c));
        return found == dimension.end() ? Index{0} : found->second;
    });
    if (read(path, [&] { return h5::has_attribute(group_.id(), "shard"); }))
        plan_ = shard_of(
            plan_,
            parse_shard(read(path, [&] { return h5::read_string_attribute(group_.id(), "shard"); }),
                        what + " (its shard attribute)"));
    std::string stored;
    for (const auto& id : ids_) stored += id + "\n";
    if (stored != plan_.signature())
        throw InputError(what + " holds other runs (" + std::to_string(ids_.size()) +
                         ") than its stored config expands to (" +
                         std::to_string(plan_.runs.size()) + ")");
}

StoredRun Sweep::run(Index row) const {
    const auto r = static_cast<std::size_t>(row);
    StoredRun s;
    s.row = row;
    s.status = status_.at(r);
    read(path_, [&] {
        const auto run = group_.open_group("runs").open_group(ids_.at(r));
        const auto trajectory = run.open_group("trajectory"), theory = run.open_group("theory");
        const auto steps = h5::Dataset::open(trajectory.id(), "step").read_integers();
        if (h5::Dataset::open(theory.id(), "step").read_integers() != steps)
            throw InputError(path_ + ": run " + ids_[r] + " of sweep '" + name_ +
                             "': its theory's records are at other steps than its own");
        const auto times = h5::Dataset::open(trajectory.id(), "t").read_doubles();
        // The records reached: those before the first step of -1.
        const auto reached = static_cast<std::size_t>(
            std::find_if(steps.begin(), steps.end(), [](long long v) { return v < 0; }) -
            steps.begin());
        s.records.resize(reached);
        for (std::size_t i = 0; i < reached; ++i) {
            s.records[i].step = steps[i];
            s.records[i].t = times[i];
        }
        // Every series of the run's model (a linear run has no network values): one missing
        // is a damaged store.
        const RunConfig& config = plan_.runs.at(r);
        const bool network = model_kind(config).record_layout(config).network;
        for (const auto& series : recorded_series()) {
            if (series.network_only && !network) continue;
            const auto values =
                h5::Dataset::open(run.open_group(series.group).id(), series.name).read_doubles();
            for (std::size_t i = 0; i < reached; ++i) series.set(s.records[i], values.at(i));
        }
        for (auto [side, group] : {std::make_pair(&Record::simulated, &trajectory),
                                   std::make_pair(&Record::theory, &theory)}) {
            const auto d = h5::Dataset::open(group->id(), "singular_values");
            const auto k = static_cast<std::ptrdiff_t>(d.dims().at(1));
            const auto values = d.read_doubles();
            for (std::size_t i = 0; i < reached; ++i)
                (s.records[i].*side)
                    .singular_values.assign(
                        values.begin() + static_cast<std::ptrdiff_t>(i) * k,
                        values.begin() + static_cast<std::ptrdiff_t>(i + 1) * k);
        }
        s.w0 = read_matrix(run.open_group("init"), "W0");
        const auto checkpoint = run.open_group("checkpoint");
        s.checkpoint_step = h5::Dataset::open(checkpoint.id(), "step").read_integers().at(0);
        if (s.checkpoint_step >= 0) s.w = read_matrix(checkpoint, "W");
        // A run not started has none: NaN throughout.
        const auto spectrum =
            h5::Dataset::open(run.open_group("spectrum").id(), "eigenvalues").read_doubles();
        if (std::any_of(spectrum.begin(), spectrum.end(), [](double v) { return !std::isnan(v); }))
            s.spectrum = spectrum;
    });
    for (std::size_t c = 0; c < numbers_.size(); ++c) {
        if (!numbers_[c].empty()) s.numbers[c] = numbers_[c].at(r);
        if (!integers_[c].empty()) s.integers[c] = integers_[c].at(r);
        if (!texts_[c].empty()) s.texts[c] = texts_[c].at(r);
    }
    // Schema 1 kept the data a run read on its group; schema 2 keeps it with a finished run's
    // results.
    if (s.status == RunStatus::done || s.status == RunStatus::failed)
        read(path_, [&] {
            const auto run = group_.open_group("runs").open_group(ids_.at(r));
            if (h5::has_attribute(run.id(), "data_source"))
                s.set("data_source", h5::read_string_attribute(run.id(), "data_source"));
        });
    return s;
}

}  // namespace ssldyn::schema1
