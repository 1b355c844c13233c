#include "theory/ntk.hpp"

#include <cmath>

#include "core/error.hpp"
#include "linalg/blas.hpp"
#include "linalg/distribution.hpp"
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

// Row r of J as the two layers, projected onto the tangent space, written back.
Matrix project_jacobian(const TwoLayerWeights& w, Matrix j) {
    const bool w1_rows = orthonormal_rows(w.w1);
    const Index h = w.w1.rows(), d = w.w1.cols(), k = w.w2.rows();
    Matrix g1(h, d), g2(k, h);
    for (Index r = 0; r < j.rows(); ++r) {
        for (Index col = 0; col < h * d; ++col) g1.data()[col] = j(r, col);
        for (Index col = 0; col < k * h; ++col) g2.data()[col] = j(r, h * d + col);
        const Matrix p1 =
            w1_rows ? stiefel_gradient_rows(g1, w.w1) : stiefel_gradient_columns(g1, w.w1);
        const Matrix p2 = stiefel_gradient_rows(g2, w.w2);
        for (Index col = 0; col < h * d; ++col) j(r, col) = p1.data()[col];
        for (Index col = 0; col < k * h; ++col) j(r, h * d + col) = p2.data()[col];
    }
    return j;
}

namespace {

// The factors of the structured kernels (ntk.hpp) at this rank's units, every product over the
// units summed over the shards.
struct Structure {
    Matrix b;   // B, m x units: B[(i,a), c] = W₂[a,c] σ′(U[c,i])
    Matrix xx;  // XᵀX, p x p
    Matrix hh;  // HᵀH, p x p
    // Θ_T only:
    Matrix q;   // Q = BU = VX, m x p: Q[(j,b), i] = b_jb·u_i
    Matrix f;   // F = W₂H, k x p: the outputs
    Matrix ff;  // FᵀF, p x p
    Matrix uu;  // UᵀU, p x p (W₁ with orthonormal rows)
    Matrix v;   // V = BW₁, m x d (W₁ with orthonormal columns)
};

Matrix gram_of_columns(ConstView x) {
    Matrix g(x.cols, x.cols);
    syrk(Op::transpose, 1.0, x, 0.0, g);
    return g;
}

Structure structure(const TwoLayerWeights& w, Activation activation, ConstView probes,
                    bool constrained, bool w1_rows, const mpi::Communicator* shards) {
    const Index h = w.w1.rows(), k = w.w2.rows(), p = probes.cols, m = p * k;
    if (probes.rows != w.w1.cols())
        throw RuntimeFailure("tangent_kernels: probes must have d rows");
    const Matrix u = multiply(w.w1, probes);  // h x p
    Matrix hidden, slope;
    activate(activation, u, hidden, &slope);
    auto summed = [&](Matrix x) {
        if (shards) shards->sum(x.data(), x.size());
        return x;
    };
    Structure s;
    s.b = Matrix(m, h);
    for (Index c = 0; c < h; ++c)
        for (Index i = 0; i < p; ++i)
            for (Index a = 0; a < k; ++a) s.b(i * k + a, c) = w.w2(a, c) * slope(c, i);
    s.xx = gram_of_columns(probes);
    s.hh = summed(gram_of_columns(hidden));
    if (!constrained) return s;
    s.q = summed(multiply(s.b, u));
    s.f = summed(multiply(w.w2, hidden));
    s.ff = gram_of_columns(s.f);
    if (w1_rows)
        s.uu = summed(gram_of_columns(u));
    else
        s.v = summed(multiply(s.b, w.w1));
    return s;
}

Share rows_held(Index m, const mpi::Communicator* rows) {
    return rows ? balanced_share(m, rows->rank(), rows->size()) : Share{0, m};
}

// Rows `block` of XXᵀ (all of its columns).
Matrix gram_rows(const Matrix& x, Share block) {
    Matrix g(block.size(), x.rows());
    if (block.size() == x.rows()) {
        syrk(Op::none, 1.0, x, 0.0, g);  // the whole: half the products
        return g;
    }
    const ConstView rows{x.data() + block.begin, block.size(), x.cols(), x.rows()};
    gemm(Op::none, Op::transpose, 1.0, rows, x, 0.0, g);
    return g;
}

// This rank's rows of BBᵀ, summed over the units. With units sharded and rows spread, every rank
// computes its term of each rank's rows in turn and they are reduced to their holder, so that no
// rank holds more than two blocks of rows.
Matrix unit_gram_rows(const Matrix& b, const KernelPlacement& at) {
    const Index m = b.rows();
    if (!at.shards || !at.rows) {
        Matrix g = gram_rows(b, rows_held(m, at.rows));
        if (at.shards) at.shards->sum(g.data(), g.size());
        return g;
    }
    const int ranks = at.rows->size(), rank = at.rows->rank();
    Matrix mine;
    for (int holder = 0; holder < ranks; ++holder) {
        Matrix part = gram_rows(b, balanced_share(m, holder, ranks));
        at.shards->sum_to(holder, part.data(), part.size());
        if (holder == rank) mine = std::move(part);
    }
    return mine;
}

}  // namespace

