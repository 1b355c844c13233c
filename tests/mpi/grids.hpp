#pragma once
// Shared by the MPI tests: a verdict every rank agrees on, and every process grid the world's
// rank count allows, so each distributed routine is checked on 1x1, 1x2, 2x1, 2x2, 1x4 and 4x1.
#include <functional>
#include <string>

#include "linalg/blacs.hpp"
#include "mpi/mpi.hpp"

namespace ssldyn::test {

// One rank's failure fails the check on every rank, and no rank is left waiting in a
// collective that the others skipped.
inline bool everywhere(bool ok) {
    return mpi::Communicator::world().max(ok ? 0 : 1) == 0;
}

using GridCheck =
    std::function<void(const mpi::Communicator& group, const BlacsGrid& grid, const std::string&)>;

// Calls check(group, grid, label) for every p x q grid of g ranks, g = 1, 2, 4 as far as the
// world allows: the world is split into groups of g consecutive ranks, each with its own grid,
// and all groups run the same checks at once. A 1 x 1 grid is the serial path.
inline void for_each_grid(const GridCheck& check) {
    const auto world = mpi::Communicator::world();
    for (int g : {1, 2, 4}) {
        if (g > world.size() || world.size() % g != 0) continue;
        const auto group = world.split(world.rank() / g, world.rank());
        for (int p = 1; p <= g; ++p) {
            if (g % p != 0) continue;
            const BlacsGrid grid(group, p, g / p);
            check(group, grid, std::to_string(p) + "x" + std::to_string(g / p));
        }
    }
}

}  // namespace ssldyn::test
