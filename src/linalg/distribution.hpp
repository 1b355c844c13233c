#pragma once
// Where the matrices of one run live: replicated on every rank of its run group, or
// block-cyclic over the group's grids. Chosen per matrix by its size, so that a run whose C is
// d x d with d in the tens of thousands is spread over the group while its k x d weights, which
// are small, stay replicated; both layouts give the same trajectory to round-off.
#include <algorithm>

#include "linalg/blacs.hpp"

namespace ssldyn {

// Matrices with more entries than this are distributed unless told otherwise: 2²² entries
// (32 MiB, d = 2048 for C), where one rank's LAPACK stops being quick.
inline constexpr Index default_distribute_above = Index{1} << 22;

// The items [begin, end) of n that rank `rank` of `ranks` holds: a balanced split, the first
// n mod ranks one item more (a sharded network's hidden units, a spread kernel's rows).
struct Share {
    Index begin = 0, end = 0;
    Index size() const { return end - begin; }
};
inline Share balanced_share(Index n, int rank, int ranks) {
    const Index base = n / ranks, extra = n % ranks;
    const Index begin = rank * base + std::min<Index>(rank, extra);
    return {begin, begin + base + (rank < extra ? 1 : 0)};
}

struct Distribution {
    const mpi::Communicator* group = nullptr;  // the run group; its grids are over it
    const BlacsGrid* square = nullptr;  // the group's grid for square matrices (C, its vectors)
    const BlacsGrid* tall = nullptr;    // the group's P x 1 grid for tall-skinny ones (Wᵀ)
    Index threshold = default_distribute_above;
    Index block = 64;  // square blocks of the block-cyclic layout

    // Whether an m x n matrix is distributed (never without grids).
    bool distributes(Index m, Index n) const { return square != nullptr && m * n > threshold; }
    // Whether this rank is the group's first (the one that reads or draws the data).
    bool first() const { return group == nullptr || group->rank() == 0; }
};

}  // namespace ssldyn
