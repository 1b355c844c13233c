#include "model/two_layer.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "linalg/blas.hpp"

namespace ssldyn {

namespace {

// m as a rows x cols buffer: kept when it has that shape already (its contents are about to be
// overwritten), else freed before the new one is allocated so that the two never coexist.
void reshape(Matrix& m, Index rows, Index cols) {
    if (m.rows() == rows && m.cols() == cols) return;
    m = Matrix();
    m = Matrix(rows, cols);
}

// The products that write the (samples) x (units) activity, or read it against the k outputs, go
// a block of units at a time: at 2n = 20000, h = 16384, d = 784 Uᵀ = Sᵀ W₁ᵀ ran at 65 % of the
// square dgemm rate in one call and at 85 % in blocks of 1024 units (OpenBLAS 0.3.21, one
// thread), and the k-wide ones gained 10–30 %; at h = 1024 nothing changes. ∇W₁, whose output is
// only h x d, is faster in one call.
constexpr Index unit_block = 1024;

// f(first, count) for the blocks of unit_block units of [0, h), in order.
template <class F>
void over_unit_blocks(Index h, const F& f) {
    for (Index first = 0; first < h; first += unit_block) f(first, std::min(unit_block, h - first));
}

}  // namespace

// Forward, samples as rows: Uᵀ = Sᵀ W₁ᵀ into hidden, σ in place (σ′ into slope when it is to be
// kept), F = Aᵀ W₂ᵀ. σ runs by columns on as many threads as the BLAS has.
void forward_hidden(ConstView stacked, const Nonlinearity& units, const TwoLayerWeights& w,
                    bool with_slope, HiddenActivity& activity) {
    if (w.w1.cols() != stacked.rows || w.w2.cols() != w.w1.rows())
        throw RuntimeFailure("two-layer model: W₁ must be h x d and W₂ k x h");
    const Index samples = stacked.cols, h = w.w1.rows(), d = stacked.rows;
    reshape(activity.hidden, samples, h);
    const bool keep_slope = with_slope && !slope_from_value(units);
    if (keep_slope) reshape(activity.slope, samples, h);
    over_unit_blocks(h, [&](Index first, Index count) {
        gemm(Op::transpose, Op::transpose, 1.0, stacked, block(w.w1.view(), first, 0, count, d),
             0.0, block(activity.hidden.view(), 0, first, samples, count));
    });
    parallel_ranges(h, blas_threads(), [&](Index first, Index count) {
        activate_in_place(units, block(activity.hidden.view(), 0, first, samples, count),
                          keep_slope ? block(activity.slope.view(), 0, first, samples, count)
                                     : View{nullptr, samples, count, samples});
    });
    reshape(activity.outputs, samples, w.w2.rows());
    gemm(Op::none, Op::transpose, 1.0, activity.hidden, w.w2, 0.0, activity.outputs);
}

// Backward with ∂L/∂F = −(1/n) A: ∂L/∂W₂ = (∂L/∂F)ᵀ Aᵀ, ∂L/∂Aᵀ = (∂L/∂F) W₂, ∂L/∂Uᵀ = ∂L/∂Aᵀ ∘
// σ′(Uᵀ), ∂L/∂W₁ = (∂L/∂Uᵀ)ᵀ Sᵀ. ∂L/∂Aᵀ goes over Aᵀ when σ′(Uᵀ) is kept, else into the second
// buffer while σ′ is taken from Aᵀ: two (samples) x (units) matrices either way. (Tiles of
// ∂L/∂Uᵀ folded into ∇W₁ one at a time would save the second one, but were slower here: the
// elementwise pass then reads Aᵀ in strides, and the products are smaller.)
void backward_hidden(ConstView stacked, const Nonlinearity& units, const TwoLayerWeights& w,
                     HiddenActivity& activity, const Matrix& a, Index n, TwoLayerGradient& out) {
    const double scale_back = -1.0 / static_cast<double>(n);
    const Index samples = stacked.cols, h = w.w1.rows();
    const bool kept = !slope_from_value(units);
    if (activity.hidden.rows() != samples || activity.hidden.cols() != h ||
        (kept && activity.slope.size() != activity.hidden.size()))
        throw RuntimeFailure("two-layer model: backward without its forward");
    const Index k = w.w2.rows();
    out.w2 = Matrix(k, h);
    if (!kept) reshape(activity.slope, samples, h);
    Matrix& back = kept ? activity.hidden : activity.slope;
    over_unit_blocks(h, [&](Index first, Index count) {
        gemm(Op::transpose, Op::none, scale_back, a,
             block(activity.hidden.view(), 0, first, samples, count), 0.0,
             block(out.w2.view(), 0, first, k, count));
        gemm(Op::none, Op::none, scale_back, a, block(w.w2.view(), 0, first, k, count), 0.0,
             block(back.view(), 0, first, samples, count));
    });
    parallel_ranges(h, blas_threads(), [&](Index first, Index count) {
        const ConstView value = block(activity.hidden.view(), 0, first, samples, count);
        multiply_by_slope(units, block(back.view(), 0, first, samples, count), value,
                          kept ? block(activity.slope.view(), 0, first, samples, count) : value);
    });
    out.w1 = Matrix(h, w.w1.cols());
    gemm(Op::transpose, Op::transpose, 1.0, back, stacked, 0.0, out.w1);
}

double TwoLayerObjective::loss(const TwoLayerWeights& w) const {
    forward_hidden(views_->stacked(views_used(loss_)), units_, w, false, work_);
    return batch_loss(work_.outputs, views_->n(), loss_);
}

TwoLayerGradient TwoLayerObjective::evaluate(const TwoLayerWeights& w) const {
    const Index n = views_->n();
    const ConstView stacked = views_->stacked(views_used(loss_));
    forward_hidden(stacked, units_, w, true, work_);
    TwoLayerGradient out;
    out.loss = batch_loss(work_.outputs, n, loss_);
    backward_hidden(stacked, units_, w, work_, batch_loss_gradient(work_.outputs, n, loss_), n,
                    out);
    return out;
}

}  // namespace ssldyn
