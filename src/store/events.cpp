#include "store/events.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <type_traits>
#include <variant>

#include "core/invocation.hpp"
#include "store/h5/attribute.hpp"
#include "store/h5/dataset.hpp"
#include "store/h5/dimension_scale.hpp"
#include "store/schema.hpp"

namespace ssldyn {

namespace {

using Member = std::variant<std::string Event::*, long long Event::*, double Event::*>;
struct Field {
    const char* name;
    Member member;
    const char* description;
};

const std::vector<Field>& fields() {
    static const std::vector<Field> table{
        {"kind", &Event::kind, "start, resume, merge or upgrade"},
        {"started", &Event::started, "when it started (UTC)"},
        {"ended", &Event::ended, "when it ended (UTC; NaN: still running, or killed)"},
        {"end", &Event::end,
         "how it ended: finished, or stopped by a signal (\"stopped by SIGTERM\"); empty: still "
         "running, or killed"},
        {"hosts", &Event::hosts, "the hosts of its ranks, comma-separated, in rank order"},
        {"ranks", &Event::ranks, "MPI ranks"},
        {"group_size", &Event::group_size, "ranks per run group"},
        {"blas_threads", &Event::blas_threads, "BLAS threads per rank, as the library reports"},
        {"blas_library", &Event::blas_library, "the BLAS library as it describes itself"},
        {"slurm_job", &Event::slurm_job, "SLURM_JOB_ID (empty outside SLURM)"},
        {"slurm_array_job", &Event::slurm_array_job, "SLURM_ARRAY_JOB_ID"},
        {"slurm_array_task", &Event::slurm_array_task, "SLURM_ARRAY_TASK_ID"},
        {"slurm_step", &Event::slurm_step, "SLURM_STEP_ID"},
        {"user", &Event::user, "user name"},
        {"command", &Event::command, "command line of rank 0"},
        {"program_version", &Event::program_version, "ssldyn version"},
        {"git_commit", &Event::git_commit,
         "commit it was built from (\"+modified\": with changes)"},
        {"mpi_library", &Event::mpi_library, "MPI library"},
        {"hdf5_library", &Event::hdf5_library, "HDF5 library"},
    };
    return table;
}

constexpr const char* event_dimension = "event";

std::string environment(const char* name) {
    const char* value = std::getenv(name);
    return value ? value : "";
}

std::string user_name() {
    const passwd* entry = getpwuid(geteuid());
    if (entry && entry->pw_name) return entry->pw_name;
    return environment("USER");
}

h5::Group table_of(const h5::File& file, const std::string& sweep) {
    return h5::Group::open(file.id(), schema::sweep_path(sweep) + "/" + events_group);
}

void fill(hid_t group) {
    auto scale = h5::Dataset::create_growing(group, event_dimension, h5::Dataset::Element::integer);
    h5::write_attribute(scale.id(), "units", "1");
    h5::write_attribute(scale.id(), "description", "event number, in the order they happened");
    h5::make_dimension_scale(scale, event_dimension);
    for (const Field& f : fields()) {
        const auto element =
            std::holds_alternative<std::string Event::*>(f.member) ? h5::Dataset::Element::text
            : std::holds_alternative<long long Event::*>(f.member) ? h5::Dataset::Element::integer
                                                                   : h5::Dataset::Element::number;
        const auto column = h5::Dataset::create_growing(group, f.name, element);
        h5::write_attribute(column.id(), "units",
                            element == h5::Dataset::Element::number ? schema::time_units : "1");
        h5::write_attribute(column.id(), "description", f.description);
        h5::attach_dimension_scale(column, scale, 0);
    }
}

}  // namespace

Event event_of(const std::string& kind, const Provenance& p) {
    Event e;
    e.kind = kind;
    e.started = started_at();
    e.hosts = p.host;
    e.ranks = p.mpi_ranks;
    e.group_size = p.group_size;
    e.blas_threads = p.blas_threads;
    e.blas_library = p.blas_library;
    e.slurm_job = environment("SLURM_JOB_ID");
    e.slurm_array_job = environment("SLURM_ARRAY_JOB_ID");
    e.slurm_array_task = environment("SLURM_ARRAY_TASK_ID");
    e.slurm_step = environment("SLURM_STEP_ID");
    e.user = user_name();
    e.command = command_line();
    e.program_version = p.program_version;
    e.git_commit = p.git_commit + (p.git_dirty ? "+modified" : "");
    e.mpi_library = p.mpi_library;
    e.hdf5_library = p.hdf5_library;
    return e;
}

void create_events(hid_t sweep) {
    fill(h5::Group::create(sweep, events_group).id());
}

bool has_events(const h5::File& file, const std::string& sweep) {
    return h5::Group::open(file.id(), schema::sweep_path(sweep)).exists(events_group);
}

void add_events(const h5::File& file, const std::string& sweep) {
    const auto group = h5::Group::create_anonymous(file.id());
    fill(group.id());
    group.link_as(h5::Group::open(file.id(), schema::sweep_path(sweep)).id(), events_group);
}

long long append_event(const h5::File& file, const std::string& sweep, const Event& event) {
    const auto group = table_of(file, sweep);
    const auto scale = h5::Dataset::open(group.id(), event_dimension);
    const hsize_t row = scale.dims().at(0);
    // The columns first, the dimension last: a reader sees the event once it is whole.
    for (const Field& f : fields()) {
        const auto column = h5::Dataset::open(group.id(), f.name);
        column.grow(row + 1);
        std::visit(
            [&](auto member) {
                using Value = std::decay_t<decltype(event.*member)>;
                if constexpr (std::is_same_v<Value, std::string>)
                    column.write_rows(row, {event.*member});
                else
                    column.write_at(row, event.*member);
            },
            f.member);
    }
    scale.grow(row + 1);
    scale.write_at(row, static_cast<long long>(row));
    return static_cast<long long>(row);
}

void end_event(const h5::File& file, const std::string& sweep, long long event,
               const std::string& how) {
    const auto group = table_of(file, sweep);
    const auto at = static_cast<hsize_t>(event);
    h5::Dataset::open(group.id(), "ended").write_at(at, utc_seconds());
    h5::Dataset::open(group.id(), "end").write_rows(at, {how});
}

std::vector<Event> read_events(const h5::File& file, const std::string& sweep) {
    if (!has_events(file, sweep)) return {};
    const auto group = table_of(file, sweep);
    const auto rows =
        static_cast<std::size_t>(h5::Dataset::open(group.id(), event_dimension).dims().at(0));
    std::vector<Event> out(rows);
    for (const Field& f : fields()) {
        const auto column = h5::Dataset::open(group.id(), f.name);
        std::visit(
            [&](auto member) {
                using Value = std::decay_t<decltype(out[0].*member)>;
                if constexpr (std::is_same_v<Value, std::string>) {
                    const auto values = column.read_strings();
                    for (std::size_t i = 0; i < rows; ++i) out[i].*member = values.at(i);
                } else if constexpr (std::is_same_v<Value, long long>) {
                    const auto values = column.read_integers();
                    for (std::size_t i = 0; i < rows; ++i) out[i].*member = values.at(i);
                } else {
                    const auto values = column.read_doubles();
                    for (std::size_t i = 0; i < rows; ++i) out[i].*member = values.at(i);
                }
            },
            f.member);
    }
    return out;
}

}  // namespace ssldyn
