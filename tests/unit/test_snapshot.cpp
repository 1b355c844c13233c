// A Snapshot is NaN until measured: defaults and Snapshot::missing hold NaN in every recorded
// metric, and measure() sets every one of them (to the values worked out by hand here), also
// where no formula applies (k = d, W = 0, k = 1).
#include <gtest/gtest.h>

#include <cmath>

#include "metrics/metrics.hpp"
#include "store/schema.hpp"

using namespace ssldyn;

namespace {

void expect_all_nan(const Snapshot& s) {
    for (const auto& m : schema::metrics()) EXPECT_TRUE(std::isnan(s.*(m.field))) << m.name;
    for (double v : s.singular_values) EXPECT_TRUE(std::isnan(v));
}

void expect_all_finite(const Snapshot& s) {
    for (const auto& m : schema::metrics()) EXPECT_TRUE(std::isfinite(s.*(m.field))) << m.name;
}

}  // namespace

TEST(Snapshot, DefaultsAreNaN) {
    const Snapshot s;
    expect_all_nan(s);
    EXPECT_TRUE(s.singular_values.empty());
}

TEST(Snapshot, MissingHoldsKNaNSingularValues) {
    const Snapshot s = Snapshot::missing(3);
    expect_all_nan(s);
    EXPECT_EQ(s.singular_values.size(), 3u);
}

TEST(Snapshot, MeasureSetsEveryMetric) {
    const std::vector<double> eigenvalues{3.0, 2.0, 1.0, 0.5};
    // k = d = 2 with orthonormal rows: the row space is the whole space (no angle), s = (1, 1).
    Matrix square(2, 2, 0.0);
    square(0, 1) = square(1, 0) = 1.0;
    Snapshot s = measure(square, 0.0, {3.0, 2.0});
    expect_all_finite(s);
    EXPECT_EQ(s.topk_sin_angle, 0.0);
    EXPECT_EQ(s.loss, -5.0);
    EXPECT_EQ(s.orthogonality_error, 0.0);
    EXPECT_EQ(s.s2_s1, 1.0);
    EXPECT_NEAR(s.effective_rank, 2.0, 1e-15);
    // W = 0 (k < d): no row space, no singular value ratio, no entropy; ‖−I‖_F = √2.
    s = measure(Matrix(2, 4, 0.0), 0.0, eigenvalues);
    expect_all_finite(s);
    EXPECT_EQ(s.topk_sin_angle, 0.0);
    EXPECT_EQ(s.loss, 0.0);
    EXPECT_EQ(s.orthogonality_error, std::sqrt(2.0));
    EXPECT_EQ(s.s2_s1, 0.0);
    EXPECT_EQ(s.effective_rank, 0.0);
    EXPECT_EQ(s.singular_values, std::vector<double>(2, 0.0));
    // k = 1, W = e₂ᵀ: s₂/s₁ is 0 by definition; the angle to span(e₁) is π/2.
    Matrix row(1, 4, 0.0);
    row(0, 1) = 1.0;
    s = measure(row, 0.0, eigenvalues);
    expect_all_finite(s);
    EXPECT_EQ(s.s2_s1, 0.0);
    EXPECT_EQ(s.loss, -2.0);
    EXPECT_NEAR(s.topk_sin_angle, 1.0, 1e-15);
    EXPECT_EQ(s.effective_rank, 1.0);
}
