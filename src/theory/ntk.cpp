#include "theory/ntk.hpp"

#include "core/error.hpp"
#include "linalg/blas.hpp"
#include "model/two_layer_dynamics.hpp"

namespace ssldyn {

Matrix two_layer_outputs(const TwoLayerWeights& w, Activation activation, ConstView probes) {
    Matrix hidden = multiply(Op::none, Op::none, w.w1, probes);  // h x p
    activate(activation, hidden, hidden);
    return multiply(w.w2, hidden);
}

Matrix output_jacobian(const TwoLayerWeights& w, Activation activation, ConstView probes) {
    const Index h = w.w1.rows(), d = w.w1.cols(), k = w.w2.rows(), p = probes.cols;
    if (probes.rows != d) throw RuntimeFailure("output_jacobian: probes must have d rows");
    const Matrix pre = multiply(Op::none, Op::none, w.w1, probes);
    Matrix hidden, slope;
    activate(activation, pre, hidden, &slope);
    // ∂f_a/∂W₂[b, c] = δ_ab σ(u_c);  ∂f_a/∂W₁[c, e] = W₂[a, c] σ′(u_c) x_e.
    Matrix j(p * k, h * d + k * h);
    for (Index i = 0; i < p; ++i)
        for (Index a = 0; a < k; ++a) {
            const Index row = i * k + a;
            for (Index e = 0; e < d; ++e)
                for (Index c = 0; c < h; ++c)
                    j(row, e * h + c) = w.w2(a, c) * slope(c, i) * probes(e, i);
            for (Index c = 0; c < h; ++c) j(row, h * d + c * k + a) = hidden(c, i);
        }
    return j;
}

namespace {

// Row r of J as the two layers, projected onto the tangent space, written back.
void project_rows(const TwoLayerWeights& w, Matrix& j, const mpi::Communicator* shards) {
    const bool w1_rows = shards == nullptr && orthonormal_rows(w.w1);
    const Index h = w.w1.rows(), d = w.w1.cols(), k = w.w2.rows();
    Matrix g1(h, d), g2(k, h);
    for (Index r = 0; r < j.rows(); ++r) {
        for (Index col = 0; col < h * d; ++col) g1.data()[col] = j(r, col);
        for (Index col = 0; col < k * h; ++col) g2.data()[col] = j(r, h * d + col);
        const Matrix p1 = w1_rows ? stiefel_gradient_rows(g1, w.w1, shards)
                                  : stiefel_gradient_columns(g1, w.w1, shards);
        const Matrix p2 = stiefel_gradient_rows(g2, w.w2, shards);
        for (Index col = 0; col < h * d; ++col) j(r, col) = p1.data()[col];
        for (Index col = 0; col < k * h; ++col) j(r, h * d + col) = p2.data()[col];
    }
}

}  // namespace

TangentKernels tangent_kernels(const TwoLayerWeights& w, Activation activation, ConstView probes,
                               bool constrained, const mpi::Communicator* shards) {
    Matrix j = output_jacobian(w, activation, probes);
    auto kernel = [&] {
        Matrix k(j.rows(), j.rows());
        syrk(Op::none, 1.0, j, 0.0, k);
        if (shards) shards->sum(k.data(), k.size());
        return k;
    };
    TangentKernels out;
    out.full = kernel();
    if (!constrained) {
        out.tangent = out.full;
        return out;
    }
    project_rows(w, j, shards);
    out.tangent = kernel();
    return out;
}

double relative_change(const Matrix& now, const Matrix& start) {
    Matrix diff = now;
    axpy(-1.0, start, diff);
    return frobenius_norm(diff) / frobenius_norm(start);
}

}  // namespace ssldyn
