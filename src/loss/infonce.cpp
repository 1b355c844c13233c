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

// For anchors [first, first + rows): S = F F⁺ᵀ/τ, turned in place into the row softmax P;
// returns Σ over the block of (log Σⱼ e^{Sᵢⱼ} − Sᵢᵢ).
double softmax_block(ConstView f, ConstView f_positive, double temperature, Index first,
                     Matrix& p) {
    const Index rows = p.rows(), n = p.cols();
    gemm(Op::none, Op::transpose, 1.0 / temperature, block(f, first, 0, rows, f.cols), f_positive,
         0.0, p);
    double sum = 0.0;
    for (Index i = 0; i < rows; ++i) {
        double top = p(i, 0);
        for (Index j = 1; j < n; ++j) top = std::max(top, p(i, j));
        double z = 0.0;
        for (Index j = 0; j < n; ++j) z += std::exp(p(i, j) - top);
        sum += top + std::log(z) - p(i, first + i);
        for (Index j = 0; j < n; ++j) p(i, j) = std::exp(p(i, j) - top) / z;
    }
    return sum;
}

}  // namespace

double infonce_loss(ConstView f, ConstView f_positive, double temperature) {
    const Index n = f.rows, rows = block_rows(n);
    double sum = 0.0;
    for (Index first = 0; first < n; first += rows) {
        Matrix p(std::min(rows, n - first), n);
        sum += softmax_block(f, f_positive, temperature, first, p);
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
        Matrix p(std::min(rows, n - first), n);
        softmax_block(f, f_positive, temperature, first, p);
        gemm(Op::none, Op::none, -inverse, p, f_positive, 0.0,
             block(a.view(), first, 0, p.rows(), k));
        gemm(Op::transpose, Op::none, -inverse, p, block(f, first, 0, p.rows(), k), 1.0, positives);
    }
    for (Index r = 0; r < k; ++r)
        for (Index j = 0; j < n; ++j) {
            a(j, r) += inverse * f_positive(j, r);
            a(n + j, r) += inverse * f(j, r);
        }
    return a;
}

}  // namespace ssldyn
