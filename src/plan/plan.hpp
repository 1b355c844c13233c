#pragma once
// A sweep: the runs its config expands to, checked before any run starts or any file is
// touched. The config is INI (read with Boost.Program_options):
//
//   [sweep]            name = quickstart
//   [fixed]            settings every run shares          n = 10000
//   [axes]             a list of values per key; the runs are their Cartesian product
//                      k = 4, 16        spikes = [8,6,4], [10,2]   (brackets around lists)
//   [zip] / [zip.X]    keys whose value lists go together (equal lengths), one axis per section
//
// Keys are those of `ssldyn run`. Axes vary in the order written, the last fastest.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "config/run_config.hpp"

namespace ssldyn {

// A slice of a sweep for one task of a job array: the rows r with r mod count = index, strided
// so that the slow and the fast corners of a grid spread over the shards.
struct SweepShard {
    long index = 0, count = 1;
    bool whole() const { return count == 1; }
    std::string text() const { return std::to_string(index) + "/" + std::to_string(count); }
};
// "I/N" with 0 <= I < N; InputError naming origin otherwise.
SweepShard parse_shard(const std::string& text, const std::string& origin);

struct SweepPlan {
    std::string name;
    std::string source;             // the config text as given
    std::vector<std::string> axes;  // varying keys, in expansion order
    std::vector<RunConfig> runs;
    std::vector<std::uint64_t> ids;  // run_hash of each run: its id, computed once
    std::vector<Index> dimensions;   // input dimension d of each run
    std::vector<Index> rows;         // row of each run in the whole sweep
    SweepShard shard;

    // One line per run: its id. Equal signatures mean the same runs in the same order.
    std::string signature() const;
};

// The input dimension d of a run.
using DimensionOf = std::function<Index(const RunConfig&)>;

// Reads and expands a sweep config; every error is an InputError naming the file and the
// section, key or value.
SweepPlan read_sweep_plan(const std::string& path);
// dimension_of, when given, supplies each run's d instead of its data (whose files are then not
// read): a store holding the runs knows it.
SweepPlan parse_sweep_plan(const std::string& text, const std::string& origin,
                           const DimensionOf& dimension_of = {});

// The runs of one shard of a whole sweep.
SweepPlan shard_of(const SweepPlan& whole, SweepShard shard);

// A sweep of one run (what `ssldyn run` stores).
SweepPlan single_run_plan(const std::string& name, const RunConfig& config);

void check_sweep_name(const std::string& name, const std::string& origin);

}  // namespace ssldyn
