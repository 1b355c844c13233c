#pragma once
// A sweep's history (README "The HDF5 store"): one row per job that started, resumed, merged or
// upgraded it, with when, where, by whom and with what it ran. The table sits in
// /sweeps/<name>/events/, one 1-D extendible dataset per column along its dimension `event`.
#include <limits>
#include <string>
#include <vector>

#include "store/h5/file.hpp"
#include "store/provenance.hpp"

namespace ssldyn {

struct Event {
    std::string kind;  // start, resume, merge, upgrade
    // UTC, seconds since 1970-01-01T00:00:00Z; ended NaN while it runs, or when it was killed.
    double started = std::numeric_limits<double>::quiet_NaN();
    double ended = std::numeric_limits<double>::quiet_NaN();
    std::string end;    // finished, "stopped by SIGTERM", ...; "" while it runs or once killed
    std::string hosts;  // the distinct hosts of its ranks, in rank order
    long long ranks = 1, group_size = 1, blas_threads = 1;
    std::string blas_library;
    // As SLURM set them ("" outside SLURM).
    std::string slurm_job, slurm_array_job, slurm_array_task, slurm_step;
    std::string user, command, program_version, git_commit, mpi_library, hdf5_library;
};

// An event of this process: its command line, start time, user, SLURM ids and provenance.
Event event_of(const std::string& kind, const Provenance& provenance);

inline constexpr const char* events_group = "events";
// The empty table, in the group of a sweep being created.
void create_events(hid_t sweep);
// Whether the sweep has its table (stores of an earlier build of schema 2 do not).
bool has_events(const h5::File& file, const std::string& sweep);
// Adds the table to a sweep without one, in one step visible to readers (it is linked last).
void add_events(const h5::File& file, const std::string& sweep);
// Appends an event; returns its number (its row).
long long append_event(const h5::File& file, const std::string& sweep, const Event& event);
// Marks an event ended now, with how.
void end_event(const h5::File& file, const std::string& sweep, long long event,
               const std::string& how);
// Every event, in order ({} for a sweep without the table).
std::vector<Event> read_events(const h5::File& file, const std::string& sweep);

}  // namespace ssldyn
