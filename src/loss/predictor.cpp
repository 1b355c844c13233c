#include "loss/predictor.hpp"

#include <cmath>

#include "linalg/blas.hpp"
#include "linalg/lapack.hpp"

namespace ssldyn {

namespace {

// factor · A Bᵀ
Matrix second_moment(ConstView a, ConstView b, double factor) {
    Matrix out = multiply(Op::none, Op::transpose, a, b);
    scale(factor, out);
    return out;
}

}  // namespace

ViewMoments ViewMoments::of(const Views& views) {
    const double inv_n = 1.0 / static_cast<double>(views.n());
    const ConstView x1 = views.positives(), x2 = views.anchors();
    return {second_moment(x1, x1, inv_n), second_moment(x2, x1, inv_n),
            second_moment(x2, x2, inv_n)};
}

PredictorGradient data_gradient(const Views& views, const PredictorState& s) {
    const ConstView x1 = views.positives(), x2 = views.anchors();
    const double inv_n = 1.0 / static_cast<double>(views.n());
    const Matrix z = multiply(s.w, x1);  // W X₁, k x n
    Matrix r = multiply(s.target, x2);   // R = W_p W X₁ − W_a X₂
    gemm(Op::none, Op::none, 1.0, s.predictor, z, -1.0, r);
    PredictorGradient g;
    g.loss = 0.5 * inv_n * frobenius_inner(r, r);
    g.predictor = second_moment(r, z, inv_n);  // R Zᵀ/n
    const Matrix back = multiply(Op::transpose, Op::none, s.predictor, r);
    g.w = second_moment(back, x1, inv_n);  // W_pᵀ R X₁ᵀ/n
    g.target = second_moment(r, x2, -inv_n);
    return g;
}

PredictorGradient moment_gradient(const ViewMoments& m, const PredictorState& s) {
    const Matrix a = multiply(s.predictor, s.w);  // W_p W
    const Matrix as11 = multiply(a, m.s11), tas21 = multiply(s.target, m.s21);
    Matrix residual = as11;  // R X₁ᵀ/n = W_p W S₁₁ − W_a S₂₁
    axpy(-1.0, tas21, residual);
    PredictorGradient g;
    const Matrix tas22 = multiply(s.target, m.s22);
    g.loss = 0.5 * (frobenius_inner(as11, a) - 2.0 * frobenius_inner(tas21, a) +
                    frobenius_inner(tas22, s.target));
    g.w = multiply(Op::transpose, Op::none, s.predictor, residual);
    g.predictor = multiply(Op::none, Op::transpose, residual, s.w);
    // R X₂ᵀ/n = W_p W S₂₁ᵀ − W_a S₂₂.
    g.target = multiply(Op::none, Op::transpose, a, m.s21);
    axpy(-1.0, tas22, g.target);
    scale(-1.0, g.target);
    return g;
}

double predictor_offdiagonal(const PredictorState& s, const ViewMoments& m) {
    return predictor_offdiagonal(s.predictor,
                                 multiply(Op::none, Op::transpose, multiply(s.w, m.s22), s.w));
}

double predictor_offdiagonal(const Matrix& predictor, const Matrix& f) {
    const Matrix q = symmetric_eigen(f).vectors;
    const Matrix b = multiply(Op::transpose, Op::none, q, multiply(predictor, q));
    double off = 0.0;
    for (Index j = 0; j < b.cols(); ++j)
        for (Index i = 0; i < b.rows(); ++i)
            if (i != j) off += b(i, j) * b(i, j);
    const double norm = frobenius_norm(predictor);
    return norm > 0 ? std::sqrt(off) / norm : 0.0;
}

}  // namespace ssldyn
