// InfoNCE in row blocks of the similarity matrix (THEORY §6.4): at n = 10⁴ the whole n x n
// matrix is 800 MB, a block of rows a few MB.
#include <algorithm>
#include <cmath>

#include "linalg/blas.hpp"
#include "linalg/vector_widths.hpp"
#include "loss/loss.hpp"

// The vector variants of exp: the n² exponentials of a step took most of its time with the
// scalar exp; their bits depend on the machine's vector width.
#if SSLDYN_LIBMVEC
extern "C" SSLDYN_VECTOR_VARIANT double exp(double) noexcept;
#endif

namespace ssldyn {

namespace {

// Rows of the similarity matrix per block: about 2²¹ entries (16 MB).
Index block_rows(Index n) {
    return std::max<Index>(1, std::min<Index>(n, (Index{1} << 21) / std::max<Index>(n, 1)));
}

// The softmax of one anchor's similarities s (n of them) in place; returns log Σⱼ e^{sⱼ},
// shifted by the largest sⱼ so that no e^{sⱼ} overflows.
SSLDYN_VECTOR_WIDTHS double softmax_in_place(double* s, Index n) {
    double top = -INFINITY;
#pragma omp simd reduction(max : top)
    for (Index j = 0; j < n; ++j) top = std::max(top, s[j]);
    double z = 0.0;
#pragma omp simd reduction(+ : z)
    for (Index j = 0; j < n; ++j) {
        s[j] = std::exp(s[j] - top);
        z += s[j];
    }
    const double inverse = 1.0 / z;
#pragma omp simd
    for (Index j = 0; j < n; ++j) s[j] *= inverse;
    return top + std::log(z);
}

// For anchors [first, first + rows): Sᵀ = F⁺Fᵀ/τ (n x rows: each anchor's similarities
// contiguous), turned in place into the softmax of each column, Pᵀ; returns Σ over the block of
// (log Σⱼ e^{Sᵢⱼ} − Sᵢᵢ).
double softmax_block(ConstView f, ConstView f_positive, double temperature, Index first, View pt) {
    const Index rows = pt.cols;
    gemm(Op::none, Op::transpose, 1.0 / temperature, f_positive, block(f, first, 0, rows, f.cols),
         0.0, pt);
    double sum = 0.0;
    for (Index i = 0; i < rows; ++i) {
        double* s = pt.data + i * pt.ld;
        sum -= s[first + i];  // before the softmax overwrites it
        sum += softmax_in_place(s, pt.rows);
    }
    return sum;
}

// The mean over the anchors of log Σⱼ e^{Sᵢⱼ} − Sᵢᵢ, each block's Pᵀ handed to
// `use(first, pt)` as soon as it is formed: one n x block_rows buffer serves every block.
template <class Use>
double over_blocks(ConstView f, ConstView f_positive, double temperature, const Use& use) {
    const Index n = f.rows, rows = block_rows(n);
    Matrix buffer(n, rows);
    double sum = 0.0;
    for (Index first = 0; first < n; first += rows) {
        const View pt = block(buffer.view(), 0, 0, n, std::min(rows, n - first));
        sum += softmax_block(f, f_positive, temperature, first, pt);
        use(first, pt);
    }
    return sum / static_cast<double>(n);
}

}  // namespace

double infonce_loss(ConstView f, ConstView f_positive, double temperature) {
    return over_blocks(f, f_positive, temperature, [](Index, View) {});
}

BatchLossGradient infonce(ConstView f, ConstView f_positive, double temperature) {
    // ∂L/∂F = (1/nτ)(P F⁺ − F⁺), ∂L/∂F⁺ = (1/nτ)(Pᵀ F − F): A = (F⁺ − P F⁺; F − Pᵀ F)/τ, both
    // products from the softmax that gives the loss.
    const Index n = f.rows, k = f.cols;
    const double inverse = 1.0 / temperature;
    BatchLossGradient out{0.0, Matrix(2 * n, k)};
    Matrix& a = out.a;
    const View positives = block(a.view(), n, 0, n, k);
    out.loss = over_blocks(f, f_positive, temperature, [&](Index first, View pt) {
        gemm(Op::transpose, Op::none, -inverse, pt, f_positive, 0.0,
             block(a.view(), first, 0, pt.cols, k));
        gemm(Op::none, Op::none, -inverse, pt, block(f, first, 0, pt.cols, k), 1.0, positives);
    });
    for (Index r = 0; r < k; ++r)
        for (Index j = 0; j < n; ++j) {
            a(j, r) += inverse * f_positive(j, r);
            a(n + j, r) += inverse * f(j, r);
        }
    return out;
}

}  // namespace ssldyn
