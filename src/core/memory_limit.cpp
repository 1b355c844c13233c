#include "core/memory_limit.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>

namespace ssldyn {

namespace {

constexpr double mebibyte = 1024.0 * 1024.0;

// A number from the first line of a file, or -1 (missing, "max", unreadable).
double number_in(const std::string& path) {
    std::ifstream in(path);
    double value = -1;
    if (!(in >> value)) return -1;
    return value;
}

// MemAvailable of /proc/meminfo, in bytes (-1 when not told).
double machine_available() {
    std::ifstream in("/proc/meminfo");
    std::string key;
    double kilobytes = 0;
    std::string unit;
    while (in >> key >> kilobytes) {
        std::getline(in, unit);
        if (key == "MemAvailable:") return kilobytes * 1024.0;
    }
    return -1;
}

// What the process's memory cgroup (v2, or v1's memory controller) still allows: its limit less
// its usage, or -1 when unlimited or not found.
double cgroup_available() {
    std::ifstream in("/proc/self/cgroup");
    std::string line;
    while (std::getline(in, line)) {
        const auto first = line.find(':'), second = line.find(':', first + 1);
        if (first == std::string::npos || second == std::string::npos) continue;
        const std::string controllers = line.substr(first + 1, second - first - 1);
        const std::string path = line.substr(second + 1);
        std::string limit, usage;
        if (controllers.empty()) {
            limit = "/sys/fs/cgroup" + path + "/memory.max";
            usage = "/sys/fs/cgroup" + path + "/memory.current";
        } else if (controllers == "memory") {
            limit = "/sys/fs/cgroup/memory" + path + "/memory.limit_in_bytes";
            usage = "/sys/fs/cgroup/memory" + path + "/memory.usage_in_bytes";
        } else {
            continue;
        }
        const double bound = number_in(limit);
        // v1 says "no limit" with a number near 2^63.
        if (bound < 0 || bound > 1e18) continue;
        return bound - std::max(0.0, number_in(usage));
    }
    return -1;
}

// This process's resident memory (VmRSS of /proc/self/status), in bytes: a SLURM limit holds the
// program itself too, which MemAvailable and the cgroup's usage count already.
double resident_now() {
    std::ifstream in("/proc/self/status");
    std::string key;
    while (in >> key) {
        if (key == "VmRSS:") {
            double kilobytes = 0;
            in >> kilobytes;
            return kilobytes * 1024.0;
        }
        std::string rest;
        std::getline(in, rest);
    }
    return 0;
}

double environment_number(const char* name) {
    const char* text = std::getenv(name);
    if (!text || !*text) return -1;
    char* end = nullptr;
    const double value = std::strtod(text, &end);
    return end != text && value > 0 ? value : -1;
}

}  // namespace

MemoryLimit memory_per_rank(int ranks_on_node) {
    const double ranks = ranks_on_node > 0 ? ranks_on_node : 1;
    MemoryLimit best{std::numeric_limits<double>::infinity(), "nothing limits it"};
    // A limit below this process's own memory leaves nothing (a negative figure).
    auto consider = [&](double bytes, const std::string& source) {
        if (bytes < best.bytes) best = {bytes, source};
    };
    const std::string split =
        ranks > 1 ? " split over " + std::to_string(ranks_on_node) + " ranks on this node" : "";
    const double machine = machine_available();
    if (machine >= 0) consider(machine / ranks, "MemAvailable of /proc/meminfo" + split);
    const double cgroup = cgroup_available();
    if (cgroup >= 0) consider(cgroup / ranks, "the memory cgroup's limit less its usage" + split);
    const double itself = resident_now();
    const std::string less =
        " less this process's " + std::to_string(std::lround(itself / 1e6)) + " MB";
    const double per_cpu = environment_number("SLURM_MEM_PER_CPU");
    if (per_cpu > 0) {
        const double cpus = std::max(1.0, environment_number("SLURM_CPUS_PER_TASK"));
        consider(per_cpu * mebibyte * cpus - itself, "SLURM_MEM_PER_CPU" + less);
    }
    const double per_node = environment_number("SLURM_MEM_PER_NODE");
    if (per_node > 0)
        consider(per_node * mebibyte / ranks - itself, "SLURM_MEM_PER_NODE" + split + less);
    return best;
}

}  // namespace ssldyn
