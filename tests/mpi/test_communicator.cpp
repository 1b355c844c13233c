// The collectives of mpi::Communicator, the only door to MPI. Each rank's values are a known
// function of its rank (small integers, exact in doubles), so every rank computes what a
// collective must return on its own, and every comparison is exact.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.hpp"
#include "grids.hpp"
#include "mpi/mpi.hpp"

using namespace ssldyn;
using test::everywhere;

namespace {

// Rank r's i-th value of four.
double value_of(int r, int i) {
    return 10.0 * r + i + 1;
}

}  // namespace

TEST(Communicator, BroadcastFromEveryRoot) {
    const auto world = mpi::Communicator::world();
    for (int root = 0; root < world.size(); ++root) {
        int ints[2] = {world.rank(), -world.rank()};
        long longs[1] = {1000L * world.rank()};
        double doubles[4];
        for (int i = 0; i < 4; ++i) doubles[i] = value_of(world.rank(), i);
        char chars[3] = {'a', static_cast<char>('a' + world.rank()), 'z'};
        world.broadcast(ints, 2, root);
        world.broadcast(longs, 1, root);
        world.broadcast(doubles, 4, root);
        world.broadcast(chars, 3, root);
        bool ok = ints[0] == root && ints[1] == -root && longs[0] == 1000L * root &&
                  chars[1] == 'a' + root;
        for (int i = 0; i < 4; ++i) ok = ok && doubles[i] == value_of(root, i);
        EXPECT_TRUE(everywhere(ok)) << "root " << root;
    }
}

TEST(Communicator, BroadcastResizesTextAndVectors) {
    const auto world = mpi::Communicator::world();
    const int root = world.size() - 1;
    // The root's are longer than the others' (and empty on rank 0 when it is not the root).
    std::string text(static_cast<std::size_t>(world.rank()), 'x');
    std::vector<long> values(static_cast<std::size_t>(world.rank()) * 2, world.rank());
    world.broadcast(text, root);
    world.broadcast(values, root);
    EXPECT_TRUE(everywhere(text == std::string(static_cast<std::size_t>(root), 'x')));
    EXPECT_TRUE(everywhere(values == std::vector<long>(static_cast<std::size_t>(root) * 2, root)));
}

TEST(Communicator, Reductions) {
    const auto world = mpi::Communicator::world();
    const int size = world.size(), rank = world.rank();
    EXPECT_TRUE(everywhere(world.max(rank) == size - 1));
    EXPECT_TRUE(everywhere(world.max(-0.5 * rank) == 0.0));
    EXPECT_TRUE(everywhere(world.min(-0.5 * rank) == -0.5 * (size - 1)));
    EXPECT_TRUE(everywhere(world.min(rank + 2.0) == 2.0));

    double sums[4], at_root[4];
    for (int i = 0; i < 4; ++i) sums[i] = at_root[i] = value_of(rank, i);
    world.sum(sums, 4);
    const int root = size / 2;
    world.sum_to(root, at_root, 4);
    bool ok = true;
    for (int i = 0; i < 4; ++i) {
        double expected = 0;
        for (int r = 0; r < size; ++r) expected += value_of(r, i);
        ok = ok && sums[i] == expected;
        // The root holds the sum; the others their own terms, untouched.
        ok = ok && at_root[i] == (rank == root ? expected : value_of(rank, i));
    }
    EXPECT_TRUE(everywhere(ok));
}

TEST(Communicator, AllGatherOfUnequalCounts) {
    const auto world = mpi::Communicator::world();
    // Rank r gives r + 1 values 100r, 100r + 1, ...
    std::vector<long> mine;
    for (int i = 0; i <= world.rank(); ++i) mine.push_back(100L * world.rank() + i);
    const std::vector<double> mine_doubles(mine.begin(), mine.end());
    const std::vector<long> all = world.all_gather(mine.data(), static_cast<long>(mine.size()));
    const std::vector<double> all_doubles =
        world.all_gather(mine_doubles.data(), static_cast<long>(mine_doubles.size()));
    std::vector<long> expected;
    for (int r = 0; r < world.size(); ++r)
        for (int i = 0; i <= r; ++i) expected.push_back(100L * r + i);
    EXPECT_TRUE(everywhere(all == expected));
    EXPECT_TRUE(everywhere(all_doubles == std::vector<double>(expected.begin(), expected.end())));
}

TEST(Communicator, AllToAllDeliversEachBlockToItsRank) {
    const auto world = mpi::Communicator::world();
    const int size = world.size(), rank = world.rank();
    const auto n = static_cast<std::size_t>(size);
    // Rank r sends s + 1 values 1000r + 10s + i to rank s (so s receives s + 1 from everyone),
    // packed in rank order.
    std::vector<long> send_counts(n), send_offsets(n), received_counts(n), received_offsets(n);
    std::vector<double> send;
    for (int s = 0; s < size; ++s) {
        const auto si = static_cast<std::size_t>(s);
        send_counts[si] = s + 1;
        send_offsets[si] = static_cast<long>(send.size());
        for (int i = 0; i <= s; ++i) send.push_back(1000.0 * rank + 10.0 * s + i);
        received_counts[si] = rank + 1;
        received_offsets[si] = static_cast<long>(si) * (rank + 1);
    }
    std::vector<double> received(n * static_cast<std::size_t>(rank + 1), -1.0);
    world.all_to_all(send.data(), send_counts, send_offsets, received.data(), received_counts,
                     received_offsets);
    std::vector<double> expected;
    for (int s = 0; s < size; ++s)
        for (int i = 0; i <= rank; ++i) expected.push_back(1000.0 * s + 10.0 * rank + i);
    EXPECT_TRUE(everywhere(received == expected));

    // Not one count per rank: refused on every rank before any message moves.
    const std::vector<long> short_counts(n + 1, 0);
    EXPECT_THROW(world.all_to_all(send.data(), short_counts, send_offsets, received.data(),
                                  received_counts, received_offsets),
                 RuntimeFailure);
}

TEST(Communicator, SameProcesses) {
    const auto world = mpi::Communicator::world();
    const int size = world.size(), rank = world.rank();
    const auto copy = world.split(0, rank);                 // the same ranks in the same order
    const auto reversed = world.split(0, size - 1 - rank);  // the same ranks, reordered
    const auto self = mpi::Communicator::self();
    EXPECT_TRUE(everywhere(world.same_processes(copy) && copy.same_processes(world)));
    EXPECT_TRUE(everywhere(world.same_processes(reversed) == (size == 1)));
    EXPECT_TRUE(everywhere(world.same_processes(self) == (size == 1)));
}
