// Each distributed routine against serial BLAS/LAPACK on the same input, on every grid the rank
// count allows (1x1 is the serial path) and with block sizes that do and do not divide the
// dimensions (37 x 23 with blocks 4, 8, 64; 64 is one block holding everything).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "../unit/test_support.hpp"
#include "grids.hpp"
#include "linalg/blas.hpp"
#include "linalg/lapack.hpp"
#include "linalg/scalapack.hpp"
#include "random/stream.hpp"

using namespace ssldyn;
using test::everywhere;
using test::for_each_grid;

namespace {

const Index blocks[] = {4, 8, 64};

std::string where(const std::string& grid, Index nb) {
    return "grid " + grid + " nb " + std::to_string(nb);
}

Matrix symmetric_part(const Matrix& a) {
    Matrix s = a;
    axpy(1.0, transpose(a), s);
    scale(0.5, s);
    return s;
}

// 37 x 23 takes PBLAS everywhere but on 1 x 1; 150 x 23 also takes the row-local products of
// scalapack.cpp on the 2 x 1 and 4 x 1 grids (they need m >= P·n).
const Index heights[] = {37, 150};

}  // namespace

TEST(ScaLapack, PgemmMatchesDgemm) {
    RandomStream stream(7);
    const Matrix a = gaussian_matrix(stream, 37, 23), b = gaussian_matrix(stream, 23, 29);
    const Matrix at = transpose(a);
    const Matrix reference = multiply(a, b);
    for_each_grid([&](const mpi::Communicator&, const BlacsGrid& grid, const std::string& label) {
        for (Index nb : blocks) {
            const auto da = DistributedMatrix::scatter(grid, a, nb, nb);
            const auto dat = DistributedMatrix::scatter(grid, at, nb, nb);
            const auto db = DistributedMatrix::scatter(grid, b, nb, nb);
            DistributedMatrix dc(grid, 37, 29, nb, nb);
            pgemm(Op::none, Op::none, 1.0, da, db, 0.0, dc);
            // The same 23 products summed in another order: round-off, 23u relative at most.
            const double error = support::relative_difference(dc.gather(), reference);
            EXPECT_TRUE(everywhere(error < 1e-13)) << where(label, nb) << ": " << error;
            pgemm(Op::transpose, Op::none, 1.0, dat, db, 0.0, dc);
            const double transposed_error = support::relative_difference(dc.gather(), reference);
            EXPECT_TRUE(everywhere(transposed_error < 1e-13))
                << where(label, nb) << ": " << transposed_error;
        }
    });
}

TEST(ScaLapack, TallTimesSmallAndTallTransposedTimesTall) {
    RandomStream stream(17);
    const Matrix a = gaussian_matrix(stream, 150, 23), b = gaussian_matrix(stream, 23, 23);
    const Matrix c = gaussian_matrix(stream, 150, 9);
    const Matrix product = multiply(a, b), product_t = multiply(a, transpose(b));
    const Matrix cross = multiply(Op::transpose, Op::none, a, c);
    for_each_grid([&](const mpi::Communicator&, const BlacsGrid& grid, const std::string& label) {
        for (Index nb : blocks) {
            const auto da = DistributedMatrix::scatter(grid, a, nb, nb);
            const auto db = DistributedMatrix::scatter(grid, b, nb + 1, nb);
            const auto dc = DistributedMatrix::scatter(grid, c, nb, 4);
            // Sums of 23 or 150 products in another order: round-off, 1e-13 relative is ample.
            DistributedMatrix out(grid, 150, 23, nb, nb);
            pgemm(Op::none, Op::none, 1.0, da, db, 0.0, out);
            const double error = support::relative_difference(out.gather(), product);
            EXPECT_TRUE(everywhere(error < 1e-13)) << where(label, nb) << ": " << error;
            pgemm(Op::none, Op::transpose, 1.0, da, db, 0.0, out);
            const double error_bt = support::relative_difference(out.gather(), product_t);
            EXPECT_TRUE(everywhere(error_bt < 1e-13)) << where(label, nb) << ": " << error_bt;
            DistributedMatrix small(grid, 23, 9, nb, nb);
            pgemm(Op::transpose, Op::none, 1.0, da, dc, 0.0, small);
            const double error_cross = support::relative_difference(small.gather(), cross);
            EXPECT_TRUE(everywhere(error_cross < 1e-13)) << where(label, nb) << ": " << error_cross;
            // With beta: 2·AᵀC − (AᵀC) is AᵀC again.
            pgemm(Op::transpose, Op::none, 2.0, da, dc, -1.0, small);
            const double error_beta = support::relative_difference(small.gather(), cross);
            EXPECT_TRUE(everywhere(error_beta < 1e-13)) << where(label, nb) << ": " << error_beta;
        }
    });
}

