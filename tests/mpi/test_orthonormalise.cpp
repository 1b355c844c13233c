// Tall-skinny orthonormalisation: each method against the serial LAPACK factor on every grid the
// rank count allows, orthogonality kept over 1000 repeated steps, and CholeskyQR2's fallback.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "../unit/test_support.hpp"
#include "core/error.hpp"
#include "grids.hpp"
#include "linalg/blas.hpp"
#include "linalg/lapack.hpp"
#include "linalg/orthonormalise.hpp"
#include "random/stream.hpp"

using namespace ssldyn;
using test::everywhere;
using test::for_each_grid;

namespace {

using Method = Orthonormalisation;
const Method methods[] = {Method::householder, Method::cholesky_qr2, Method::polar_svd,
                          Method::newton_schulz};

bool is_polar(Method method) {
    return method == Method::polar_svd || method == Method::newton_schulz;
}

// ‖QᵀQ − I‖_F
double orthogonality_error(const Matrix& q) {
    Matrix gram = multiply(Op::transpose, Op::none, q, q);
    for (Index i = 0; i < gram.cols(); ++i) gram(i, i) -= 1.0;
    return frobenius_norm(gram);
}

Matrix polar_factor(const Matrix& a) {
    const Svd svd = thin_svd(a);
    return multiply(svd.u, svd.vt);
}

// U diag(s) Vᵀ with s log-spaced from 1 down to 1/condition.
Matrix with_condition(RandomStream& stream, Index m, Index n, double condition) {
    const Matrix u = orthonormal_factor(gaussian_matrix(stream, m, n).view());
    const Matrix v = orthonormal_factor(gaussian_matrix(stream, n, n).view());
    Matrix us = u;
    for (Index j = 0; j < n; ++j)
        scale(std::pow(condition, -static_cast<double>(j) / static_cast<double>(n - 1)),
              us.columns(j, 1));
    return multiply(Op::none, Op::transpose, us, v);
}

std::string where(const std::string& grid, Index mb, Index nb, Method method) {
    return "grid " + grid + " blocks " + std::to_string(mb) + "x" + std::to_string(nb) + " " +
           std::string(name_of(orthonormalisation_names, method));
}

}  // namespace

TEST(Orthonormalise, NamesAndAutomaticChoice) {
    for (const auto& [method, name] : orthonormalisation_names) {
        EXPECT_EQ(parse_name(orthonormalisation_names, name, "orthonormalisation"), method);
        EXPECT_EQ(name_of(orthonormalisation_names, method), name);
    }
    EXPECT_THROW(parse_name(orthonormalisation_names, "gram_schmidt", "orthonormalisation"),
                 InputError);
    EXPECT_EQ(resolve(Method::automatic, 65536, 1024), Method::cholesky_qr2);
    EXPECT_EQ(resolve(Method::automatic, 100, 50), Method::cholesky_qr2);
    EXPECT_EQ(resolve(Method::automatic, 100, 51), Method::householder);
    EXPECT_EQ(resolve(Method::polar_svd, 100, 51), Method::polar_svd);
}

TEST(Orthonormalise, EachMethodMatchesTheSerialFactor) {
    // 37 x 23 goes through PBLAS on every grid but 1 x 1; 150 x 23 through the row-local
    // products on the P x 1 grids too (scalapack.cpp).
    for (Index height : {37, 150}) {
        RandomStream stream(21);
        const Matrix a = gaussian_matrix(stream, height, 23);
        const Matrix qr_reference = orthonormal_factor(a.view()), polar_reference = polar_factor(a);
        const std::pair<Index, Index> blockings[] = {{4, 4}, {8, 8}, {64, 64}, {5, 3}};
        for_each_grid([&](const mpi::Communicator&, const BlacsGrid& grid,
                          const std::string& label) {
            for (const auto& [mb, nb] : blockings)
                for (Method method : methods) {
                    auto q = DistributedMatrix::scatter(grid, a, mb, nb);
                    const OrthonormalisationReport report = orthonormalise(method, q);
                    const Matrix& reference = is_polar(method) ? polar_reference : qr_reference;
                    // Both factors are unique and perturbed by about κ(A)·u·√(mn) ≈ 1e-13 (κ ≈ 9).
                    const double error = support::relative_difference(q.gather(), reference);
                    EXPECT_TRUE(everywhere(error < 1e-12))
                        << where(label, mb, nb, method) << ": " << error;
                    EXPECT_TRUE(everywhere(report.method == method && !report.fell_back))
                        << where(label, mb, nb, method);
                    if (method == Method::cholesky_qr2) {
                        // κ₁(AᵀA) is about 300 (37 x 23) or 4 (150 x 23): far below the limit.
                        EXPECT_TRUE(
                            everywhere(report.gram_condition >= 1 && report.gram_condition < 1e4))
                            << where(label, mb, nb, method) << ": " << report.gram_condition;
                    }
                    if (method == Method::newton_schulz) {
                        EXPECT_TRUE(everywhere(report.iterations > 0 && report.iterations < 30))
                            << where(label, mb, nb, method) << ": " << report.iterations;
                    }
                }
        });
    }
}

