#pragma once
// How the runs of a sweep map onto its arrays (README "The HDF5 store"): the record and
// singular-value counts of the (run, record[, component]) datasets, and the per-run blocks —
// weights by shape, spectra by problem — with each run's block and slot.
#include <string>
#include <vector>

#include "plan/plan.hpp"
#include "store/h5/handle.hpp"

namespace ssldyn {

// Slots of one shape: a (slots, rows, cols) dataset, or (slots, rows) when cols = 0.
struct Block {
    hsize_t rows = 0, cols = 0;
    std::string description;
    hsize_t slots = 0;

    std::vector<hsize_t> dims() const {
        return cols > 0 ? std::vector<hsize_t>{slots, rows, cols}
                        : std::vector<hsize_t>{slots, rows};
    }
    hsize_t slot_size() const { return rows * (cols > 0 ? cols : 1); }
};

// Blocks of several shapes and, per run, which block and slot hold its values.
struct BlockFamily {
    std::vector<Block> blocks;
    std::vector<long long> block, slot;  // per run
};

struct SweepLayout {
    hsize_t records = 1, components = 1;
    bool network = false;  // some run writes the network series
    // The models' words for the theory side, whose singular values are recorded, and what
    // theory_distance measures: each distinct one, with the models it is of.
    std::string theory, singular_values, theory_distance;
    BlockFamily weights;  // W0 and W: one slot per run
    BlockFamily spectra;  // eigenvalues of C: one slot per distinct problem
    // The longest data_source text of a run (the data is one per problem): the column's width.
    std::size_t data_source_length = 1;
};

SweepLayout sweep_layout(const SweepPlan& plan);

// The dataset of block i of a family: W0_0, W_1, eigenvalues_0, ...
inline std::string block_name(const char* what, std::size_t i) {
    return std::string(what) + "_" + std::to_string(i);
}

}  // namespace ssldyn
