#include "store/run_writer.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/error.hpp"
#include "store/h5/attribute.hpp"
#include "store/h5/dataset.hpp"
#include "store/schema.hpp"

namespace ssldyn {

namespace {

void describe(hid_t object, const char* units, const std::string& description) {
    h5::write_attribute(object, "units", units);
    h5::write_attribute(object, "description", description);
}

void write_series(const h5::Group& group, const char* name, const std::vector<double>& values,
                  const char* units, const std::string& description) {
    const auto ds = h5::Dataset::create_doubles(group.id(), name, {values.size()});
    ds.write(values.data());
    describe(ds.id(), units, description);
}

// A matrix as a row-major (rows x cols) dataset: column-major storage of its transpose.
void write_matrix(const h5::Group& group, const char* name, const Matrix& m, const char* units,
                  const std::string& description) {
    const Matrix t = transpose(m);
    const auto ds = h5::Dataset::create_doubles(
        group.id(), name, {static_cast<hsize_t>(m.rows()), static_cast<hsize_t>(m.cols())});
    ds.write(t.data());
    describe(ds.id(), units, description);
}

// The recorded snapshots of one side (simulated or theory) as one dataset per metric.
void write_side(const h5::Group& group, const std::vector<Record>& records, Snapshot Record::*side,
                const std::string& what) {
    const std::size_t count = records.size();
    std::vector<long long> steps(count);
    std::vector<double> t(count);
    for (std::size_t i = 0; i < count; ++i) {
        steps[i] = records[i].step;
        t[i] = records[i].t;
    }
    const auto step_ds = h5::Dataset::create_integers(group.id(), "step", {count});
    step_ds.write(steps.data());
    describe(step_ds.id(), "1", "gradient-descent step of the record");
    write_series(group, "t", t, "1", "time t = eta * step (THEORY 4)");
    for (const auto& metric : schema::metrics()) {
        std::vector<double> values(count);
        for (std::size_t i = 0; i < count; ++i) values[i] = (records[i].*side).*(metric.field);
        write_series(group, metric.name, values, metric.units, what + ": " + metric.description);
    }
    const std::size_t k = count ? (records[0].*side).singular_values.size() : 0;
    Matrix sv(static_cast<Index>(count), static_cast<Index>(k));
    for (std::size_t i = 0; i < count; ++i)
        for (std::size_t j = 0; j < k; ++j)
            sv(static_cast<Index>(i), static_cast<Index>(j)) =
                (records[i].*side).singular_values[j];
    write_matrix(group, "singular_values", sv, "1", what + ": singular values of W, descending");
}

}  // namespace

void initialise_store(const h5::File& file) {
    const auto root = file.root();
    h5::write_attribute(root.id(), "schema_version", schema::version);
    h5::write_attribute(root.id(), "creator", version_text());
}

void write_run(const h5::File& file, const std::string& sweep, const RunResult& r,
               const Provenance& p) {
    const auto run = h5::Group::create(file.id(), schema::run_path(sweep, r.config_id()));
    const hid_t id = run.id();
    h5::write_attribute(id, "config", canonical_text(r.config));
    h5::write_attribute(id, "config_hash", run_id(r.config));
    h5::write_attribute(id, "seed", static_cast<long long>(r.config.seed));
    h5::write_attribute(id, "data_source", data_source_text(r.config));
    h5::write_attribute(id, "status", std::string(name_of(run_status_names, r.status)));
    h5::write_attribute(id, "failure", r.failure);
    h5::write_attribute(id, "failed_step", static_cast<long long>(r.failed_step));
    h5::write_attribute(id, "eta", r.eta);
    h5::write_attribute(id, "eta_lambda_max", r.eta * r.lambda_max);
    h5::write_attribute(id, "lambda_max", r.lambda_max);
    h5::write_attribute(id, "retraction_used",
                        std::string(name_of(retraction_names, r.retraction)));
    h5::write_attribute(id, "gradient_path_used",
                        std::string(name_of(gradient_path_names, r.path)));
    h5::write_attribute(id, "theory_conditioning", r.theory_conditioning);
    h5::write_attribute(id, "seconds", r.seconds);
    h5::write_attribute(id, "program_version", p.program_version);
    h5::write_attribute(id, "git_commit", p.git_commit);
    h5::write_attribute(id, "git_dirty", static_cast<long long>(p.git_dirty));
    h5::write_attribute(id, "host", p.host);
    h5::write_attribute(id, "mpi_library", p.mpi_library);
    h5::write_attribute(id, "mpi_ranks", static_cast<long long>(p.mpi_ranks));
    h5::write_attribute(id, "hdf5_library", p.hdf5_library);
    h5::write_attribute(id, "blas_threads", static_cast<long long>(p.blas_threads));

    const auto config = run.create_group("config");
    for (const auto& key : config_keys())
        h5::write_attribute(config.id(), std::string(key.name), key.print(r.config));

    write_side(run.create_group("trajectory"), r.records, &Record::simulated, "gradient descent");
    write_side(run.create_group("theory"), r.records, &Record::theory, "closed-form flow");
    std::vector<double> distance;
    for (const auto& rec : r.records) distance.push_back(rec.theory_distance);
    write_series(run.open_group("trajectory"), "theory_distance", distance, "1",
                 r.config.dynamics == Dynamics::orthogonal
                     ? "||P - P_theory||_F between the row-space projectors of GD and the flow"
                     : "||W - W_theory||_F / ||W_theory||_F");
    write_matrix(run.create_group("init"), "W0", r.w0, "1", "initial weights, k x d");
    write_series(run.create_group("spectrum"), "eigenvalues", r.spectrum, "1",
                 "eigenvalues of C, descending");
}

void check_store_target(const std::string& path, bool overwrite) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::exists(path, ec) && !overwrite)
        throw InputError(path + ": store exists already (pass --overwrite to replace it)");
    if (fs::is_directory(path, ec)) throw InputError(path + ": is a directory, not a store file");
    fs::path dir = fs::path(path).parent_path();
    if (dir.empty()) dir = ".";
    if (!fs::is_directory(dir, ec))
        throw InputError(path + ": folder " + dir.string() + " does not exist");
    if (access(dir.c_str(), W_OK) != 0)
        throw InputError(path + ": folder " + dir.string() + " is not writable");
}

void write_single_run_store(const std::string& path, const std::string& sweep,
                            const RunResult& result, const Provenance& provenance) {
    const std::string temporary = path + ".partial-" + std::to_string(getpid());
    try {
        h5::File file = h5::File::create(temporary);
        initialise_store(file);
        write_run(file, sweep, result, provenance);
        file.close();
    } catch (...) {
        std::remove(temporary.c_str());
        throw;
    }
    if (std::rename(temporary.c_str(), path.c_str()) != 0) {
        const std::string why = std::strerror(errno);
        std::remove(temporary.c_str());
        throw InputError(path + ": cannot write store (" + why + ")");
    }
}

}  // namespace ssldyn
