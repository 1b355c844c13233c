// The eigen-directions of a run (THEORY §6.5): the recorded modes ‖W vᵢ‖ against W and the
// eigenvectors of C taken apart (each checked to be one: ‖C v − λ v‖), the rise times against
// hand-worked interpolations, and the predictions of §6.1–6.2 against their formulas.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "linalg/blas.hpp"
#include "run/driver.hpp"
#include "run/problem.hpp"
#include "theory/loss_flows.hpp"

using namespace ssldyn;

namespace {

RunConfig config(Loss loss) {
    RunConfig c;
    c.data = DataSource::spiked;
    c.d = 10;
    c.spikes = {4.0, 2.0, 1.0};
    c.bulk = 0.3;
    c.n = 500;
    c.sigma_aug = 0.2;
    c.loss = loss;
    c.dynamics = Dynamics::naive;
    c.k = 3;
    c.seed = 5;
    c.steps = 60;
    c.record_every = 20;
    return c;
}

// ‖W v‖ by explicit sums over W (k x d) and a column v of the eigenvectors.
double component(const Matrix& w, const Matrix& vectors, Index i) {
    double sum = 0.0;
    for (Index r = 0; r < w.rows(); ++r) {
        double dot = 0.0;
        for (Index j = 0; j < w.cols(); ++j) dot += w(r, j) * vectors(j, i);
        sum += dot * dot;
    }
    return std::sqrt(sum);
}

// ‖C v − λ v‖ for the i-th eigenpair.
double eigen_residual(const Problem& p, Index i) {
    double sum = 0.0;
    for (Index r = 0; r < p.c.rows(); ++r) {
        double cv = 0.0;
        for (Index j = 0; j < p.c.cols(); ++j) cv += p.c(r, j) * p.eigen.vectors(j, i);
        const double e = cv - p.eigen.values[static_cast<std::size_t>(i)] * p.eigen.vectors(r, i);
        sum += e * e;
    }
    return std::sqrt(sum);
}

}  // namespace

TEST(Modes, RecordedModesAreColumnNormsOfWV) {
    for (Loss loss : {Loss::noncontrastive, Loss::barlow_twins}) {
        const RunConfig c = config(loss);
        const Problem problem = build_problem(c);
        const RunResult r = simulate(c, problem);
        ASSERT_EQ(r.status, RunStatus::done);
        for (Index i = 0; i < c.k; ++i)
            ASSERT_LT(eigen_residual(problem, i), 1e-12 * problem.lambda_max());
        const Record& first = r.records.front();
        const Record& last = r.records.back();
        ASSERT_EQ(last.step, c.steps);
        ASSERT_EQ(first.simulated.modes.size(), static_cast<std::size_t>(c.k));
        ASSERT_EQ(last.simulated.modes.size(), static_cast<std::size_t>(c.k));
        ASSERT_EQ(last.theory.modes.size(), static_cast<std::size_t>(c.k));
        for (Index i = 0; i < c.k; ++i) {
            const auto at = static_cast<std::size_t>(i);
            // Both sides a handful of dot products of length d = 10: equal to 1e-13 relative.
            EXPECT_NEAR(first.simulated.modes[at], component(r.w0, problem.eigen.vectors, i),
                        1e-13 * first.simulated.modes[at]);
            EXPECT_NEAR(last.simulated.modes[at], component(r.w, problem.eigen.vectors, i),
                        1e-13 * last.simulated.modes[at]);
            // The predictions' W0 V_k: entry (j, i) the dot product of W0's row j with v_i.
            for (Index j = 0; j < c.k; ++j) {
                double dot = 0.0;
                for (Index m = 0; m < c.d; ++m) dot += r.w0(j, m) * problem.eigen.vectors(m, i);
                EXPECT_NEAR(r.initial_top_coordinates(j, i), dot,
                            1e-13 * first.simulated.modes[at]);
            }
            // The theory starts at W0 (to its closed form's round-off).
            EXPECT_NEAR(first.theory.modes[at], first.simulated.modes[at],
                        1e-10 * first.simulated.modes[at]);
        }
    }
}

TEST(Modes, MissingRecordsHoldKNaNModes) {
    const Snapshot s = Snapshot::missing(4);
    ASSERT_EQ(s.modes.size(), 4u);
    for (double v : s.modes) EXPECT_TRUE(std::isnan(v));
}

