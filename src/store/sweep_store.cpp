#include "store/sweep_store.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <set>

#include "core/error.hpp"
#include "core/file_kind.hpp"
#include "run/driver.hpp"
#include "run/model_table.hpp"
#include "store/h5/attribute.hpp"
#include "store/h5/dataset.hpp"
#include "store/lock.hpp"
#include "store/schema.hpp"

namespace ssldyn {

namespace {

void describe(hid_t object, const char* units, const std::string& description) {
    h5::write_attribute(object, "units", units);
    h5::write_attribute(object, "description", description);
}

hsize_t size(Index n) {
    return static_cast<hsize_t>(n);
}

// The datasets of one side (gradient descent or theory) of a run, at their final size.
void create_side(const h5::Group& group, Index records, Index k, const std::string& what,
                 const RecordLayout& layout, bool with_distance) {
    describe(h5::Dataset::create_integers(group.id(), "step", {size(records)}, -1).id(), "1",
             "gradient-descent step of the record (-1: not reached)");
    describe(h5::Dataset::create_doubles(group.id(), "t", {size(records)}).id(), "1",
             "time t = eta * step (THEORY 4)");
    for (const auto& metric : schema::metrics())
        describe(h5::Dataset::create_doubles(group.id(), metric.name, {size(records)}).id(),
                 metric.units, what + ": " + metric.description);
    describe(
        h5::Dataset::create_doubles(group.id(), "singular_values", {size(records), size(k)}).id(),
        "1", what + ": singular values of " + layout.singular_values + ", descending");
    if (with_distance)
        describe(h5::Dataset::create_doubles(group.id(), "theory_distance", {size(records)}).id(),
                 "1", layout.theory_distance);
}

void write_doubles(const h5::Group& group, const char* name, std::vector<double> values,
                   Index length) {
    values.resize(static_cast<std::size_t>(length), std::numeric_limits<double>::quiet_NaN());
    h5::Dataset::open(group.id(), name).write(values.data());
}

// A matrix as a row-major (rows x cols) dataset: column-major storage of its transpose.
void write_matrix(const h5::Group& group, const char* name, const Matrix& m) {
    h5::Dataset::open(group.id(), name).write(transpose(m).data());
}

void write_side(const h5::Group& group, const std::vector<Record>& records, Snapshot Record::*side,
                Index length, Index k) {
    std::vector<long long> steps(static_cast<std::size_t>(length), -1);
    std::vector<double> t;
    for (std::size_t i = 0; i < records.size(); ++i) {
        steps[i] = records[i].step;
        t.push_back(records[i].t);
    }
    h5::Dataset::open(group.id(), "step").write(steps.data());
    write_doubles(group, "t", t, length);
    for (const auto& metric : schema::metrics()) {
        std::vector<double> values;
        for (const auto& r : records) values.push_back((r.*side).*(metric.field));
        write_doubles(group, metric.name, values, length);
    }
    Matrix sv(length, k, std::numeric_limits<double>::quiet_NaN());
    for (std::size_t i = 0; i < records.size(); ++i)
        for (Index j = 0; j < k; ++j)
            sv(static_cast<Index>(i), j) =
                (records[i].*side).singular_values[static_cast<std::size_t>(j)];
    write_matrix(group, "singular_values", sv);
}

// Inverse of write_side for the records up to step `last`.
void read_side(const h5::Group& group, Snapshot Record::*side, Index last, Index k,
               std::vector<Record>& records) {
    const auto steps = h5::Dataset::open(group.id(), "step").read_integers();
    const auto t = h5::Dataset::open(group.id(), "t").read_doubles();
    const auto sv = h5::Dataset::open(group.id(), "singular_values").read_doubles();
    std::vector<std::vector<double>> metric_values;
    for (const auto& metric : schema::metrics())
        metric_values.push_back(h5::Dataset::open(group.id(), metric.name).read_doubles());
    for (std::size_t i = 0; i < steps.size() && steps[i] >= 0 && steps[i] <= last; ++i) {
        if (records.size() <= i) records.emplace_back();
        Record& r = records[i];
        r.step = steps[i];
        r.t = t[i];
        Snapshot& snapshot = r.*side;
        for (std::size_t m = 0; m < schema::metrics().size(); ++m)
            snapshot.*(schema::metrics()[m].field) = metric_values[m][i];
        const auto row = sv.begin() + static_cast<std::ptrdiff_t>(i) * k;
        snapshot.singular_values.assign(row, row + k);
    }
}

// A k x d dataset filled with NaN: a checkpoint that holds nothing.
Matrix nan_like(const h5::Dataset& dataset) {
    const auto dims = dataset.dims();
    return Matrix(static_cast<Index>(dims.at(0)), static_cast<Index>(dims.at(1)),
                  std::numeric_limits<double>::quiet_NaN());
}

// The whole of a file, for an in-memory copy of a store.
std::vector<unsigned char> read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<unsigned char> bytes;
    if (in) bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (!in || in.bad())
        throw RuntimeFailure(path + ": cannot read the store (" + std::strerror(errno) + ")");
    return bytes;
}

// bytes into a new file `temporary`: InputError when it cannot be created (an unwritable
// folder), RuntimeFailure naming the store when the writing fails (a full disk).
void write_new_file(const std::string& path, const std::string& temporary,
                    const std::vector<unsigned char>& bytes) {
    const int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (fd < 0)
        throw InputError(path + ": cannot write store (" + std::string(std::strerror(errno)) + ")");
    int error = 0;
    for (std::size_t done = 0; done < bytes.size();) {
        const ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            error = n < 0 ? errno : EIO;
            break;
        }
        done += static_cast<std::size_t>(n);
    }
    if (close(fd) != 0 && error == 0) error = errno;
    if (error != 0) {
        std::remove(temporary.c_str());
        throw RuntimeFailure(path + ": cannot write store (" + std::strerror(error) + ")");
    }
}