TEST(ScaLapack, GramMatrixBySyrkIsExactlySymmetric) {
    for (Index height : heights) {
        RandomStream stream(8);
        const Matrix a = gaussian_matrix(stream, height, 23);
        const Matrix gram = multiply(Op::transpose, Op::none, a, a);
        const Matrix outer = multiply(Op::none, Op::transpose, a, a);
        for_each_grid(
            [&](const mpi::Communicator&, const BlacsGrid& grid, const std::string& label) {
                for (Index nb : blocks) {
                    const std::string at = where(label, nb) + " m " + std::to_string(height);
                    // Rows and columns in different blocks: the Gram takes A's column blocking.
                    const auto da = DistributedMatrix::scatter(grid, a, nb + 1, nb);
                    DistributedMatrix g(grid, 23, 23, nb, nb);
                    psyrk(Op::transpose, 1.0, da, 0.0, g);
                    const Matrix g_all = g.gather();
                    // At most 150 products of O(1) numbers summed in another order: 150u relative.
                    const double error = support::relative_difference(g_all, gram);
                    EXPECT_TRUE(everywhere(error < 1e-13)) << at << ": " << error;
                    EXPECT_TRUE(
                        everywhere(support::relative_difference(g_all, transpose(g_all)) == 0.0))
                        << at << ": not exactly symmetric";
                    // With beta: 2·AᵀA − AᵀA is AᵀA again (and stays exactly symmetric).
                    psyrk(Op::transpose, 2.0, da, -1.0, g);
                    const Matrix again = g.gather();
                    EXPECT_TRUE(
                        everywhere(support::relative_difference(again, gram) < 1e-13 &&
                                   support::relative_difference(again, transpose(again)) == 0.0))
                        << at;
                    DistributedMatrix h(grid, height, height, nb + 1, nb + 1);
                    psyrk(Op::none, 1.0, da, 0.0, h);
                    const double error_h = support::relative_difference(h.gather(), outer);
                    EXPECT_TRUE(everywhere(error_h < 1e-13)) << at << ": " << error_h;
                }
            });
    }
}

TEST(ScaLapack, SymmetricRank2kIsExactlySymmetric) {
    RandomStream stream(13);
    for (Index height : heights) {
        const Matrix a = gaussian_matrix(stream, height, 23),
                     b = gaussian_matrix(stream, height, 23);
        Matrix outer(height, height), inner(23, 23);
        syr2k(Op::none, 0.5, a, b, 0.0, outer);
        syr2k(Op::transpose, 0.5, a, b, 0.0, inner);
        for_each_grid(
            [&](const mpi::Communicator&, const BlacsGrid& grid, const std::string& label) {
                for (Index nb : blocks) {
                    const std::string at = where(label, nb) + " height " + std::to_string(height);
                    const auto da = DistributedMatrix::scatter(grid, a, nb, nb);
                    const auto db = DistributedMatrix::scatter(grid, b, nb, nb);
                    DistributedMatrix c(grid, height, height, nb, nb);
                    psyr2k(Op::none, 0.5, da, db, 0.0, c);
                    const Matrix c_all = c.gather();
                    // 2·23 products summed in another order: 46u relative at most.
                    const double error = support::relative_difference(c_all, outer);
                    EXPECT_TRUE(everywhere(error < 1e-13)) << at << ": " << error;
                    EXPECT_TRUE(
                        everywhere(support::relative_difference(c_all, transpose(c_all)) == 0.0))
                        << at << ": not exactly symmetric";
                    DistributedMatrix g(grid, 23, 23, nb, nb);
                    psyr2k(Op::transpose, 0.5, da, db, 0.0, g);
                    const double error_g = support::relative_difference(g.gather(), inner);
                    EXPECT_TRUE(everywhere(error_g < 1e-13)) << at << ": " << error_g;
                }
            });
    }
}