TEST(Modes, RiseTimeIsTheFirstHalfCrossingOfTheSquareLinearBetweenRecords) {
    const std::vector<double> t{0.0, 1.0, 2.0, 3.0};
    // Squares: mode 1 0.1, 0.3, 0.9, 1.0 (half 0.5, crossed between t = 1 and 2 at 1 + 0.2/0.6);
    // mode 2 starts above half its last value (t = 0); mode 3 ends NaN (no rise time); mode 4
    // reaches exactly half at t = 2.
    const std::vector<double> u1{0.1, 0.3, 0.9, 1.0}, u2{4.0, 1.0, 1.0, 1.0},
        u3{0.1, 0.2, 0.3, std::nan("")}, u4{0.0, 0.25, 1.0, 2.0};
    std::vector<std::vector<double>> modes;
    for (std::size_t r = 0; r < t.size(); ++r)
        modes.push_back({std::sqrt(u1[r]), std::sqrt(u2[r]), std::sqrt(u3[r]), std::sqrt(u4[r])});
    const std::vector<double> rise = rise_times(t, modes);
    ASSERT_EQ(rise.size(), 4u);
    EXPECT_NEAR(rise[0], 1.0 + 0.2 / 0.6, 1e-14);
    EXPECT_EQ(rise[1], 0.0);
    EXPECT_TRUE(std::isnan(rise[2]));
    EXPECT_NEAR(rise[3], 2.0, 1e-14);
    EXPECT_TRUE(rise_times({}, {}).empty());
}

// B = QR for a rotation Q and an upper triangular R, entries of size eps.
Matrix rotated_triangular(const Matrix& r) {
    const double c1 = std::cos(0.7), s1 = std::sin(0.7), c2 = std::cos(-1.9), s2 = std::sin(-1.9);
    Matrix q1 = Matrix::identity(3), q2 = Matrix::identity(3);
    q1(0, 0) = c1, q1(0, 1) = -s1, q1(1, 0) = s1, q1(1, 1) = c1;
    q2(1, 1) = c2, q2(1, 2) = -s2, q2(2, 1) = s2, q2(2, 2) = c2;
    return multiply(multiply(q1, q2), r);
}

TEST(Modes, PredictedRiseTimesStartFromTheGramSchmidtComponents) {
    // THEORY §6.1–6.2: mode i rises from |r_ii| of W0 V_k = QR, not from ||W0 v_i||.
    Matrix r(3, 3);
    r(0, 0) = 1e-3, r(0, 1) = 2e-3, r(0, 2) = -5e-4;
    r(1, 1) = -4e-4, r(1, 2) = 1e-3;
    r(2, 2) = 2e-4;
    const Matrix b = rotated_triangular(r);
    const std::vector<double> lambda{4.0, 0.5, 0.25}, eps{1e-3, 4e-4, 2e-4};
    const auto bt = predicted_rise_times(Loss::barlow_twins, lambda, b);
    const auto sc = predicted_rise_times(Loss::spectral_contrastive, lambda, b);
    ASSERT_EQ(bt.size(), 3u);
    ASSERT_EQ(sc.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        const double l = lambda[i], e2 = eps[i] * eps[i];
        // R from Householder QR of a matrix of condition ~30: |r_ii| to ~1e-14 relative, so
        // ln(r_ii²) to ~3e-14 absolute, divided by 8 lambda_i >= 2.
        EXPECT_NEAR(bt[i], std::log(1.0 / (l * e2)) / (8.0 * l), 1e-13);
        EXPECT_NEAR(sc[i], std::log(l / e2) / (8.0 * l), 1e-13);
        // ||W0 v_i|| differs from |r_ii| for i > 1 (the Q rotation leaves column norms): the
        // column norms would give earlier times, by ln(||b_i||²/r_ii²)/(8 lambda_i) > 0.1.
        double norm2 = 0.0;
        for (Index j = 0; j < 3; ++j)
            norm2 += b(j, static_cast<Index>(i)) * b(j, static_cast<Index>(i));
        if (i > 0) {
            EXPECT_GT(bt[i] - std::log(1.0 / (l * norm2)) / (8.0 * l), 0.1);
        }
    }
}

TEST(Modes, PredictedRiseTimesOfAnAlignedStartUseItsModes) {
    // Aligned: W0 V_k diagonal, r_ii = ||W0 v_i|| (the sign of a row does not matter).
    const std::vector<double> lambda{4.0, 0.5, -1.0}, eps{1e-3, 1e-2, 1e-3};
    Matrix b(3, 3);
    b(0, 0) = eps[0], b(1, 1) = -eps[1], b(2, 2) = eps[2];
    const auto bt = predicted_rise_times(Loss::barlow_twins, lambda, b);
    EXPECT_NEAR(bt[0], std::log(1.0 / (4.0 * 1e-6)) / 32.0, 1e-15);
    EXPECT_NEAR(bt[1], std::log(1.0 / (0.5 * 1e-4)) / 4.0, 1e-15);
    EXPECT_TRUE(std::isnan(bt[2]));
    const auto sc = predicted_rise_times(Loss::spectral_contrastive, lambda, b);
    EXPECT_NEAR(sc[0], std::log(4.0 / 1e-6) / 32.0, 1e-15);
    EXPECT_NEAR(sc[1], std::log(0.5 / 1e-4) / 4.0, 1e-15);
    EXPECT_TRUE(std::isnan(sc[2]));
    for (Loss loss : {Loss::noncontrastive, Loss::infonce, Loss::byol})
        for (double v : predicted_rise_times(loss, lambda, b)) EXPECT_TRUE(std::isnan(v));
    b(1, 2) = std::numeric_limits<double>::quiet_NaN();
    for (double v : predicted_rise_times(Loss::barlow_twins, lambda, b)) EXPECT_TRUE(std::isnan(v));
}
