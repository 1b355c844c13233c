// The losses with a predictor, BYOL and SimSiam (THEORY §6.3): each gradient against finite
// differences, the data path against the moments, GD's O(η) distance to the reference flow, the
// eigenmode ODEs against the flow of the full matrices from an aligned start, and the keys' checks.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "config/run_config.hpp"
#include "data/spiked.hpp"
#include "linalg/lapack.hpp"
#include "loss/predictor.hpp"
#include "test_support.hpp"
#include "theory/predictor_flow.hpp"

using namespace ssldyn;

namespace {

Views spiked_views(Index d, Index n, double sigma_aug, double keep_prob) {
    SpikedCovariance s(d, {4.0, 2.0, 1.0}, 0.5, true, 3);
    RandomStream stream(4);
    return Views(s.sample(n, stream), Augmentation{sigma_aug, keep_prob}, true, 9, 1);
}

PredictorState random_state(Index k, Index d, bool tied, std::uint64_t seed) {
    RandomStream stream(seed);
    PredictorState s;
    s.w = gaussian_matrix(stream, k, d, 0.5);
    s.predictor = gaussian_matrix(stream, k, k, 0.5);
    s.target = tied ? s.w : gaussian_matrix(stream, k, d, 0.5);
    return s;
}

double state_distance(const PredictorState& a, const PredictorState& b) {
    double num = 0.0, den = 0.0;
    for (auto [x, y] : {std::pair{&a.w, &b.w}, std::pair{&a.predictor, &b.predictor},
                        std::pair{&a.target, &b.target}}) {
        Matrix diff = *x;
        axpy(-1.0, *y, diff);
        num += std::pow(frobenius_norm(diff), 2);
        den += std::pow(frobenius_norm(*y), 2);
    }
    return std::sqrt(num / den);
}

// Central differences of L in each entry of one matrix of the state (`tie` keeps the target equal
// to W, SimSiam without the stop-gradient). L is quadratic in each entry, so they are exact up to
// round-off, about ε|L|/h ≈ 1e-16·10/1e-3 = 1e-12.
Matrix finite_differences(const Views& views, const PredictorState& s, Matrix PredictorState::*m,
                          bool tie) {
    const double h = 1e-3;
    const Matrix& at = s.*m;
    Matrix out(at.rows(), at.cols());
    for (Index j = 0; j < at.cols(); ++j)
        for (Index i = 0; i < at.rows(); ++i) {
            PredictorState plus = s, minus = s;
            (plus.*m)(i, j) += h;
            (minus.*m)(i, j) -= h;
            if (tie) {
                plus.target = plus.w;
                minus.target = minus.w;
            }
            out(i, j) =
                (data_gradient(views, plus).loss - data_gradient(views, minus).loss) / (2 * h);
        }
    return out;
}

void expect_near(const Matrix& a, const Matrix& b, double tolerance, const char* what) {
    ASSERT_EQ(a.rows(), b.rows());
    ASSERT_EQ(a.cols(), b.cols());
    for (Index j = 0; j < a.cols(); ++j)
        for (Index i = 0; i < a.rows(); ++i)
            EXPECT_NEAR(a(i, j), b(i, j), tolerance) << what << " " << i << "," << j;
}

// −(v + 2λθ): the gradient a velocity descends.
Matrix descended(const Matrix& v, const Matrix& theta, double lambda) {
    Matrix g = v;
    axpy(2.0 * lambda, theta, g);
    scale(-1.0, g);
    return g;
}

}  // namespace

TEST(Predictor, EachGradientMatchesFiniteDifferences) {
    const Views views = spiked_views(7, 60, 0.3, 0.8);
    const PredictorState s = random_state(3, 7, false, 5);
    const PredictorGradient g = data_gradient(views, s);
    expect_near(g.w, finite_differences(views, s, &PredictorState::w, false), 1e-8, "W");
    expect_near(g.predictor, finite_differences(views, s, &PredictorState::predictor, false), 1e-8,
                "W_p");
    expect_near(g.target, finite_differences(views, s, &PredictorState::target, false), 1e-8,
                "W_a");
}