TEST(ScaLapack, NormsMatchSerial) {
    RandomStream stream(9);
    const Matrix a = gaussian_matrix(stream, 37, 23);
    double column_sum = 0;
    for (Index j = 0; j < a.cols(); ++j) {
        double sum = 0;
        for (Index i = 0; i < a.rows(); ++i) sum += std::abs(a(i, j));
        column_sum = std::max(column_sum, sum);
    }
    const double frobenius = frobenius_norm(a.view());
    for_each_grid([&](const mpi::Communicator&, const BlacsGrid& grid, const std::string& label) {
        for (Index nb : blocks) {
            const auto da = DistributedMatrix::scatter(grid, a, nb, nb);
            // Sums of 37 (or 851) positive terms in another order: 1e-13 relative is ample.
            EXPECT_TRUE(everywhere(std::abs(norm1(da) - column_sum) < 1e-13 * column_sum))
                << where(label, nb);
            EXPECT_TRUE(everywhere(std::abs(frobenius_norm(da) - frobenius) < 1e-13 * frobenius))
                << where(label, nb);
        }
    });
}

TEST(ScaLapack, SymmetricEigenMatchesDsyevd) {
    RandomStream stream(10);
    const Matrix s = symmetric_part(gaussian_matrix(stream, 23, 23));
    const SymmetricEigen reference = symmetric_eigen(s.view());
    double gap = INFINITY;
    for (std::size_t i = 1; i < reference.values.size(); ++i)
        gap = std::min(gap, reference.values[i - 1] - reference.values[i]);
    ASSERT_GT(gap, 1e-2);
    for_each_grid([&](const mpi::Communicator&, const BlacsGrid& grid, const std::string& label) {
        for (Index nb : blocks) {
            // Non-square blocks on input: the wrapper moves them to square ones for pdsyevd.
            const auto ds = DistributedMatrix::scatter(grid, s, nb, nb == 4 ? 5 : nb);
            const DistributedSymmetricEigen eig = symmetric_eigen(ds);
            // Backward-stable solvers: values within u‖S‖ (‖S‖ ≈ 7) of each other, so 1e-12
            // absolute; vectors within u‖S‖/gap ≈ 1e-13 (gap > 1e-2), so 1e-10 up to sign.
            double value_error = 0;
            for (std::size_t i = 0; i < eig.values.size(); ++i)
                value_error = std::max(value_error, std::abs(eig.values[i] - reference.values[i]));
            EXPECT_TRUE(everywhere(value_error < 1e-12)) << where(label, nb) << ": " << value_error;
            Matrix v = eig.vectors.gather();
            for (Index j = 0; j < v.cols(); ++j) {
                double dot = 0;
                for (Index i = 0; i < v.rows(); ++i) dot += v(i, j) * reference.vectors(i, j);
                if (dot < 0)
                    for (Index i = 0; i < v.rows(); ++i) v(i, j) = -v(i, j);
            }
            const double vector_error = support::relative_difference(v, reference.vectors);
            EXPECT_TRUE(everywhere(vector_error < 1e-10))
                << where(label, nb) << ": " << vector_error;
        }
    });
}

TEST(ScaLapack, HouseholderQrMatchesDgeqrf) {
    RandomStream stream(12);
    const Matrix a = gaussian_matrix(stream, 37, 23);
    const Matrix reference = orthonormal_factor(a.view());
    for_each_grid([&](const mpi::Communicator&, const BlacsGrid& grid, const std::string& label) {
        for (Index nb : blocks) {
            auto q = DistributedMatrix::scatter(grid, a, nb, nb);
            DistributedMatrix r(grid, 23, 23, nb, nb);
            householder_qr(q, &r);
            // Q is unique with diag(R) > 0 and its perturbation is κ(A)u (κ ≈ 9): 1e-12.
            const Matrix q_all = q.gather(), r_all = r.gather();
            const double error = support::relative_difference(q_all, reference);
            EXPECT_TRUE(everywhere(error < 1e-12)) << where(label, nb) << ": " << error;
            bool upper_positive = true;
            for (Index j = 0; j < 23; ++j) {
                upper_positive = upper_positive && r_all(j, j) > 0;
                for (Index i = j + 1; i < 23; ++i)
                    upper_positive = upper_positive && r_all(i, j) == 0;
            }
            EXPECT_TRUE(everywhere(upper_positive)) << where(label, nb);
            // QR = A to backward error.
            const double residual = support::relative_difference(multiply(q_all, r_all), a);
            EXPECT_TRUE(everywhere(residual < 1e-13)) << where(label, nb) << ": " << residual;
        }
    });
}