TangentKernels tangent_kernels(const TwoLayerWeights& w, Activation activation, ConstView probes,
                               bool constrained, const KernelPlacement& at, LayerFactors factors) {
    if (at.shards && at.rows && at.shards != at.rows)
        throw RuntimeFailure("tangent_kernels: units and rows spread over different groups");
    // A shard's shape does not tell W₁'s form; only a wide W₁ is sharded.
    if (constrained && (factors.w1 != 1.0 || factors.w2 != 1.0))
        throw RuntimeFailure("tangent_kernels: layer factors only for unconstrained kernels");
    const bool w1_rows = !at.shards && orthonormal_rows(w.w1);
    const Structure s = structure(w, activation, probes, constrained, w1_rows, at.shards);
    const Index k = w.w2.rows(), m = s.b.rows();
    const Share held = rows_held(m, at.rows);
    // BBᵀ, then Θ in its place; VVᵀ (or room), then Θ_T in its place: two blocks of rows.
    Matrix full = unit_gram_rows(s.b, at);
    Matrix tangent;
    if (constrained) tangent = w1_rows ? Matrix(held.size(), m) : gram_rows(s.v, held);
    const double a1 = factors.w1, a2 = factors.w2;
    for (Index col = 0; col < m; ++col) {
        const Index j = col / k, b = col % k;
        for (Index r = 0; r < held.size(); ++r) {
            const Index row = held.begin + r, i = row / k, a = row % k;
            const double same = a == b ? 1.0 : 0.0, bb = full(r, col);
            const double theta = a1 * s.xx(i, j) * bb + a2 * same * s.hh(i, j);
            full(r, col) = theta;
            if (!constrained) continue;
            // ⟨sym(GWᵀ), G′Wᵀ⟩ of each layer (ntk.hpp).
            const double cross = s.q(col, i) * s.q(row, j);
            const double w1 = (w1_rows ? bb * s.uu(i, j) : tangent(r, col) * s.xx(i, j)) + cross;
            const double w2 = same * s.ff(i, j) + s.f(b, i) * s.f(a, j);
            tangent(r, col) = theta - 0.5 * (a1 * w1 + a2 * w2);
        }
    }
    TangentKernels out;
    out.full = {held.begin, std::move(full), m};
    out.tangent = constrained ? KernelRows{held.begin, std::move(tangent), m} : out.full;
    return out;
}

KernelRows ntk_kernel(const TwoLayerWeights& w, Activation activation, ConstView probes,
                      const mpi::Communicator* rows) {
    const double a = 1.0 / std::sqrt(static_cast<double>(w.w1.cols()));
    const double b = 1.0 / std::sqrt(static_cast<double>(w.w1.rows()));
    TwoLayerWeights scaled = w;
    scale(a, scaled.w1);
    scale(b, scaled.w2);
    return tangent_kernels(scaled, activation, probes, false, {nullptr, rows}, {a * a, b * b}).full;
}

Index kernel_entries_per_rank(Index m, Index p, Index units, Index d,
                              const mpi::Communicator* rows) {
    const Index held = rows ? (m + rows->size() - 1) / rows->size() : m;
    return 5 * held * m + m * (units + d + p) + 3 * units * p;
}

double relative_change(const Matrix& now, const Matrix& start) {
    Matrix diff = now;
    axpy(-1.0, start, diff);
    return frobenius_norm(diff) / frobenius_norm(start);
}

double relative_change(const KernelRows& now, const KernelRows& start,
                       const mpi::Communicator* rows) {
    if (now.first != start.first || now.m != start.m)
        throw RuntimeFailure("relative_change: kernels held as other rows");
    if (!rows) return relative_change(now.rows, start.rows);
    Matrix diff = now.rows;
    axpy(-1.0, start.rows, diff);
    const double norm_diff = frobenius_norm(diff), norm_start = frobenius_norm(start.rows);
    double squares[2] = {norm_diff * norm_diff, norm_start * norm_start};
    rows->sum(squares, 2);
    return std::sqrt(squares[0] / squares[1]);
}

}  // namespace ssldyn