// The temporary file a store is written into before it is renamed into place, beside it.
std::string temporary_of(const std::string& target) {
    return target + ".partial-" + std::to_string(getpid());
}

}  // namespace

std::string link_target(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path file = path;
    // As the kernel does, at most 40 links; a loop is left to fail where the store is opened.
    for (int hops = 0; hops < 40 && fs::is_symlink(file, ec); ++hops) {
        const fs::path target = fs::read_symlink(file, ec);
        if (ec) break;
        file = target.is_absolute() ? target : file.parent_path() / target;
    }
    return file.string();
}

void initialise_store(const h5::File& file) {
    const auto root = file.root();
    h5::write_attribute(root.id(), "schema_version", schema::version);
    h5::write_attribute(root.id(), "creator", version_text());
}

void check_store_schema(const h5::File& file, const std::string& path) {
    const auto root = file.root();
    if (!h5::has_attribute(root.id(), "schema_version"))
        throw InputError(path + ": not an ssldyn store (no schema_version attribute)");
    const long long v =
        read_store(path, [&] { return h5::read_integer_attribute(root.id(), "schema_version"); });
    if (v != schema::version)
        throw InputError(path + ": store has schema_version " + std::to_string(v) +
                         ", this ssldyn reads " + std::to_string(schema::version));
}

void require_store_file(const std::string& path) {
    struct stat info {};
    if (stat(path.c_str(), &info) != 0) throw InputError(path + ": no such store");
    if (S_ISDIR(info.st_mode)) throw InputError(path + ": is a folder, not a store file");
    if (!S_ISREG(info.st_mode))
        throw InputError(path + ": is " + file_kind(info.st_mode) +
                         ", not a regular file (a store is an HDF5 file)");
}

void check_store_writable(const std::string& path) {
    require_store_file(path);
    // Opened for writing and closed at once, which changes nothing: an immutable file
    // (chattr +i), a read-only mount or, for others than root, a read-only file say no here
    // rather than deep inside HDF5.
    const int fd = open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) throw InputError(path + ": store is not writable (" + std::strerror(errno) + ")");
    close(fd);
}

h5::File open_store(const std::string& path) {
    require_store_file(path);
    if (!h5::is_hdf5(path)) throw InputError(path + ": not an HDF5 file");
    h5::File file = read_store(path, [&] { return h5::File::open(path, h5::Mode::read_only); });
    check_store_schema(file, path);
    return file;
}

bool has_sweep(const h5::File& file, const std::string& sweep) {
    const auto root = file.root();
    return root.exists("sweeps") && root.open_group("sweeps").exists(sweep);
}