TEST(ScaLapack, CholeskyConditionAndTriangularSolve) {
    RandomStream stream(13);
    const Matrix a = gaussian_matrix(stream, 37, 23);
    const Matrix gram = multiply(Op::transpose, Op::none, a, a);
    // κ₁(G) exactly, from G⁻¹.
    const Matrix inverse = solve(gram, Matrix::identity(23));
    const auto norm_1 = [](const Matrix& m) {
        double best = 0;
        for (Index j = 0; j < m.cols(); ++j) {
            double sum = 0;
            for (Index i = 0; i < m.rows(); ++i) sum += std::abs(m(i, j));
            best = std::max(best, sum);
        }
        return best;
    };
    const double kappa = norm_1(gram) * norm_1(inverse);
    const Matrix b = gaussian_matrix(stream, 150, 23);
    for_each_grid([&](const mpi::Communicator&, const BlacsGrid& grid, const std::string& label) {
        for (Index nb : blocks) {
            auto r = DistributedMatrix::scatter(grid, gram, nb, nb);
            ASSERT_TRUE(everywhere(cholesky(r))) << where(label, nb);
            Matrix r_all = r.gather();
            for (Index j = 0; j < 23; ++j)
                for (Index i = j + 1; i < 23; ++i) r_all(i, j) = 0;  // below: G as it was
            // RᵀR = G to backward error (κ plays no part): 1e-13 relative.
            const double error =
                support::relative_difference(multiply(Op::transpose, Op::none, r_all, r_all), gram);
            EXPECT_TRUE(everywhere(error < 1e-13)) << where(label, nb) << ": " << error;
            // pdpocon estimates ‖G⁻¹‖₁ from below, usually within a factor 3; never above.
            const double estimate = cholesky_condition(r, norm_1(gram));
            EXPECT_TRUE(everywhere(estimate <= kappa * (1 + 1e-8) && estimate >= kappa / 10))
                << where(label, nb) << ": " << estimate << " vs " << kappa;
            // B R⁻¹ against the serial solve of Rᵀ Xᵀ = Bᵀ: κ(R) ≈ 9 times u, so 1e-12.
            auto x = DistributedMatrix::scatter(grid, b, nb + 3, nb);
            solve_right_upper(r, x);
            const Matrix reference = transpose(solve(transpose(r_all), transpose(b)));
            const double solve_error = support::relative_difference(x.gather(), reference);
            EXPECT_TRUE(everywhere(solve_error < 1e-12)) << where(label, nb) << ": " << solve_error;
            // Not positive definite: reported, not thrown.
            Matrix indefinite = gram;
            indefinite(5, 5) = -1.0;
            auto bad = DistributedMatrix::scatter(grid, indefinite, nb, nb);
            EXPECT_TRUE(everywhere(!cholesky(bad))) << where(label, nb);
        }
    });
}

// A NaN in one rank's blocks: pdsyevd and pdgeqrf are refused on every rank of the grid alike
// (none left waiting in a collective), before ScaLAPACK sees it.
TEST(ScaLapack, NonFiniteInputIsRefusedOnEveryRank) {
    RandomStream stream(14);
    Matrix a = symmetric_part(gaussian_matrix(stream, 23, 23));
    a(22, 21) = a(21, 22) = std::nan("");
    for_each_grid([&](const mpi::Communicator&, const BlacsGrid& grid, const std::string& label) {
        for (Index nb : blocks) {
            const auto refused = [](const auto& call) {
                try {
                    call();
                } catch (const RuntimeFailure& e) {
                    return std::string(e.what()).find("non-finite") != std::string::npos;
                }
                return false;
            };
            auto c = DistributedMatrix::scatter(grid, a, nb, nb);
            EXPECT_TRUE(everywhere(refused([&] { symmetric_eigen(c); }))) << where(label, nb);
            EXPECT_TRUE(everywhere(refused([&] { householder_qr(c); }))) << where(label, nb);
        }
    });
}