// With the stop-gradient W descends L with the target held; without it (SimSiam, W_a = W) W
// descends L of the tied target, and the predictor descends α_p L in both.
TEST(Predictor, VelocityDescendsTheLossWithAndWithoutStopGradient) {
    const Views views = spiked_views(7, 60, 0.3, 0.8);
    const PredictorState s = random_state(3, 7, true, 6);
    const double lambda = 0.07, alpha = 1.7;
    for (const bool stop : {true, false}) {
        const PredictorRule rule{true, Predictor::linear, stop, alpha, 0.0, lambda};
        const PredictorState v = velocity(rule, s, data_gradient(views, s));
        expect_near(descended(v.w, s.w, lambda),
                    finite_differences(views, s, &PredictorState::w, !stop), 1e-8,
                    stop ? "W, stop-gradient" : "W, no stop-gradient");
        Matrix fd = finite_differences(views, s, &PredictorState::predictor, false);
        scale(alpha, fd);
        expect_near(descended(v.predictor, s.predictor, lambda), fd, 1e-8, "W_p");
        expect_near(v.target, v.w, 0.0, "tied target");
    }
    // BYOL: the target follows W at rate β; the identity predictor stays.
    const PredictorState b = random_state(3, 7, false, 7);
    const PredictorRule byol{false, Predictor::identity, true, alpha, 0.6, lambda};
    const PredictorState v = velocity(byol, b, data_gradient(views, b));
    Matrix ema = b.w;
    axpy(-1.0, b.target, ema);
    scale(0.6, ema);
    expect_near(v.target, ema, 1e-15, "BYOL target");
    expect_near(v.predictor, Matrix(3, 3), 0.0, "identity predictor");
}

TEST(Predictor, DataPathEqualsMoments) {
    const Views views = spiked_views(7, 60, 0.3, 0.8);
    const PredictorState s = random_state(3, 7, false, 8);
    const PredictorGradient a = data_gradient(views, s);
    const PredictorGradient b = moment_gradient(ViewMoments::of(views), s);
    // The same sums in another order: round-off relative to the size of the terms.
    EXPECT_NEAR(a.loss, b.loss, 1e-12 * (1 + std::fabs(b.loss)));
    EXPECT_LT(support::relative_difference(a.w, b.w), 1e-12);
    EXPECT_LT(support::relative_difference(a.predictor, b.predictor), 1e-12);
    EXPECT_LT(support::relative_difference(a.target, b.target), 1e-12);
}

// GD is the Euler discretisation of the flow: its distance at a fixed t is linear in η, so
// halving η halves it (the ratio is 2 + O(η λ_max); measured 2.07 for BYOL, 2.04 for SimSiam at
// η = 0.01, distances 3.8e-3 and 3.1e-3; asserted within 5 %).
TEST(Predictor, GradientDescentApproachesTheFlowLinearlyInEta) {
    const Views views = spiked_views(8, 200, 0.5, 1.0);
    const ViewMoments moments = ViewMoments::of(views);
    for (const bool tied : {false, true}) {
        const PredictorRule rule{tied, Predictor::linear, true, 1.5, 0.8, 0.05};
        const PredictorState start = random_state(3, 8, tied, 9);
        const double t = 1.0;
        PredictorFlow flow(moments, rule, start, 1e-12);
        const PredictorState reference = flow.at(t);
        double error[2];
        for (int halving = 0; halving < 2; ++halving) {
            const int steps = 100 << halving;
            PredictorState s = start;
            for (int i = 0; i < steps; ++i)
                predictor_step(rule, t / steps, data_gradient(views, s), s);
            error[halving] = state_distance(s, reference);
        }
        EXPECT_GT(error[1], 1e-5) << "GD should be measurably away from the flow";
        EXPECT_NEAR(error[0] / error[1], 2.0, 0.1)
            << (tied ? "simsiam" : "byol") << ": " << error[0] << " " << error[1];
    }
}