void create_sweep(const h5::File& file, const SweepPlan& plan, const Provenance& p,
                  bool with_runs) {
    const auto count = static_cast<hsize_t>(plan.runs.size());
    const auto sweep = h5::Group::create(file.id(), schema::sweep_path(plan.name));
    h5::write_attribute(sweep.id(), "config", plan.source);
    h5::write_attribute(sweep.id(), "run_count", static_cast<long long>(count));
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

    const auto status = h5::Dataset::create_integers(sweep.id(), "status", {count}, 0);
    describe(status.id(), "1", "per run: 0 pending, 1 running, 2 done, 3 failed");

    // The axes as datasets: the distinct values of each, in order of appearance.
    const auto axes_group = sweep.create_group("axes");
    for (const auto& key : plan.axes) {
        std::vector<std::string> values;
        for (const auto& run : plan.runs) {
            const std::string v = get_value(run, key);
            if (std::find(values.begin(), values.end(), v) == values.end()) values.push_back(v);
        }
        std::size_t length = 1;
        for (const auto& v : values) length = std::max(length, v.size());
        h5::Dataset::create_strings(axes_group.id(), key, values.size(), length).write(values);
    }

    // The index: one row per run, so that queries need not open the runs.
    const auto index = sweep.create_group("index");
    std::vector<std::string> ids;
    for (const auto& run : plan.runs) ids.push_back(run_id(run));
    const auto id_column = h5::Dataset::create_strings(index.id(), "run_id", count, 16);
    id_column.write(ids);
    describe(id_column.id(), "1", "run id (hash of the canonical config)");
    const auto config = index.create_group("config");
    for (const auto& key : config_keys()) {
        std::vector<std::string> values;
        std::size_t length = 1;
        for (const auto& run : plan.runs) {
            values.push_back(key.print(run));
            length = std::max(length, values.back().size());
        }
        const auto column =
            h5::Dataset::create_strings(config.id(), std::string(key.name), count, length);
        column.write(values);
        describe(column.id(), "1", std::string(key.help));
    }
    const auto result = index.create_group("result");
    for (const auto& c : schema::result_columns()) {
        const auto column = c.type == schema::ColumnType::number
                                ? h5::Dataset::create_doubles(result.id(), c.name, {count})
                            : c.type == schema::ColumnType::integer
                                ? h5::Dataset::create_integers(result.id(), c.name, {count}, -1)
                                : h5::Dataset::create_strings(result.id(), c.name, count, c.length);
        describe(column.id(), "1", c.description);
    }

    if (!with_runs) return;
    // Runs of one shape share a template group, built once in memory with every dataset and
    // its units and meaning, and copied into place: far fewer calls than building each run.
    const h5::File scratch = h5::File::in_memory("ssldyn-run-templates");
    std::map<std::string, std::string> templates;  // shape -> template path in scratch
    for (std::size_t i = 0; i < plan.runs.size(); ++i) {
        const RunConfig& c = plan.runs[i];
        const Index records = record_count(c), d = plan.dimensions[i];
        const ModelKind& model = model_kind(c.model);
        const StateLayout weights = model.state_layout(c, d);
        const RecordLayout layout = model.record_layout(c);
        // Everything the template's datasets and descriptions depend on.
        const std::string shape = std::to_string(c.k) + "x" + std::to_string(d) + "x" +
                                  std::to_string(records) + "x" + std::to_string(weights.rows) +
                                  "x" + std::to_string(weights.cols) + "|" + weights.description +
                                  "|" + layout.theory + "|" + layout.singular_values + "|" +
                                  layout.theory_distance + (layout.network ? "|network" : "");
        auto found = templates.find(shape);
        if (found == templates.end()) {
            const std::string path = "/template-" + std::to_string(templates.size());
            const auto run = h5::Group::create(scratch.id(), path);
            create_side(run.create_group("trajectory"), records, c.k, "gradient descent", layout,
                        true);
            create_side(run.create_group("theory"), records, c.k, layout.theory, layout, false);
            if (layout.network) {
                const auto group = run.create_group("network");
                for (const auto& m : schema::network_metrics())
                    describe(h5::Dataset::create_doubles(group.id(), m.name, {size(records)}).id(),
                             "1", m.description);
            }
            describe(h5::Dataset::create_doubles(run.create_group("init").id(), "W0",
                                                 {size(weights.rows), size(weights.cols)})
                         .id(),
                     "1", "initial weights, " + weights.description);
            describe(h5::Dataset::create_doubles(run.create_group("spectrum").id(), "eigenvalues",
                                                 {size(d)})
                         .id(),
                     "1", "eigenvalues of C, descending");
            const auto checkpoint = run.create_group("checkpoint");
            describe(h5::Dataset::create_doubles(checkpoint.id(), "W",
                                                 {size(weights.rows), size(weights.cols)})
                         .id(),
                     "1", "weights after `step` steps, " + weights.description);
            describe(h5::Dataset::create_integers(checkpoint.id(), "step", {1}, -1).id(), "1",
                     "steps W holds (-1: none); the last step of a done run, else where a "
                     "resumed run continues");
            found = templates.emplace(shape, path).first;
        }
        const std::string run_path = schema::run_path(plan.name, ids[i]);
        h5::Group::open(scratch.id(), found->second).copy_to(file.id(), run_path);
        const auto run = h5::Group::open(file.id(), run_path);
        h5::write_attribute(run.id(), "config", canonical_text(c));
        h5::write_attribute(run.id(), "config_hash", ids[i]);
        h5::write_attribute(run.id(), "row", static_cast<long long>(plan.rows[i]));
        h5::write_attribute(run.id(), "seed", static_cast<long long>(c.seed));
        h5::write_attribute(run.id(), "data_source", data_source_text(c));
    }
}

