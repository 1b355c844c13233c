// The losses of THEORY §6: gradients against central finite differences (linear model through
// the data and through C, two-layer model through the data), the path through C against the
// data path, and InfoNCE's row blocks and its one softmax a step against the whole similarity
// matrix.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "data/spiked.hpp"
#include "loss/loss.hpp"
#include "loss/objective.hpp"
#include "model/two_layer.hpp"
#include "test_support.hpp"

using namespace ssldyn;

namespace {

constexpr Index d = 6, k = 3, n = 50;

Views make_views() {
    const SpikedCovariance spiked(d, {4.0, 2.0}, 0.5, true, 3);
    RandomStream stream(4);
    return Views(spiked.sample(n, stream), Augmentation{0.3, 0.9}, true, 9, 1);
}

Matrix make_w() {
    RandomStream stream(12);
    return gaussian_matrix(stream, k, d, 0.4);
}

std::unique_ptr<Objective> through_c(const Views& views, Loss loss) {
    const Matrix c = covariance(views, loss);
    if (loss == Loss::spectral_contrastive)
        return std::make_unique<SpectralContrastiveObjective>(c, view_second_moment(views));
    return std::make_unique<BarlowTwinsObjective>(c);
}

// Central differences, δ = 1e-5 on entries of size ~0.4 and losses of size ~1-10: truncation
// δ²|L‴|/6 ~ 1e-10 and round-off u|L|/δ ~ 1e-10, so 1e-7 relative to max(1, |g|).
double worst_fd_error(const Objective& objective, Matrix w) {
    const LossGradient g = objective.evaluate(w);
    EXPECT_NEAR(g.loss, objective.loss(w), 1e-14 * (1 + std::fabs(g.loss)));
    const double delta = 1e-5;
    double worst = 0.0;
    for (Index j = 0; j < w.cols(); ++j)
        for (Index i = 0; i < w.rows(); ++i) {
            const double keep = w(i, j);
            w(i, j) = keep + delta;
            const double up = objective.loss(w);
            w(i, j) = keep - delta;
            const double down = objective.loss(w);
            w(i, j) = keep;
            const double fd = (up - down) / (2 * delta);
            worst = std::max(worst, std::fabs(fd - g.gradient(i, j)) /
                                        std::max(1.0, std::fabs(g.gradient(i, j))));
        }
    return worst;
}

class NewLoss : public ::testing::TestWithParam<Loss> {};

std::string loss_name(const ::testing::TestParamInfo<Loss>& p) {
    return std::string(name_of(loss_names, p.param));
}

}  // namespace

TEST_P(NewLoss, DataGradientMatchesFiniteDifferences) {
    const Views views = make_views();
    EXPECT_LT(worst_fd_error(DataObjective(views, {GetParam(), 0.7}), make_w()), 1e-7);
}

TEST_P(NewLoss, TwoLayerGradientsMatchFiniteDifferences) {
    const Views views = make_views();
    const TwoLayerObjective objective(views, {GetParam(), 0.7}, Activation::tanh);
    RandomStream stream(13);
    TwoLayerWeights w{gaussian_matrix(stream, 7, d, 0.4), gaussian_matrix(stream, k, 7, 0.4)};
    const TwoLayerGradient g = objective.evaluate(w);
    EXPECT_DOUBLE_EQ(g.loss, objective.loss(w));
    const double delta = 1e-5;
    for (auto [layer, gradient] : {std::pair{&w.w1, &g.w1}, std::pair{&w.w2, &g.w2}}) {
        double worst = 0.0;
        for (Index j = 0; j < layer->cols(); ++j)
            for (Index i = 0; i < layer->rows(); ++i) {
                const double keep = (*layer)(i, j);
                (*layer)(i, j) = keep + delta;
                const double up = objective.loss(w);
                (*layer)(i, j) = keep - delta;
                const double down = objective.loss(w);
                (*layer)(i, j) = keep;
                worst = std::max(worst, std::fabs((up - down) / (2 * delta) - (*gradient)(i, j)) /
                                            std::max(1.0, std::fabs((*gradient)(i, j))));
            }
        EXPECT_LT(worst, 1e-7);
    }
}

INSTANTIATE_TEST_SUITE_P(Section6, NewLoss,
                         ::testing::Values(Loss::spectral_contrastive, Loss::barlow_twins,
                                           Loss::infonce),
                         loss_name);

class CovariancePath : public ::testing::TestWithParam<Loss> {};

TEST_P(CovariancePath, GradientMatchesFiniteDifferences) {
    const Views views = make_views();
    EXPECT_LT(worst_fd_error(*through_c(views, GetParam()), make_w()), 1e-7);
}

