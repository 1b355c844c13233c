#pragma once
// The store's layout (README "The HDF5 store"), in one place. Readers and writers use these
// names; the Python analysis reads the same ones.
#include <string>
#include <vector>

#include "run/simulation.hpp"

namespace ssldyn::schema {

inline constexpr long long version = 1;

inline std::string sweep_path(const std::string& sweep) {
    return "sweeps/" + sweep;
}
inline std::string run_path(const std::string& sweep, const std::string& id) {
    return sweep_path(sweep) + "/runs/" + id;
}

// One recorded scalar metric: its dataset name, units, meaning and where it lives in a Snapshot.
struct Metric {
    const char* name;
    const char* units;
    const char* description;
    double Snapshot::*field;
};

inline const std::vector<Metric>& metrics() {
    static const std::vector<Metric> table{
        {"loss", "1", "L = -Tr(W C W^T), THEORY 3", &Snapshot::loss},
        {"orthogonality_error", "1", "||W W^T - I||_F", &Snapshot::orthogonality_error},
        {"s2_s1", "1", "ratio of the two largest singular values of W", &Snapshot::s2_s1},
        {"effective_rank", "1", "exp(-sum p_i log p_i), p_i = s_i / sum_j s_j (THEORY 4.1)",
         &Snapshot::effective_rank},
        {"topk_sin_angle", "1",
         "sine of the largest principal angle between the row space of W and the top-k "
         "eigenspace of C",
         &Snapshot::topk_sin_angle},
    };
    return table;
}

}  // namespace ssldyn::schema