// Under the paper's assumptions (moments sharing eigenvectors U, W = Q diag(w) U_kᵀ,
// W_p = Q diag(p) Qᵀ symmetric and commuting with W X Wᵀ, W_a = Q diag(a) U_kᵀ) the flow of the
// matrices stays in that form and each mode follows its own ODE: the two integrations agree to
// the integrator's accuracy (local tolerance 1e-11 for both; measured agreement 2e-14 to 6e-12
// over 8 cases, asserted 1e-9).
TEST(Predictor, EigenmodesFollowTheFullFlowFromAnAlignedStart) {
    const Index d = 6, k = 3;
    const std::vector<double> s{3.0, 2.0, 1.0, 0.5, 0.5, 0.5};
    const double noise = 0.25;  // X' = σ²I, σ = 0.5
    RandomStream stream(17);
    const Matrix u = orthonormal_factor(gaussian_matrix(stream, d, d));
    const Matrix q = orthonormal_factor(gaussian_matrix(stream, k, k));
    auto with_spectrum = [&](double shift) {
        Matrix scaled = u;
        for (Index j = 0; j < d; ++j)
            for (Index i = 0; i < d; ++i) scaled(i, j) *= s[static_cast<std::size_t>(j)] + shift;
        return multiply(Op::none, Op::transpose, scaled, u);
    };
    const ViewMoments moments{with_spectrum(noise), with_spectrum(0.0), with_spectrum(0.0)};
    std::vector<ModeMoments> modes;
    for (Index j = 0; j < k; ++j) {
        const double x = s[static_cast<std::size_t>(j)];
        modes.push_back({x + noise, x, x});
    }
    // Q diag(v) U_kᵀ (rows) and Q diag(v) Qᵀ.
    auto rows = [&](const std::vector<double>& v) {
        Matrix qd = q;
        for (Index j = 0; j < k; ++j)
            for (Index i = 0; i < k; ++i) qd(i, j) *= v[static_cast<std::size_t>(j)];
        return multiply(Op::none, Op::transpose, qd, copy_of(u.columns(0, k)));
    };
    auto square = [&](const std::vector<double>& v) {
        Matrix qd = q;
        for (Index j = 0; j < k; ++j)
            for (Index i = 0; i < k; ++i) qd(i, j) *= v[static_cast<std::size_t>(j)];
        return multiply(Op::none, Op::transpose, qd, q);
    };
    const Modes m0{{0.5, -0.3, 0.8}, {1.0, 0.7, 0.4}, {0.9, 0.8, 0.3}};
    const double t = 3.0, tolerance = 1e-11;
    for (const bool tied : {false, true})
        for (const Predictor predictor : {Predictor::linear, Predictor::identity})
            for (const bool stop : {true, false}) {
                const PredictorRule rule{tied, predictor, stop, 2.0, 0.7, 0.05};
                Modes start = m0;
                if (tied) start.a = start.w;
                if (predictor == Predictor::identity) start.p.assign(k, 1.0);
                const std::string name = std::string(tied ? "simsiam" : "byol") + " " +
                                         std::string(name_of(predictor_names, predictor)) +
                                         (stop ? "" : " no-sg");
                PredictorFlow full(moments, rule, {rows(start.w), square(start.p), rows(start.a)},
                                   tolerance);
                const PredictorState& end = full.at(t);
                const Modes m = integrate_modes(rule, modes, start, t, tolerance);
                EXPECT_LT(support::relative_difference(end.w, rows(m.w)), 1e-9) << name;
                EXPECT_LT(support::relative_difference(end.predictor, square(m.p)), 1e-9) << name;
                EXPECT_LT(support::relative_difference(end.target, rows(m.a)), 1e-9) << name;
                // The modes moved: the comparison is not of two unchanged starts.
                double moved = 0.0;
                for (Index j = 0; j < k; ++j) {
                    const auto i = static_cast<std::size_t>(j);
                    moved += std::fabs(m.w[i] - start.w[i]) + std::fabs(m.p[i] - start.p[i]);
                }
                EXPECT_GT(moved, 0.1) << name;
            }
}

TEST(Predictor, BadValuesNameTheirKey) {
    RunConfig byol;
    byol.loss = Loss::byol;
    byol.dynamics = Dynamics::naive;
    byol.data = DataSource::spiked;
    validate(byol);
    auto message = [](const RunConfig& c) {
        try {
            validate(c);
        } catch (const InputError& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    auto set = [&](const char* key, const char* value) {
        RunConfig c = byol;
        set_value(c, key, value);
        return message(c);
    };
    EXPECT_EQ(set("predictor_rate", "-1").rfind("predictor_rate: ", 0), 0u);
    EXPECT_EQ(set("target_rate", "-0.5").rfind("target_rate: ", 0), 0u);
    EXPECT_EQ(set("dynamics", "orthogonal").rfind("dynamics: ", 0), 0u);
    EXPECT_EQ(set("model", "supervised").rfind("model: ", 0), 0u);
    EXPECT_EQ(set("model", "two-layer"), "accepted");
    EXPECT_EQ(set("batch", "64").rfind("batch: ", 0), 0u);
    EXPECT_EQ(set("ntk_probes", "4").rfind("ntk_probes: ", 0), 0u);
    EXPECT_EQ(set("path", "covariance").rfind("path: ", 0), 0u);
    EXPECT_EQ(set("covariance", "exact").rfind("covariance: ", 0), 0u);
    EXPECT_EQ(set("reference_tolerance", "2").rfind("reference_tolerance: ", 0), 0u);
    for (const auto& [key, value] :
         {std::pair{"predictor", "quadratic"}, std::pair{"stop_gradient", "maybe"},
          std::pair{"predictor_rate", "fast"}, std::pair{"target_rate", "nan"}}) {
        RunConfig c = byol;
        try {
            set_value(c, key, value);
            ADD_FAILURE() << key << " = " << value << " accepted";
        } catch (const InputError& e) {
            EXPECT_EQ(std::string(e.what()).rfind(std::string(key) + ": ", 0), 0u) << e.what();
        }
    }
    // The keys are part of a run's identity only away from their defaults.
    RunConfig plain;
    EXPECT_EQ(canonical_text(plain).find("predictor"), std::string::npos);
    set_value(plain, "target_rate", "0.5");
    EXPECT_NE(canonical_text(plain).find("target_rate = 0.5"), std::string::npos);
}