std::string stored_signature(const h5::File& file, const std::string& sweep) {
    std::string out;
    for (const auto& id :
         h5::Dataset::open(file.id(), schema::sweep_path(sweep) + "/index/run_id").read_strings())
        out += id + "\n";
    return out;
}

std::vector<RunStatus> read_statuses(const h5::File& file, const std::string& sweep) {
    std::vector<RunStatus> out;
    for (long long code :
         h5::Dataset::open(file.id(), schema::status_path(sweep)).read_integers()) {
        if (code < 0 || code > 3)
            throw RuntimeFailure("sweep '" + sweep + "': invalid run status " +
                                 std::to_string(code));
        out.push_back(static_cast<RunStatus>(code));
    }
    return out;
}

SweepWriter::SweepWriter(const h5::File& file, const std::string& sweep)
    : file_(&file),
      sweep_(sweep),
      status_(h5::Dataset::open(file.id(), schema::status_path(sweep))) {
    // The index columns stay open across runs: a run then costs its raw writes, not lookups.
    const auto result = h5::Group::open(file.id(), schema::sweep_path(sweep) + "/index/result");
    for (const auto& c : schema::result_columns())
        columns_.emplace(c.name, h5::Dataset::open(result.id(), c.name));
}

void SweepWriter::write_status(Index row, RunStatus status) const {
    status_.write_at(static_cast<hsize_t>(row), schema::status_code(status));
}

void SweepWriter::write_records(const h5::Group& run, const RunConfig& config,
                                const std::vector<Record>& records) const {
    const Index length = record_count(config), k = config.k;
    write_side(run.open_group("trajectory"), records, &Record::simulated, length, k);
    write_side(run.open_group("theory"), records, &Record::theory, length, k);
    std::vector<double> distance;
    for (const auto& rec : records) distance.push_back(rec.theory_distance);
    write_doubles(run.open_group("trajectory"), "theory_distance", distance, length);
    if (!model_kind(config.model).record_layout(config).network) return;
    const auto network = run.open_group("network");
    for (const auto& m : schema::network_metrics()) {
        std::vector<double> values;
        for (const auto& rec : records) values.push_back(rec.network.*(m.field));
        write_doubles(network, m.name, values, length);
    }
}

void SweepWriter::write_checkpoint(Index row, const RunConfig& config,
                                   const RunState& state) const {
    // Invalidate, write, validate: a kill between the steps leaves either the previous state or
    // none, never new weights under an old step. The records only grow, so rewriting those of
    // the previous state changes nothing a reader could have seen.
    const auto run = h5::Group::open(file_->id(), schema::run_path(sweep_, run_id(config)));
    const auto step = h5::Dataset::open(run.id(), "checkpoint/step");
    step.write_at(0, -1LL);
    write_records(run, config, state.records);
    write_matrix(run.open_group("checkpoint"), "W", state.w);
    columns_.at("seconds").write_at(static_cast<hsize_t>(row), state.seconds);
    step.write_at(0, static_cast<long long>(state.step));
}

