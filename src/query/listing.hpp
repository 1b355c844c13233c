#pragma once
// `ssldyn ls`: the sweeps of a store and their runs by status, and why runs failed.
#include <string>

#include "query/table.hpp"
#include "store/h5/file.hpp"

namespace ssldyn {

// The sweeps of a store and their runs by status.
Table sweep_listing(const h5::File& file);

// Why runs failed: the first few of each sweep with their axis values. `store` names the store
// in the command that lists the rest.
std::string failed_listing(const h5::File& file, const std::string& store);

// The history of each sweep (its events): when, how it ended, how many runs, ranks, hosts,
// SLURM job, user, then each event's command line and build.
std::string history_listing(const h5::File& file);

}  // namespace ssldyn
