#pragma once
// The memory one rank may use: the least of what the machine has free (MemAvailable), what the
// process's memory cgroup still allows, and what SLURM gave the job (SLURM_MEM_PER_CPU times the
// CPUs of a task, or SLURM_MEM_PER_NODE), the machine's and the node's shares split evenly over
// the ranks on the node.
#include <string>

namespace ssldyn {

struct MemoryLimit {
    double bytes = 0;    // per rank
    std::string source;  // where the figure comes from, for messages
};

// ranks_on_node: the ranks of the job sharing this machine (at least 1).
MemoryLimit memory_per_rank(int ranks_on_node);

}  // namespace ssldyn
