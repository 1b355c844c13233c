// ScaLAPACK smoke test: pdgemm on the group's grid against serial dgemm on the same input,
// with block sizes that do and do not divide the dimensions.
#include <gtest/gtest.h>

#include "grids.hpp"
#include "linalg/blas.hpp"
#include "linalg/scalapack.hpp"
#include "random/stream.hpp"

using namespace ssldyn;
using test::everywhere;

TEST(ScaLapack, PdgemmMatchesDgemm) {
    const auto world = mpi::Communicator::world();
    const BlacsGrid grid = BlacsGrid::square(world);
    EXPECT_EQ(grid.rows() * grid.cols(), world.size());
    RandomStream stream(7);
    const Matrix a = gaussian_matrix(stream, 37, 23), b = gaussian_matrix(stream, 23, 29);
    const Matrix reference = multiply(a, b);
    for (Index block : {4, 8, 64}) {
        const auto da = DistributedMatrix::scatter(grid, a, block, block);
        const auto db = DistributedMatrix::scatter(grid, b, block, block);
        DistributedMatrix dc(grid, 37, 29, block, block);
        pgemm(Op::none, Op::none, 1.0, da, db, 0.0, dc);
        const Matrix c = dc.gather();
        Matrix diff = c;
        axpy(-1.0, reference, diff);
        // Same products summed in a different order: round-off, 23 terms of size O(1).
        const double error = frobenius_norm(diff) / frobenius_norm(reference);
        EXPECT_TRUE(everywhere(error < 1e-13)) << "block " << block << ": " << error;
    }
}

TEST(ScaLapack, TransposedProductAndRoundTrip) {
    const auto world = mpi::Communicator::world();
    const BlacsGrid grid = BlacsGrid::square(world);
    RandomStream stream(8);
    const Matrix a = gaussian_matrix(stream, 50, 11);
    const auto da = DistributedMatrix::scatter(grid, a, 5, 3);
    const Matrix back = da.gather();
    EXPECT_TRUE(everywhere(max_abs(back.view()) == max_abs(a.view())));
    Matrix diff = back;
    axpy(-1.0, a, diff);
    EXPECT_TRUE(everywhere(max_abs(diff) == 0.0));
    DistributedMatrix gram(grid, 11, 11, 3, 3);
    pgemm(Op::transpose, Op::none, 1.0, da, da, 0.0, gram);
    Matrix d2 = gram.gather();
    axpy(-1.0, multiply(Op::transpose, Op::none, a, a), d2);
    EXPECT_TRUE(everywhere(max_abs(d2) < 1e-12 * 50));
}
