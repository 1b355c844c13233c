// InfoNCE in row blocks of the similarity matrix (THEORY §6.4): at n = 10⁴ the whole n x n
// matrix is 800 MB, a block of rows a few MB.
#include <algorithm>
#include <cmath>

#include "linalg/blas.hpp"
#include "loss/loss.hpp"

namespace ssldyn {

namespace {

// Rows of the similarity matrix per block: about 2²¹ entries (16 MB).
Index block_rows(Index n) {
    return std::max<Index>(1, std::min<Index>(n, (Index{1} << 21) / std::max<Index>(n, 1)));
}

// For anchors [first, first + rows): Sᵀ = F⁺Fᵀ/τ (n x rows: each anchor's similarities
// contiguous), turned in place into the softmax of each column, Pᵀ; returns Σ over the block of
// (log Σⱼ e^{Sᵢⱼ} − Sᵢᵢ).
double softmax_block(ConstView f, ConstView f_positive, double temperature, Index first,
                     Matrix& pt) {
    const Index n = pt.rows(), rows = pt.cols();
    gemm(Op::none, Op::transpose, 1.0 / temperature, f_positive, block(f, first, 0, rows, f.cols),
         0.0, pt);
    double sum = 0.0;
    for (Index i = 0; i < rows; ++i) {
        double* s = pt.data() + i * n;
        const double top = *std::max_element(s, s + n);
        sum += top - s[first + i];
        double z = 0.0;
        for (Index j = 0; j < n; ++j) z += (s[j] = std::exp(s[j] - top));
        sum += std::log(z);
        for (Index j = 0; j < n; ++j) s[j] /= z;
    }
    return sum;
}

}  // namespace

double infonce_loss(ConstView f, ConstView f_positive, double temperature) {
    const Index n = f.rows, rows = block_rows(n);
    double sum = 0.0;
    for (Index first = 0; first < n; first += rows) {
        Matrix pt(n, std::min(rows, n - first));
        sum += softmax_block(f, f_positive, temperature, first, pt);
    }
    return sum / static_cast<double>(n);
}

Matrix infonce_gradient(ConstView f, ConstView f_positive, double temperature) {
    // ∂L/∂F = (1/nτ)(P F⁺ − F⁺), ∂L/∂F⁺ = (1/nτ)(Pᵀ F − F): A = (F⁺ − P F⁺; F − Pᵀ F)/τ.
    const Index n = f.rows, k = f.cols, rows = block_rows(n);
    const double inverse = 1.0 / temperature;
    Matrix a(2 * n, k);
    const View positives = block(a.view(), n, 0, n, k);
    for (Index first = 0; first < n; first += rows) {
        Matrix pt(n, std::min(rows, n - first));
        softmax_block(f, f_positive, temperature, first, pt);
        gemm(Op::transpose, Op::none, -inverse, pt, f_positive, 0.0,
             block(a.view(), first, 0, pt.cols(), k));
        gemm(Op::none, Op::none, -inverse, pt, block(f, first, 0, pt.cols(), k), 1.0, positives);
    }
    for (Index r = 0; r < k; ++r)
        for (Index j = 0; j < n; ++j) {
            a(j, r) += inverse * f_positive(j, r);
            a(n + j, r) += inverse * f(j, r);
        }
    return a;
}

}  // namespace ssldyn