// The batch forms are those whose value is the form through C (loss/loss.hpp): the same sums in
// another order, so round-off relative to the terms (~10).
TEST_P(CovariancePath, EqualsTheDataPath) {
    const Views views = make_views();
    const LossGradient a = DataObjective(views, GetParam()).evaluate(make_w());
    const LossGradient b = through_c(views, GetParam())->evaluate(make_w());
    EXPECT_NEAR(a.loss, b.loss, 1e-12 * (1 + std::fabs(b.loss)));
    EXPECT_LT(support::relative_difference(a.gradient, b.gradient), 1e-12);
}

INSTANTIATE_TEST_SUITE_P(Section6, CovariancePath,
                         ::testing::Values(Loss::spectral_contrastive, Loss::barlow_twins),
                         loss_name);

// n = 1500 rows are two blocks of the similarity matrix (2²¹/1500 = 1398 rows a block): against
// the defining sums over the whole matrix, with its gradient by the same sums.
TEST(InfoNce, RowBlocksEqualTheWholeMatrix) {
    const Index rows = 1500, cols = 2;
    const double tau = 0.3;
    RandomStream stream(21);
    const Matrix f = gaussian_matrix(stream, rows, cols, 0.5);
    const Matrix fp = gaussian_matrix(stream, rows, cols, 0.5);
    double loss = 0.0;
    Matrix a(2 * rows, cols);
    std::vector<double> p(static_cast<std::size_t>(rows));
    for (Index i = 0; i < rows; ++i) {
        double top = -INFINITY;
        for (Index j = 0; j < rows; ++j) {
            double s = 0.0;
            for (Index r = 0; r < cols; ++r) s += f(i, r) * fp(j, r);
            p[static_cast<std::size_t>(j)] = s / tau;
            top = std::max(top, s / tau);
        }
        double z = 0.0;
        for (double s : p) z += std::exp(s - top);
        loss += top + std::log(z) - p[static_cast<std::size_t>(i)];
        for (Index j = 0; j < rows; ++j) {
            const double pij = std::exp(p[static_cast<std::size_t>(j)] - top) / z - (i == j);
            // A = −n ∂L/∂F = −(1/τ) Σⱼ (Pᵢⱼ − δᵢⱼ) f⁺ⱼ; for F⁺ the transpose.
            for (Index r = 0; r < cols; ++r) {
                a(i, r) -= pij * fp(j, r) / tau;
                a(rows + j, r) -= pij * f(i, r) / tau;
            }
        }
    }
    EXPECT_NEAR(infonce_loss(f, fp, tau), loss / rows, 1e-12 * std::fabs(loss / rows));
    EXPECT_LT(support::relative_difference(infonce(f, fp, tau).a, a), 1e-12);
}

// The loss and the gradient of one evaluation (one softmax for both) against the softmax matrix P
// formed whole, Pᵢⱼ = e^{Sᵢⱼ}/Σₗ e^{Sᵢₗ} with S = F F⁺ᵀ/τ: L = −(1/n) Σᵢ log Pᵢᵢ and
// A = ((F⁺ − P F⁺)/τ; (F − Pᵀ F)/τ). |S| < 3 here, so no shift by the maximum is needed; the
// sums have n = 9 terms of size ~1, so their round-off is a few units of 1e-16.
TEST(InfoNce, OneSoftmaxGivesTheLossAndTheGradientOfTheWholeMatrix) {
    const Index rows = 9, cols = 3;
    const double tau = 0.4;
    RandomStream stream(22);
    const Matrix f = gaussian_matrix(stream, 2 * rows, cols, 0.5);  // anchors, then positives
    const ConstView anchors = block(f.view(), 0, 0, rows, cols);
    const ConstView positives = block(f.view(), rows, 0, rows, cols);
    Matrix p(rows, rows);
    for (Index i = 0; i < rows; ++i) {
        double z = 0.0;
        for (Index j = 0; j < rows; ++j) {
            double s = 0.0;
            for (Index r = 0; r < cols; ++r) s += anchors(i, r) * positives(j, r);
            p(i, j) = std::exp(s / tau);
            z += p(i, j);
        }
        for (Index j = 0; j < rows; ++j) p(i, j) /= z;
    }
    double loss = 0.0;
    for (Index i = 0; i < rows; ++i) loss -= std::log(p(i, i)) / rows;
    Matrix a(2 * rows, cols);
    for (Index r = 0; r < cols; ++r)
        for (Index i = 0; i < rows; ++i) {
            double pf = 0.0, ptf = 0.0;
            for (Index j = 0; j < rows; ++j) {
                pf += p(i, j) * positives(j, r);
                ptf += p(j, i) * anchors(j, r);
            }
            a(i, r) = (positives(i, r) - pf) / tau;
            a(rows + i, r) = (anchors(i, r) - ptf) / tau;
        }
    const BatchLossGradient both = batch_loss_and_gradient(f, rows, {Loss::infonce, tau});
    EXPECT_NEAR(both.loss, loss, 1e-14 * std::fabs(loss));
    EXPECT_LT(support::relative_difference(both.a, a), 1e-14);
    EXPECT_EQ(both.loss, batch_loss(f, rows, {Loss::infonce, tau}));
}
