#include "model/two_layer.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "linalg/blas.hpp"

namespace ssldyn {

namespace {

// m as a rows x cols buffer: kept when it has that shape already (its contents are about to be
// overwritten), else freed before the new one is allocated so that the two never coexist.
template <class T>
void reshape(BasicMatrix<T>& m, Index rows, Index cols) {
    if (m.rows() == rows && m.cols() == cols) return;
    m = BasicMatrix<T>();
    m = BasicMatrix<T>(rows, cols);
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

// Forward, samples as rows: Uᵀ = Sᵀ W₁ᵀ into hidden, σ in place (σ′ into slope when it is to be
// kept), F = Aᵀ W₂ᵀ. σ runs by columns on as many threads as the BLAS has.
template <class T>
void forward_pass(BasicConstView<T> stacked, const Nonlinearity& units, BasicConstView<T> w1,
                  BasicConstView<T> w2, bool with_slope, HiddenActivity<T>& activity) {
    if (w1.cols != stacked.rows || w2.cols != w1.rows)
        throw RuntimeFailure("two-layer model: W₁ must be h x d and W₂ k x h");
    const Index samples = stacked.cols, h = w1.rows, d = stacked.rows;
    reshape(activity.hidden, samples, h);
    const bool keep_slope = with_slope && !slope_from_value(units);
    if (keep_slope) reshape(activity.slope, samples, h);
    over_unit_blocks(h, [&](Index first, Index count) {
        gemm(Op::transpose, Op::transpose, T(1), stacked, block(w1, first, 0, count, d), T(0),
             block(activity.hidden.view(), 0, first, samples, count));
    });
    parallel_ranges(h, blas_threads(), [&](Index first, Index count) {
        activate_in_place(units, block(activity.hidden.view(), 0, first, samples, count),
                          keep_slope ? block(activity.slope.view(), 0, first, samples, count)
                                     : BasicView<T>{nullptr, samples, count, samples});
    });
    reshape(activity.outputs, samples, w2.rows);
    gemm(Op::none, Op::transpose, T(1), activity.hidden.view(), w2, T(0), activity.outputs.view());
}

// Backward with ∂L/∂F = scale A: ∂L/∂W₂ = (∂L/∂F)ᵀ Aᵀ, ∂L/∂Aᵀ = (∂L/∂F) W₂, ∂L/∂Uᵀ = ∂L/∂Aᵀ ∘
// σ′(Uᵀ), ∂L/∂W₁ = (∂L/∂Uᵀ)ᵀ Sᵀ, into g1 and g2. ∂L/∂Aᵀ goes over Aᵀ when σ′(Uᵀ) is kept, else
// into the second buffer while σ′ is taken from Aᵀ: two (samples) x (units) matrices either way.
// (Tiles of ∂L/∂Uᵀ folded into ∇W₁ one at a time would save the second one, but were slower
// here: the elementwise pass then reads Aᵀ in strides, and the products are smaller.)
template <class T>
void backward_pass(BasicConstView<T> stacked, const Nonlinearity& units, BasicConstView<T> w2,
                   HiddenActivity<T>& activity, BasicConstView<T> a, T scale, BasicView<T> g1,
                   BasicView<T> g2) {
    const Index samples = stacked.cols, h = w2.cols, k = w2.rows;
    const bool kept = !slope_from_value(units);
    if (activity.hidden.rows() != samples || activity.hidden.cols() != h ||
        (kept && activity.slope.size() != activity.hidden.size()))
        throw RuntimeFailure("two-layer model: backward without its forward");
    if (!kept) reshape(activity.slope, samples, h);
    BasicMatrix<T>& back = kept ? activity.hidden : activity.slope;
    over_unit_blocks(h, [&](Index first, Index count) {
        gemm(Op::transpose, Op::none, scale, a,
             block(activity.hidden.view(), 0, first, samples, count), T(0),
             block(g2, 0, first, k, count));
        gemm(Op::none, Op::none, scale, a, block(w2, 0, first, k, count), T(0),
             block(back.view(), 0, first, samples, count));
    });
    parallel_ranges(h, blas_threads(), [&](Index first, Index count) {
        const BasicConstView<T> value = block(activity.hidden.view(), 0, first, samples, count);
        multiply_by_slope(units, block(back.view(), 0, first, samples, count), value,
                          kept ? block(activity.slope.view(), 0, first, samples, count) : value);
    });
    gemm(Op::transpose, Op::transpose, T(1), back.view(), stacked, T(0), g1);
}

// m as a float copy, in its buffer.
void as_floats(ConstView m, FloatMatrix& buffer) {
    reshape(buffer, m.rows, m.cols);
    convert(m, buffer.view());
}

}  // namespace

void HiddenLayer::use_data(ConstView stacked) {
    stacked_ = stacked;
    floats_current_ = false;
}

Matrix& HiddenLayer::forward(const TwoLayerWeights& w, bool with_slope) {
    if (!stacked_.data) throw RuntimeFailure("two-layer model: no samples to evaluate on");
    if (precision_ == Precision::float64) {
        forward_pass<double>(stacked_, units_, w.w1.view(), w.w2.view(), with_slope, work_);
        return work_.outputs;
    }
    if (!floats_current_) as_floats(stacked_, stacked32_);
    floats_current_ = true;
    as_floats(w.w1, w1_);
    as_floats(w.w2, w2_);
    forward_pass<float>(stacked32_.view(), units_, w1_.view(), w2_.view(), with_slope, work32_);
    reshape(outputs_, work32_.outputs.rows(), work32_.outputs.cols());
    convert(work32_.outputs.view(), outputs_.view());
    return outputs_;
}

void HiddenLayer::backward(const TwoLayerWeights& w, const Matrix& a, Index n,
                           TwoLayerGradient& out) {
    const double scale = -1.0 / static_cast<double>(n);
    const Index k = w.w2.rows(), h = w.w1.rows();
    out.w1 = Matrix(h, w.w1.cols());
    out.w2 = Matrix(k, h);
    if (precision_ == Precision::float64) {
        backward_pass<double>(stacked_, units_, w.w2.view(), work_, a.view(), scale, out.w1.view(),
                              out.w2.view());
        return;
    }
    if (w2_.rows() != k || w2_.cols() != h)
        throw RuntimeFailure("two-layer model: backward without its forward");
    as_floats(a, a_);
    reshape(g1_, h, w.w1.cols());
    reshape(g2_, k, h);
    backward_pass<float>(stacked32_.view(), units_, w2_.view(), work32_, a_.view(),
                         static_cast<float>(scale), g1_.view(), g2_.view());
    convert(g1_.view(), out.w1.view());
    convert(g2_.view(), out.w2.view());
}

TwoLayerObjective::TwoLayerObjective(const Views& views, LossFunction loss,
                                     const Nonlinearity& units, Precision precision)
    : views_(&views), loss_(loss), layer_(units, precision) {
    layer_.use_data(views.stacked(views_used(loss)));
}

double TwoLayerObjective::loss(const TwoLayerWeights& w) const {
    return batch_loss(layer_.forward(w, false), views_->n(), loss_);
}

TwoLayerGradient TwoLayerObjective::evaluate(const TwoLayerWeights& w) const {
    const Index n = views_->n();
    const Matrix& outputs = layer_.forward(w, true);
    TwoLayerGradient out;
    const BatchLossGradient batch = batch_loss_and_gradient(outputs, n, loss_);
    out.loss = batch.loss;
    layer_.backward(w, batch.a, n, out);
    return out;
}

}  // namespace ssldyn
