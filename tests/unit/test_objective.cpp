// Loss and gradient of the linear model: finite differences, the data path against the C
// path, and C itself against the defining sums (THEORY §3).
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "data/spiked.hpp"
#include "loss/objective.hpp"
#include "test_support.hpp"

using namespace ssldyn;

namespace {

struct Data {
    Views views;
    Data()
        : views(
              [] {
                  SpikedCovariance s(7, {4.0, 2.0}, 0.5, true, 3);
                  RandomStream stream(4);
                  return s.sample(60, stream);
              }(),
              Augmentation{0.2, 0.8}, true, 9, 1) {}
};

class ByLoss : public ::testing::TestWithParam<Loss> {};

}  // namespace

TEST_P(ByLoss, CovarianceEqualsTheDefiningSums) {
    Data data;
    const Views& v = data.views;
    const Matrix c = covariance(v, GetParam());
    const Index n = v.n(), d = v.d();
    for (Index a = 0; a < d; ++a)
        for (Index b = 0; b < d; ++b) {
            // sym(Xᵀ Y)/n with Y = X⁺ or X⁺ − X⁻, samples as rows of X.
            double sum = 0.0;
            for (Index i = 0; i < n; ++i) {
                auto y = [&](Index row, Index s) {
                    double value = v.positives()(row, s);
                    if (GetParam() == Loss::contrastive) value -= v.negatives()(row, s);
                    return value;
                };
                sum += v.anchors()(a, i) * y(b, i) + v.anchors()(b, i) * y(a, i);
            }
            EXPECT_NEAR(c(a, b), sum / (2.0 * n), 1e-13) << a << "," << b;
        }
}

TEST_P(ByLoss, DataGradientMatchesFiniteDifferences) {
    Data data;
    const DataObjective objective(data.views, GetParam());
    RandomStream stream(12);
    const Matrix w = gaussian_matrix(stream, 3, 7);
    const LossGradient lg = objective.evaluate(w);
    // L is quadratic in W, so central differences are exact up to round-off:
    // about ε|L|/h ≈ 1e-16·10/1e-3 = 1e-12.
    const double h = 1e-3;
    for (Index j = 0; j < w.cols(); ++j)
        for (Index i = 0; i < w.rows(); ++i) {
            Matrix plus = w, minus = w;
            plus(i, j) += h;
            minus(i, j) -= h;
            const double fd = (objective.loss(plus) - objective.loss(minus)) / (2 * h);
            EXPECT_NEAR(lg.gradient(i, j), fd, 1e-9) << i << "," << j;
        }
}

TEST_P(ByLoss, DataPathEqualsCovariancePath) {
    Data data;
    const DataObjective by_data(data.views, GetParam());
    const CovarianceObjective by_c(covariance(data.views, GetParam()));
    RandomStream stream(13);
    const Matrix w = gaussian_matrix(stream, 4, 7);
    const LossGradient a = by_data.evaluate(w), b = by_c.evaluate(w);
    // The same sums in another order: round-off relative to the size of the terms.
    EXPECT_NEAR(a.loss, b.loss, 1e-12 * (1 + std::fabs(b.loss)));
    EXPECT_LT(ssldyn::support::relative_difference(a.gradient, b.gradient), 1e-12);
}

INSTANTIATE_TEST_SUITE_P(Losses, ByLoss, ::testing::Values(Loss::noncontrastive, Loss::contrastive),
                         [](const auto& p) { return std::string(name_of(loss_names, p.param)); });

TEST(Views, NegativesComeFromADerangement) {
    for (Index n : {2, 3, 10, 1001}) {
        const auto perm = random_derangement(n, 5, 6);
        std::set<Index> seen(perm.begin(), perm.end());
        EXPECT_EQ(static_cast<Index>(seen.size()), n);
        for (Index i = 0; i < n; ++i) EXPECT_NE(perm[static_cast<std::size_t>(i)], i);
    }
}