void SweepWriter::write_run(Index row, const RunResult& r, const std::string& host) const {
    const auto run = h5::Group::open(file_->id(), schema::run_path(sweep_, r.config_id()));
    write_records(run, r.config, r.records);
    // The final weights of a done run; nothing for a failed one (whatever an earlier checkpoint
    // held), so that a resumed store equals an uninterrupted one.
    const auto checkpoint = run.open_group("checkpoint");
    const auto step = h5::Dataset::open(checkpoint.id(), "step");
    step.write_at(0, -1LL);
    const bool keep = r.status == RunStatus::done;
    write_matrix(checkpoint, "W", keep ? r.w : nan_like(h5::Dataset::open(checkpoint.id(), "W")));
    if (keep) step.write_at(0, static_cast<long long>(r.steps_taken));
    // A run that failed before its first step has no weights or spectrum: those stay NaN.
    if (!r.w0.empty()) write_matrix(run.open_group("init"), "W0", r.w0);
    if (!r.spectrum.empty())
        write_doubles(run.open_group("spectrum"), "eigenvalues", r.spectrum,
                      static_cast<Index>(r.spectrum.size()));

    const auto at = static_cast<hsize_t>(row);
    auto number = [&](const std::string& name, double v) { columns_.at(name).write_at(at, v); };
    auto integer = [&](const std::string& name, long long v) { columns_.at(name).write_at(at, v); };
    auto text = [&](const std::string& name, const std::string& v) {
        columns_.at(name).write_at(at, v);
    };
    if (!r.records.empty()) {
        const Record& last = r.records.back();
        integer("final_step", last.step);
        number("final_t", last.t);
        number("final_theory_distance", last.theory_distance);
        double largest = std::numeric_limits<double>::quiet_NaN();  // without a theory
        for (const auto& rec : r.records)
            if (std::isfinite(rec.theory_distance) && !(rec.theory_distance <= largest))
                largest = rec.theory_distance;
        number("max_theory_distance", largest);
        for (const auto& m : schema::metrics()) {
            number(std::string("final_") + m.name, last.simulated.*(m.field));
            number(std::string("theory_final_") + m.name, last.theory.*(m.field));
        }
        for (const auto& m : schema::network_metrics()) {
            number(std::string("initial_") + m.name, r.records.front().network.*(m.field));
            number(std::string("final_") + m.name, last.network.*(m.field));
        }
    }
    integer("reference_accepted", r.reference_accepted);
    integer("reference_rejected", r.reference_rejected);
    number("eta_used", r.eta);
    number("eta_lambda_max", r.eta * r.lambda_max);
    number("lambda_max", r.lambda_max);
    number("theory_conditioning", r.theory_conditioning);
    number("seconds", r.seconds);
    number("seconds_per_step", r.seconds_per_step);
    number("final_loss_gap", r.final_loss_gap);
    number("final_grassmann_distance", r.final_grassmann_distance);
    number("theory_final_loss_gap", r.theory_final_loss_gap);
    number("min_effective_rank", r.min_effective_rank);
    number("optimum_effective_rank", r.optimum_effective_rank);
    number("optimum_orthogonality_error", r.optimum_orthogonality_error);
    integer("failed_step", r.failed_step);
    text("failure", r.failure);
    text("retraction_used", retraction_text(r));
    if (r.layer_retractions)
        for (std::size_t l = 0; l < 2; ++l)
            text(l == 0 ? "retraction_w1" : "retraction_w2",
                 std::string(name_of(retraction_names, (*r.layer_retractions)[l])));
    text("gradient_path_used", std::string(name_of(gradient_path_names, r.path)));
    text("host", host);
    // Last: a run is done only once everything above is in the file.
    write_status(row, r.status);
}

