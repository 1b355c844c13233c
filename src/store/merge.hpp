#pragma once
// Joining the shard stores of a job array (`ssldyn sweep --shard I/N`) into one store equal to
// the one a single job over the whole sweep writes: the same index, runs and statuses.
#include <string>
#include <vector>

#include "store/provenance.hpp"

namespace ssldyn {

struct MergeOutcome {
    long sweeps = 0, runs = 0, done = 0;
};

// Every sweep of the shards, each complete (shards 0..N-1 of one config, each holding the runs
// its config gives it), into a new store at out. InputError naming the file otherwise; out is
// written whole or not at all. Runs not done in a shard stay so; `ssldyn sweep --resume` on the
// merged store runs them.
MergeOutcome merge_shards(const std::string& out, const std::vector<std::string>& shards,
                          const Provenance& provenance);

}  // namespace ssldyn
