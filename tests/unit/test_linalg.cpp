// The BLAS/LAPACK wrappers against plain loops and defining identities; blocks of Gaussian draws.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "metrics/metrics.hpp"
#include "test_support.hpp"

using namespace ssldyn;

TEST(Blas, GemmAllTransposesMatchLoops) {
    RandomStream stream(1);
    const Matrix a = gaussian_matrix(stream, 5, 7), b = gaussian_matrix(stream, 7, 3);
    const Matrix at = transpose(a), bt = transpose(b);
    Matrix reference(5, 3);
    for (Index i = 0; i < 5; ++i)
        for (Index j = 0; j < 3; ++j)
            for (Index l = 0; l < 7; ++l) reference(i, j) += a(i, l) * b(l, j);
    EXPECT_LT(support::relative_difference(multiply(a, b), reference), 1e-15);
    EXPECT_LT(support::relative_difference(multiply(Op::transpose, Op::none, at, b), reference),
              1e-15);
    EXPECT_LT(support::relative_difference(multiply(Op::none, Op::transpose, a, bt), reference),
              1e-15);
    EXPECT_LT(
        support::relative_difference(multiply(Op::transpose, Op::transpose, at, bt), reference),
        1e-15);
    Matrix wrong(4, 3);
    EXPECT_THROW(gemm(Op::none, Op::none, 1.0, a, b, 0.0, wrong), RuntimeFailure);
}

TEST(Lapack, EigenSvdSolveReconstruct) {
    const Matrix c = support::symmetric_with_spectrum({2.0, -1.0, 0.5, 0.25}, 2);
    const SymmetricEigen e = symmetric_eigen(c);
    Matrix scaled = e.vectors;
    for (Index j = 0; j < 4; ++j)
        for (Index i = 0; i < 4; ++i) scaled(i, j) *= e.values[static_cast<std::size_t>(j)];
    EXPECT_LT(support::relative_difference(multiply(Op::none, Op::transpose, scaled, e.vectors), c),
              1e-14);
    EXPECT_NEAR(e.values.front(), 2.0, 1e-14);
    EXPECT_NEAR(e.values.back(), -1.0, 1e-14);

    RandomStream stream(3);
    const Matrix a = gaussian_matrix(stream, 3, 8);
    const Svd svd = thin_svd(a);
    Matrix us = svd.u;
    for (Index j = 0; j < 3; ++j)
        for (Index i = 0; i < 3; ++i) us(i, j) *= svd.s[static_cast<std::size_t>(j)];
    EXPECT_LT(support::relative_difference(multiply(us, svd.vt), a), 1e-14);
    const std::vector<double> values_only = singular_values(a);  // another LAPACK path: round-off
    for (std::size_t i = 0; i < 3; ++i) EXPECT_NEAR(values_only[i], svd.s[i], 1e-14 * svd.s[0]);

    const Matrix m = gaussian_matrix(stream, 4, 4), rhs = gaussian_matrix(stream, 4, 2);
    EXPECT_LT(support::relative_difference(multiply(m, solve(m, rhs)), rhs), 1e-12);
    EXPECT_THROW(solve(Matrix(3, 3), Matrix(3, 1)), RuntimeFailure);
}

TEST(Lapack, TriangularDiagonalIsTheGramSchmidtNorms) {
    // Columns a1 = (3, 4, 0), a2 = (1, 0, 0) + 2 a1, a3 = (0, 0, -2) + a1 - 5 a2: the parts
    // orthogonal to the columns before are (3, 4, 0), (1, 0, 0) - (3/25)(3, 4, 0) = (16, -12, 0)/25
    // and (0, 0, -2), of norms 5, 4/5 and 2.
    Matrix a(3, 3);
    const double a1[] = {3, 4, 0}, e1[] = {1, 0, 0}, e3[] = {0, 0, -2};
    for (Index i = 0; i < 3; ++i) {
        a(i, 0) = a1[i];
        a(i, 1) = e1[i] + 2 * a1[i];
        a(i, 2) = e3[i] + a1[i] - 5 * a(i, 1);
    }
    const std::vector<double> r = triangular_diagonal(a);
    ASSERT_EQ(r.size(), 3u);
    // Householder QR of entries below 60: each |r_jj| to a few ulps of the largest entry.
    EXPECT_NEAR(r[0], 5.0, 1e-13);
    EXPECT_NEAR(r[1], 0.8, 1e-13);
    EXPECT_NEAR(r[2], 2.0, 1e-13);
    EXPECT_TRUE(triangular_diagonal(Matrix(4, 0)).empty());
}

