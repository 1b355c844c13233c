// Process grids and the movement of distributed matrices: scatter and gather (replicated, from
// and to one rank, from row blocks) and redistribution between grids and block sizes. Data only
// moves, so every comparison is exact.
#include <gtest/gtest.h>

#include <string>

#include "core/error.hpp"
#include "grids.hpp"
#include "linalg/blacs.hpp"
#include "random/stream.hpp"

using namespace ssldyn;
using test::everywhere;
using test::for_each_grid;

namespace {

// Every local entry of d equals the global matrix's entry at its global index.
bool holds_blocks_of(const DistributedMatrix& d, const Matrix& global) {
    if (d.rows() != global.rows() || d.cols() != global.cols()) return false;
    for (Index j = 0; j < d.local().cols(); ++j)
        for (Index i = 0; i < d.local().rows(); ++i)
            if (d.local()(i, j) != global(d.global_row(i), d.global_col(j))) return false;
    return true;
}

bool equal(const Matrix& a, const Matrix& b) {
    if (a.rows() != b.rows() || a.cols() != b.cols()) return false;
    for (Index j = 0; j < a.cols(); ++j)
        for (Index i = 0; i < a.rows(); ++i)
            if (a(i, j) != b(i, j)) return false;
    return true;
}

}  // namespace

TEST(BlacsGrid, ShapesFollowTheMatrix) {
    const auto world = mpi::Communicator::world();
    const int size = world.size();
    const BlacsGrid tall = BlacsGrid::tall(world);
    EXPECT_TRUE(everywhere(tall.rows() == size && tall.cols() == 1));
    const BlacsGrid square = BlacsGrid::square(world);
    EXPECT_TRUE(everywhere(square.rows() >= square.cols() && square.size() == size));
    // Tall-skinny gets P x 1, short-wide 1 x P, square the most nearly square grid.
    const BlacsGrid for_tall = BlacsGrid::for_shape(world, 65536, 1024);
    EXPECT_TRUE(everywhere(for_tall.rows() == size && for_tall.cols() == 1));
    const BlacsGrid for_wide = BlacsGrid::for_shape(world, 10, 1000);
    EXPECT_TRUE(everywhere(for_wide.rows() == 1 && for_wide.cols() == size));
    const BlacsGrid for_square = BlacsGrid::for_shape(world, 500, 500);
    EXPECT_TRUE(everywhere(for_square.rows() == square.rows()));
    const BlacsGrid serial = BlacsGrid::serial();
    EXPECT_TRUE(everywhere(serial.size() == 1 && serial.my_row() == 0 && serial.my_col() == 0));
    EXPECT_TRUE(everywhere(square.rank_of(square.my_row(), square.my_col()) == world.rank()));
    EXPECT_THROW(BlacsGrid(world, size + 1, 1), InputError);
}

TEST(DistributedMatrix, ScatterFromAndGatherToOneRank) {
    RandomStream stream(11);
    const Matrix a = gaussian_matrix(stream, 37, 23);
    for_each_grid(
        [&](const mpi::Communicator& group, const BlacsGrid& grid, const std::string& label) {
            for (int root : {0, group.size() - 1})
                for (Index nb : {4, 8, 64}) {
                    const Matrix input = group.rank() == root ? a : Matrix();
                    const auto d = DistributedMatrix::scatter_from(grid, root, input, nb, 5);
                    EXPECT_TRUE(everywhere(holds_blocks_of(d, a)))
                        << label << " root " << root << " nb " << nb;
                    const Matrix back = d.gather_to(root);
                    const bool ok = group.rank() == root ? equal(back, a) : back.empty();
                    EXPECT_TRUE(everywhere(ok)) << label << " root " << root << " nb " << nb;
                }
        });
}

TEST(DistributedMatrix, RedistributeBetweenBlockSizesAndGrids) {
    RandomStream stream(12);
    const Matrix a = gaussian_matrix(stream, 37, 23);
    for_each_grid(
        [&](const mpi::Communicator& group, const BlacsGrid& grid, const std::string& label) {
            const auto d = DistributedMatrix::scatter(grid, a, 4, 8);
            const BlacsGrid tall = BlacsGrid::tall(group), square = BlacsGrid::square(group);
            for (const BlacsGrid* to : {&grid, &tall, &square})
                for (Index nb : {3, 8, 64}) {
                    const auto moved = d.redistribute(*to, nb, 2 * nb);
                    EXPECT_TRUE(everywhere(holds_blocks_of(moved, a) && moved.block_rows() == nb))
                        << label << " to " << to->rows() << "x" << to->cols() << " nb " << nb;
                    EXPECT_TRUE(everywhere(equal(moved.gather(), a))) << label;
                }
        });
}

TEST(DistributedMatrix, FromRowBlocksOfAnySize) {
    RandomStream stream(13);
    for_each_grid(
        [&](const mpi::Communicator& group, const BlacsGrid& grid, const std::string& label) {
            // Uneven row counts, one rank with none when there are several.
            std::vector<Index> first{0};
            for (int r = 0; r < group.size(); ++r)
                first.push_back(first.back() + (r == 1 ? 0 : 9 + 7 * r));
            const Matrix a = gaussian_matrix(stream, first.back(), 23);
            const auto me = static_cast<std::size_t>(group.rank());
            const Matrix mine = rows_of(a, first[me], first[me + 1] - first[me]);
            for (Index nb : {4, 8, 64}) {
                const auto d = DistributedMatrix::from_row_blocks(grid, mine, nb, 5);
                EXPECT_TRUE(everywhere(holds_blocks_of(d, a))) << label << " nb " << nb;
                // And back: each rank its own rows again.
                EXPECT_TRUE(everywhere(equal(d.to_row_blocks(mine.rows()), mine)))
                    << label << " nb " << nb;
            }
        });
}

TEST(DistributedMatrix, RowBlocksMustAddUpToTheRows) {
    const BlacsGrid grid = BlacsGrid::tall(mpi::Communicator::world());
    const Matrix mine(3, 4);
    const auto d = DistributedMatrix::from_row_blocks(grid, mine, 4, 4);
    EXPECT_THROW(d.to_row_blocks(2), InputError);
}

TEST(DistributedMatrix, RowBlocksMustAgreeOnColumns) {
    const auto world = mpi::Communicator::world();
    if (world.size() < 2) GTEST_SKIP() << "needs two ranks";
    const BlacsGrid grid = BlacsGrid::tall(world);
    const Matrix mine(3, world.rank() == 1 ? 4 : 5);
    // Every rank sees every shape, so every rank throws: none is left in a collective.
    EXPECT_THROW(DistributedMatrix::from_row_blocks(grid, mine, 4, 4), InputError);
}