std::optional<Checkpoint> read_checkpoint(const h5::File& file, const std::string& sweep,
                                          const RunConfig& config, Index row) {
    const auto run = h5::Group::open(file.id(), schema::run_path(sweep, run_id(config)));
    if (!run.exists("checkpoint")) return std::nullopt;
    const auto group = run.open_group("checkpoint");
    Checkpoint c;
    c.step = h5::Dataset::open(group.id(), "step").read_integers().at(0);
    if (c.step < 0) return std::nullopt;
    const auto w = h5::Dataset::open(group.id(), "W");
    const auto dims = w.dims();
    const auto values = w.read_doubles();
    // Row-major k x d on disk: the column-major d x k matrix of those values, transposed.
    Matrix wt(static_cast<Index>(dims.at(1)), static_cast<Index>(dims.at(0)));
    std::copy(values.begin(), values.end(), wt.data());
    c.w = transpose(wt);
    read_side(run.open_group("trajectory"), &Record::simulated, c.step, config.k, c.records);
    read_side(run.open_group("theory"), &Record::theory, c.step, config.k, c.records);
    const auto distance = h5::Dataset::open(run.id(), "trajectory/theory_distance").read_doubles();
    for (std::size_t i = 0; i < c.records.size(); ++i) c.records[i].theory_distance = distance[i];
    if (model_kind(config.model).record_layout(config).network)
        for (const auto& m : schema::network_metrics()) {
            const auto recorded =
                h5::Dataset::open(run.id(), std::string("network/") + m.name).read_doubles();
            for (std::size_t i = 0; i < c.records.size(); ++i)
                c.records[i].network.*(m.field) = recorded[i];
        }
    c.seconds = h5::Dataset::open(file.id(), schema::result_column(sweep, "seconds"))
                    .read_double_at(static_cast<hsize_t>(row));
    return c;
}

void check_store_target(const std::string& path, bool overwrite) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (path.empty()) throw InputError("--store: the store path is empty");
    if (fs::exists(path, ec)) {
        require_store_file(path);  // a folder or a pipe is named as what it is
        if (!overwrite)
            throw InputError(path + ": store exists already (pass --overwrite to replace it)");
        check_store_writable(path);
    }
    StoreLock::check_free(path);
    // The folder the store is written in: its target's, for a link.
    const std::string target = link_target(path);
    fs::path dir = fs::path(target).parent_path();
    if (dir.empty()) dir = ".";
    if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
        throw InputError(path + ": " + dir.string() + " is not a folder");
    if (!fs::is_directory(dir, ec))
        throw InputError(path + ": folder " + dir.string() + " does not exist");
    // Creating a file is the only reliable test (root passes access(W_OK) on /proc, say).
    const std::string probe = temporary_of(target);
    const int fd = open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0)
        throw InputError(path + ": cannot write in folder " + dir.string() + " (" +
                         std::strerror(errno) + ")");
    close(fd);
    std::remove(probe.c_str());
}

void remove_stale_partials(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path target = link_target(path);
    fs::path dir = target.parent_path();
    if (dir.empty()) dir = ".";
    const std::string prefix = target.filename().string() + ".partial-";
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind(prefix, 0) != 0) continue;
        const std::string pid = name.substr(prefix.size());
        if (pid.empty() || pid.size() > 9 ||
            pid.find_first_not_of("0123456789") != std::string::npos)
            continue;
        // Gone for certain only when no process has the id (EPERM: one has, of another user).
        if (kill(static_cast<pid_t>(std::stol(pid)), 0) != 0 && errno == ESRCH)
            fs::remove(entry.path(), ec);
    }
}

void replace_atomically(const std::string& path, bool copy_existing,
                        const std::function<void(const h5::File&)>& make) {
    remove_stale_partials(path);
    // The new store is built in memory and written out with plain writes: HDF5 never meets a
    // failing write (its error paths for one inside H5Ocopy crash), and a full disk or a
    // quota fails the write below cleanly, leaving nothing behind.
    // A store given as a link is replaced at its target, the link kept.
    const std::string target = link_target(path);
    const std::string temporary = temporary_of(target);
    std::vector<unsigned char> image;
    {
        h5::File file = copy_existing ? h5::File::from_image(temporary, read_bytes(path))
                                      : h5::File::in_memory(temporary);
        if (!copy_existing) initialise_store(file);
        make(file);
        image = file.image();
    }
    write_new_file(path, temporary, image);
    if (std::rename(temporary.c_str(), target.c_str()) != 0) {
        const std::string why = std::strerror(errno);
        std::remove(temporary.c_str());
        throw InputError(path + ": cannot write store (" + why + ")");
    }
}

}  // namespace ssldyn