TEST(Orthonormalise, ThousandStepsKeepOrthogonality) {
    const Index m = 24, n = 5, nb = 4;
    RandomStream start(22);
    const Matrix q0 = orthonormal_factor(gaussian_matrix(start, m, n).view());
    for_each_grid([&](const mpi::Communicator&, const BlacsGrid& grid, const std::string& label) {
        for (Method method : methods) {
            auto q = DistributedMatrix::scatter(grid, q0, nb, nb);
            int most_iterations = 0;
            bool fell_back = false;
            for (int step = 0; step < 1000; ++step) {
                // A retraction-sized step: Q + 1e-3·G, G Gaussian, drawn the same on every rank.
                RandomStream stream(23, static_cast<std::uint64_t>(step));
                const auto step_matrix =
                    DistributedMatrix::scatter(grid, gaussian_matrix(stream, m, n, 1e-3), nb, nb);
                axpy(1.0, step_matrix.local(), q.local());
                const OrthonormalisationReport report = orthonormalise(method, q);
                most_iterations = std::max(most_iterations, report.iterations);
                fell_back = fell_back || report.fell_back;
            }
            // Each method projects onto the manifold, so rounding cannot accumulate over the
            // steps: the error stays at a few n·u (≈ 1e-15), far below 1e-12.
            const double error = orthogonality_error(q.gather());
            const auto name = name_of(orthonormalisation_names, method);
            EXPECT_TRUE(everywhere(error < 1e-12)) << label << " " << name << ": " << error;
            EXPECT_TRUE(everywhere(!fell_back)) << label << " " << name;
            // Near the manifold Newton–Schulz converges quadratically: 4 updates at most.
            if (method == Method::newton_schulz) {
                EXPECT_TRUE(everywhere(most_iterations <= 4)) << label << ": " << most_iterations;
            }
        }
    });
}

TEST(Orthonormalise, CholeskyQr2FallsBackWhenTheGramIsIllConditioned) {
    RandomStream stream(24);
    const Matrix cond12 = with_condition(stream, 60, 8, 1e12);
    const Matrix cond5 = with_condition(stream, 60, 8, 1e5);
    const Matrix cond1 = with_condition(stream, 60, 8, 10.0);
    for_each_grid([&](const mpi::Communicator&, const BlacsGrid& grid, const std::string& label) {
        for (Index nb : {4, 64}) {
            // κ(A) = 1e12: κ(AᵀA) ≈ 1e24 > 1/u, pdpotrf fails or the estimate is huge.
            auto q = DistributedMatrix::scatter(grid, cond12, nb, nb);
            OrthonormalisationReport report = orthonormalise(Method::cholesky_qr2, q);
            EXPECT_TRUE(everywhere(report.fell_back &&
                                   report.gram_condition > cholesky_qr2_condition_limit))
                << label << " nb " << nb << ": " << report.gram_condition;
            // Householder is backward stable whatever κ: orthonormal to a few n·u, spanning the
            // columns of A to a few u relative (not equal to the serial Q: that differs by κ·u).
            Matrix q_all = q.gather();
            const double orthogonality = orthogonality_error(q_all);
            Matrix projected = multiply(q_all, multiply(Op::transpose, Op::none, q_all, cond12));
            const double residual = support::relative_difference(projected, cond12);
            EXPECT_TRUE(everywhere(orthogonality < 1e-13 && residual < 1e-13))
                << label << " nb " << nb << ": " << orthogonality << ", " << residual;

            // κ(A) = 1e5: pdpotrf succeeds (κ(AᵀA) ≈ 1e10 < 1/u), the estimate sends it back.
            q = DistributedMatrix::scatter(grid, cond5, nb, nb);
            report = orthonormalise(Method::cholesky_qr2, q);
            EXPECT_TRUE(everywhere(report.fell_back && std::isfinite(report.gram_condition) &&
                                   report.gram_condition > cholesky_qr2_condition_limit))
                << label << " nb " << nb << ": " << report.gram_condition;
            q_all = q.gather();
            EXPECT_TRUE(everywhere(orthogonality_error(q_all) < 1e-13)) << label << " nb " << nb;

            // κ(A) = 10: no fallback, and auto picks CholeskyQR2 for 60 x 8.
            q = DistributedMatrix::scatter(grid, cond1, nb, nb);
            report = orthonormalise(Method::automatic, q);
            EXPECT_TRUE(everywhere(report.method == Method::cholesky_qr2 && !report.fell_back))
                << label << " nb " << nb;
            const double error =
                support::relative_difference(q.gather(), orthonormal_factor(cond1.view()));
            EXPECT_TRUE(everywhere(error < 1e-12)) << label << " nb " << nb << ": " << error;
        }
    });
}

TEST(Orthonormalise, NewtonSchulzRefusesARankDeficientMatrix) {
    const auto world = mpi::Communicator::world();
    const BlacsGrid grid = BlacsGrid::tall(world);
    RandomStream stream(25);
    Matrix a = gaussian_matrix(stream, 30, 4);
    for (Index i = 0; i < a.rows(); ++i) a(i, 2) = 0.0;
    auto d = DistributedMatrix::scatter(grid, a, 4, 4);
    // The zero singular value never moves; every rank sees the same global error, so every
    // rank throws after the same iteration.
    EXPECT_THROW(orthonormalise(Method::newton_schulz, d), RuntimeFailure);
}