// dgesdd loops for ever on an infinity (measured: killed after 30 s): every factorisation refuses
// a non-finite entry at once, wherever it sits, with a RuntimeFailure naming the routine.
TEST(Lapack, NonFiniteInputIsRefusedBeforeAnyFactorisation) {
    RandomStream stream(4);
    for (const double bad : {std::numeric_limits<double>::infinity(),
                             -std::numeric_limits<double>::infinity(), std::nan("")}) {
        Matrix tall = gaussian_matrix(stream, 8, 3), square = gaussian_matrix(stream, 4, 4);
        tall(7, 2) = bad;
        square(0, 3) = bad;
        square(3, 0) = bad;  // symmetric, as dsyevd's input
        const auto expect_refused = [](const auto& call, const std::string& routine) {
            try {
                call();
                ADD_FAILURE() << routine << " took a non-finite matrix";
            } catch (const RuntimeFailure& e) {
                EXPECT_NE(std::string(e.what()).find(routine + ": "), std::string::npos)
                    << e.what();
                EXPECT_NE(std::string(e.what()).find("non-finite"), std::string::npos) << e.what();
            }
        };
        expect_refused([&] { thin_svd(tall); }, "dgesdd");
        expect_refused([&] { singular_values(transpose(tall)); }, "dgesdd");
        expect_refused([&] { symmetric_eigen(square); }, "dsyevd");
        expect_refused([&] { orthonormal_factor(tall); }, "dgeqrf");
        expect_refused([&] { triangular_diagonal(tall); }, "dgeqrf");
        expect_refused([&] { solve(square, Matrix(4, 1)); }, "dgesv");
        expect_refused([&] { solve(Matrix::identity(8), tall); }, "dgesv");
    }
}

TEST(Metrics, EffectiveRankAndSubspaceDistance) {
    EXPECT_NEAR(effective_rank({1.0, 1.0, 1.0}), 3.0, 1e-15);
    EXPECT_NEAR(effective_rank({1.0, 0.0, 0.0}), 1.0, 1e-15);
    // p = (2/3, 1/3): exp(−Σ p log p)
    EXPECT_NEAR(effective_rank({2.0, 1.0}),
                std::exp(-(2.0 / 3 * std::log(2.0 / 3) + 1.0 / 3 * std::log(1.0 / 3))), 1e-15);
    // Two lines in the plane at angle θ: ‖P₁ − P₂‖_F = √2 sin θ.
    const double theta = 0.3;
    Matrix a(1, 2), b(1, 2);
    a(0, 0) = 1.0;
    b(0, 0) = std::cos(theta);
    b(0, 1) = std::sin(theta);
    EXPECT_NEAR(subspace_distance(a, b), std::sqrt(2.0) * std::sin(theta), 1e-15);
    // Distances invariant to a change of basis inside the row space.
    Matrix b3 = b;
    scale(-7.0, b3);
    EXPECT_NEAR(subspace_distance(a, b3), std::sqrt(2.0) * std::sin(theta), 1e-15);
}

// A block drawn alone is that block of the whole matrix, and the stream goes on where the whole
// draw leaves it (how a rank draws its share of a matrix no rank holds).
TEST(RandomStream, GaussianBlockIsTheBlockOfTheWholeDraw) {
    RandomStream whole_stream(4, 1), block_stream(4, 1);
    const Matrix whole = gaussian_matrix(whole_stream, 9, 7, 0.5);
    const Matrix block = gaussian_block(block_stream, 9, 7, {2, 5, 3, 4}, 0.5);
    ASSERT_EQ(block.rows(), 5);
    ASSERT_EQ(block.cols(), 4);
    for (Index j = 0; j < 4; ++j)
        for (Index i = 0; i < 5; ++i) EXPECT_EQ(block(i, j), whole(2 + i, 3 + j));
    EXPECT_EQ(block_stream.position(), whole_stream.position());
    EXPECT_EQ(block_stream.normal(), whole_stream.normal());
    EXPECT_THROW(gaussian_block(block_stream, 9, 7, {8, 2, 0, 1}), InputError);
}