TEST(Views, CentringAndAugmentation) {
    Matrix base(3, 4);
    for (Index j = 0; j < 4; ++j)
        for (Index i = 0; i < 3; ++i) base(i, j) = static_cast<double>(i + 10 * j);
    const Views plain(base, Augmentation{0.0, 1.0}, true, 1, 1);
    for (Index i = 0; i < 3; ++i) {
        double mean = 0.0;
        for (Index j = 0; j < 4; ++j) mean += plain.anchors()(i, j);
        EXPECT_NEAR(mean, 0.0, 1e-12);
        // No augmentation: the positive view is the sample itself.
        for (Index j = 0; j < 4; ++j) EXPECT_EQ(plain.positives()(i, j), plain.anchors()(i, j));
    }
    const Views masked(base, Augmentation{0.0, 0.5}, false, 1, 1);
    int zeros = 0;
    for (Index j = 0; j < 4; ++j)
        for (Index i = 0; i < 3; ++i) {
            const double x = masked.positives()(i, j);
            EXPECT_TRUE(x == 0.0 || x == base(i, j));
            zeros += x == 0.0 && base(i, j) != 0.0;
        }
    EXPECT_GT(zeros, 0);
    EXPECT_LT(zeros, 11);
}

TEST(Spiked, SampleCovarianceApproachesSigma) {
    const SpikedCovariance s(5, {3.0, 2.0}, 0.5, true, 8);
    RandomStream stream(2);
    const Index n = 200000;
    const Matrix x = s.sample(n, stream);
    Matrix sample = multiply(Op::none, Op::transpose, x, x);
    scale(1.0 / static_cast<double>(n), sample);
    // Entries of the sample covariance have standard error ≤ λ_max·√(2/n) ≈ 0.01; 5 sigma.
    EXPECT_LT(ssldyn::support::relative_difference(sample, s.covariance()) * 3.0, 0.05 * 3.0);
    const SymmetricEigen e = symmetric_eigen(s.covariance());
    const std::vector<double> expected{3.0, 2.0, 0.5, 0.5, 0.5};
    for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(e.values[i], expected[i], 1e-13);
}

// Rows of the views built from rows of the samples are those rows of the whole views, bit for
// bit (every draw sits at a position fixed by its entry), with and without masking and centring.
TEST(Views, RowsOfTheSamplesGiveThoseRowsOfTheViews) {
    const SpikedCovariance s(11, {4.0, 2.0}, 0.5, true, 5);
    RandomStream stream(6);
    const Matrix base = s.sample(9, stream);
    for (const Augmentation aug : {Augmentation{0.3, 1.0}, Augmentation{0.2, 0.7}}) {
        const Views whole(base, aug, true, 4, 2);
        for (const auto& [first, count] : {std::pair<Index, Index>{0, 4}, {4, 6}, {10, 1}}) {
            const Views part(rows_of(base, first, count), aug, true, 4, 2, first, 11);
            ASSERT_EQ(part.d(), count);
            for (Index j = 0; j < 3 * 9; ++j)
                for (Index i = 0; i < count; ++i)
                    EXPECT_EQ(part.stacked(3)(i, j), whole.stacked(3)(first + i, j))
                        << "row " << first + i << " column " << j;
        }
    }
}

// Σ = b·I + U diag(λ − b) Uᵀ block by block: any rows and columns of it equal those entries of
// the whole (the same dot products of s = 2 terms: exactly), and the whole has the spectrum.
TEST(Spiked, CovarianceBlocksAreEntriesOfSigma) {
    const SpikedCovariance s(6, {3.0, 2.0}, 0.5, true, 8);
    const Matrix sigma = s.covariance();
    const std::vector<Index> rows{5, 0, 3}, cols{1, 3, 4, 0};
    const Matrix block = s.covariance_block(rows, cols);
    for (std::size_t i = 0; i < rows.size(); ++i)
        for (std::size_t j = 0; j < cols.size(); ++j)
            EXPECT_EQ(block(static_cast<Index>(i), static_cast<Index>(j)), sigma(rows[i], cols[j]));
    const SpikedCovariance standard(4, {3.0}, 0.5, false, 8);
    const Matrix diagonal = standard.covariance();
    for (Index j = 0; j < 4; ++j)
        for (Index i = 0; i < 4; ++i) EXPECT_EQ(diagonal(i, j), i != j ? 0.0 : i == 0 ? 3.0 : 0.5);
}
