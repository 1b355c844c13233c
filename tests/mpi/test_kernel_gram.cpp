// The kernels' rows spread over a run group (theory/ntk.hpp, KernelPlacement), from sharded
// weights (each rank its hidden units, the products over the units reduced to the rows' holder)
// and from replicated weights (each rank its rows, no communication): gathered, they equal the
// whole kernel computed on one rank, and so does the relative change of kernels held as rows.
// The sums over the units run in another order (and in syrk against gemm): round-off, ~1e-15
// relative; 1e-12 is the bound, far below any term's O(1) share of Θ.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>
#include <vector>

#include "grids.hpp"
#include "linalg/blas.hpp"
#include "linalg/distribution.hpp"
#include "model/sharded_two_layer.hpp"
#include "model/supervised.hpp"
#include "theory/ntk.hpp"

using namespace ssldyn;

namespace {

constexpr Index d = 7, k = 3;

struct Probed {
    TwoLayerWeights w;
    Matrix probes;
};

Probed probed(Index h, Index p, std::uint64_t seed) {
    RandomStream stream(seed);
    const TwoLayerRule rule{true, Retraction::qr, 0.0, 0.0};
    return {initial_two_layer_weights(rule, d, h, k, stream), gaussian_matrix(stream, d, p)};
}

// The whole kernel from every rank's rows, on every rank; each rank's rows are its balanced share.
Matrix gathered(const KernelRows& held, const mpi::Communicator& group) {
    const Share share = balanced_share(held.m, group.rank(), group.size());
    EXPECT_EQ(held.first, share.begin);
    EXPECT_EQ(held.rows.rows(), share.size());
    EXPECT_EQ(held.rows.cols(), held.m);
    const Matrix t = transpose(held.rows);  // rows as columns: contiguous, in rank order
    const std::vector<double> all = group.all_gather(t.data(), t.size());
    Matrix whole(held.m, held.m);
    EXPECT_EQ(static_cast<Index>(all.size()), whole.size());
    std::copy(all.begin(), all.end(), whole.data());
    return transpose(whole);
}

double worst_of(const TangentKernels& spread, const TangentKernels& whole,
                const mpi::Communicator& group) {
    return std::max(relative_change(gathered(spread.full, group), whole.full.rows),
                    relative_change(gathered(spread.tangent, group), whole.tangent.rows));
}

// Calls check(group, label) for groups of 2 and 4 ranks as far as the world allows.
template <class Check>
void for_each_group(Check check) {
    const auto world = mpi::Communicator::world();
    for (int g : {2, 4}) {
        if (g > world.size() || world.size() % g != 0) continue;
        const auto group = world.split(world.rank() / g, world.rank());
        check(group, "group of " + std::to_string(g));
    }
}

}  // namespace

// Wide W₁ (h > d, uneven over 2 and 4 ranks), constrained and not; m = p·k = 15 rows uneven over
// the group, and m = 3 < 4 (ranks with no rows). The shards alone (rows whole, summed on every
// rank) as well.
TEST(KernelGram, RowsFromShardedWeightsEqualTheWholeKernel) {
    for_each_group([](const mpi::Communicator& group, const std::string& label) {
        for (const Index p : {Index{5}, Index{1}})
            for (const bool constrained : {false, true}) {
                const Probed s = probed(23, p, 41);
                const TangentKernels whole =
                    tangent_kernels(s.w, Activation::tanh, s.probes, constrained);
                const TwoLayerWeights local = shard_of(s.w, group);
                const TangentKernels spread = tangent_kernels(local, Activation::tanh, s.probes,
                                                              constrained, {&group, &group});
                const TangentKernels summed = tangent_kernels(local, Activation::tanh, s.probes,
                                                              constrained, {&group, nullptr});
                const double worst = worst_of(spread, whole, group);
                EXPECT_TRUE(test::everywhere(worst < 1e-12))
                    << label << ", p = " << p << ": " << worst;
                EXPECT_EQ(summed.full.rows.rows(), p * k);
                const double summed_error =
                    std::max(relative_change(summed.full.rows, whole.full.rows),
                             relative_change(summed.tangent.rows, whole.tangent.rows));
                EXPECT_TRUE(test::everywhere(summed_error < 1e-12))
                    << label << ": " << summed_error;
            }
    });
}

// Replicated weights, W₁ with orthonormal rows (h < d) and columns (h > d), and the supervised
// baseline's kernel: each rank computes its rows alone.
TEST(KernelGram, RowsFromReplicatedWeightsEqualTheWholeKernel) {
    for_each_group([](const mpi::Communicator& group, const std::string& label) {
        for (const Index h : {Index{4}, Index{23}}) {
            const Probed s = probed(h, 5, 42);
            const TangentKernels whole = tangent_kernels(s.w, Activation::gelu, s.probes, true);
            const TangentKernels spread =
                tangent_kernels(s.w, Activation::gelu, s.probes, true, {nullptr, &group});
            const double worst = worst_of(spread, whole, group);
            EXPECT_TRUE(test::everywhere(worst < 1e-12)) << label << ", h = " << h << ": " << worst;
        }
        RandomStream stream(43);
        const TwoLayerWeights w = ntk_initial_weights(d, 11, k, stream);
        const Matrix probes = gaussian_matrix(stream, d, 5);
        const double supervised =
            relative_change(gathered(ntk_kernel(w, Activation::erf, probes, &group), group),
                            ntk_kernel(w, Activation::erf, probes).rows);
        EXPECT_TRUE(test::everywhere(supervised < 1e-12)) << label << ": " << supervised;
    });
}

// ‖Θ − Θ₀‖_F/‖Θ₀‖_F between the kernels at two networks, from rows spread over the group (the
// squared norms summed over it) and from the whole kernels.
TEST(KernelGram, RelativeChangeOfSpreadRowsEqualsTheWholeOne) {
    for_each_group([](const mpi::Communicator& group, const std::string& label) {
        const Probed start = probed(23, 5, 44), now = probed(23, 5, 45);
        const ConstView probes = start.probes;
        const TangentKernels whole0 = tangent_kernels(start.w, Activation::tanh, probes, true);
        const TangentKernels whole = tangent_kernels(now.w, Activation::tanh, probes, true);
        const KernelPlacement at{&group, &group};
        const TangentKernels spread0 =
            tangent_kernels(shard_of(start.w, group), Activation::tanh, probes, true, at);
        const TangentKernels spread =
            tangent_kernels(shard_of(now.w, group), Activation::tanh, probes, true, at);
        for (const auto& [a, b, a0, b0] :
             {std::tuple{&spread.full, &whole.full, &spread0.full, &whole0.full},
              {&spread.tangent, &whole.tangent, &spread0.tangent, &whole0.tangent}}) {
            const double want = relative_change(*b, *b0, nullptr);
            const double got = relative_change(*a, *a0, &group);
            EXPECT_GT(want, 0.1);  // two unrelated networks: far from each other
            EXPECT_TRUE(test::everywhere(std::fabs(got - want) < 1e-12 * want))
                << label << ": " << got << " against " << want;
        }
    });
}
