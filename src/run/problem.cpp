#include "run/problem.hpp"

#include <algorithm>
#include <exception>
#include <utility>

#include "config/data_files.hpp"
#include "core/error.hpp"
#include "data/idx.hpp"
#include "data/spiked.hpp"
#include "linalg/blas.hpp"
#include "linalg/scalapack.hpp"
#include "theory/closed_form.hpp"

namespace ssldyn {

namespace {

enum StreamPurpose : std::uint64_t { samples = 11 };

}  // namespace

std::unique_ptr<Objective> Problem::objective(const LossFunction& loss) const {
    if (path == GradientPath::data) return std::make_unique<DataObjective>(*views, loss);
    // Only the paper's losses have C distributed (build_problem).
    if (c_distributed) return std::make_unique<DistributedCovarianceObjective>(*c_distributed);
    switch (loss.loss) {
        case Loss::noncontrastive:
        case Loss::contrastive:
        case Loss::infonce:  // these three refused by validate(): no form through C
        case Loss::byol:
        case Loss::simsiam:
            break;
        case Loss::spectral_contrastive:
            return std::make_unique<SpectralContrastiveObjective>(c, sigma);
        case Loss::barlow_twins:
            return std::make_unique<BarlowTwinsObjective>(c);
    }
    return std::make_unique<CovarianceObjective>(c);
}

Matrix Problem::coordinates(const Matrix& w) const {
    if (!vectors_distributed) return eigen_coordinates(w, eigen);
    // (W V)ᵀ = Vᵀ Wᵀ on the grid of V: W is on every rank, so each takes its own blocks.
    const DistributedMatrix& v = *vectors_distributed;
    const DistributedMatrix wt =
        DistributedMatrix::scatter(v.grid(), transpose(w), v.block_cols(), v.block_cols());
    DistributedMatrix product(v.grid(), d, w.rows(), v.block_cols(), v.block_cols());
    pgemm(Op::transpose, Op::none, 1.0, v, wt, 0.0, product);
    return transpose(product.gather());
}

DataShape data_shape(const RunConfig& config) {
    validate(config);
    DataShape shape{config.d, config.n};
    if (config.data != DataSource::spiked) {
        const std::string path = images_file(config);
        const IdxShape file = read_idx_image_shape(path);
        if (config.n > file.count)
            throw InputError("n: " + std::to_string(config.n) + " samples asked for, but " + path +
                             " holds " + std::to_string(file.count));
        shape.d = file.rows * file.cols;
        if (config.n == 0) shape.n = file.count;
    }
    if (config.k > shape.d)
        throw InputError("k: " + std::to_string(config.k) +
                         " exceeds the input dimension d = " + std::to_string(shape.d));
    return shape;
}

GradientPath resolved_path(const RunConfig& config) {
    if (config.path != GradientPath::automatic) return config.path;
    return is_network(config.model) || !row_of(config.loss).covariance_path
               ? GradientPath::data
               : GradientPath::covariance;
}

Index input_dimension(const RunConfig& config) {
    return data_shape(config).d;
}

std::string problem_key(const RunConfig& config) {
    std::string key;
    for (const auto& setting : config_keys())
        if (setting.defines_problem)
            key += std::string(setting.name) + "=" + setting.print(config) + ";";
    return key;
}

namespace {

// The samples (base, d x n) or the exact C, whole, on this rank; the labels of the supervised
// baseline.
struct Source {
    Matrix base;
    Matrix exact_c;
    std::vector<Index> labels;
};

SpikedCovariance spiked_of(const RunConfig& config) {
    return SpikedCovariance(config.d, config.spikes, config.bulk, config.random_basis, config.seed);
}

Source load_source(const RunConfig& config) {
    // The samples depend on the seed and the data settings, not on the run, so that runs that
    // differ only in dynamics or step see the same data.
    Source source;
    if (config.data == DataSource::spiked) {
        const SpikedCovariance spiked = spiked_of(config);
        if (config.covariance == CovarianceSource::exact) {
            source.exact_c = spiked.covariance();
        } else {
            RandomStream stream(config.seed, samples);
            source.base = spiked.sample(config.n, stream);
        }
    } else {
        const std::string path = images_file(config);
        source.base = read_idx_images(path, config.n).pixels;
        if (config.n > 0 && source.base.cols() < config.n)
            throw InputError("n: " + std::to_string(config.n) + " samples asked for, but " + path +
                             " holds " + std::to_string(source.base.cols()));
        if (config.model == Model::supervised) {
            const std::string labels = labels_file(config);
            for (const std::uint8_t label : read_idx_labels(labels, source.base.cols()))
                source.labels.push_back(label);
            if (static_cast<Index>(source.labels.size()) < source.base.cols())
                throw InputError(labels + ": " + std::to_string(source.labels.size()) +
                                 " labels for " + std::to_string(source.base.cols()) + " images");
            for (const Index label : source.labels)
                if (label >= config.k)
                    throw InputError(
                        "k: " + labels + " holds class " + std::to_string(label) +
                        ", so the supervised baseline needs k >= " + std::to_string(label + 1));
        }
    }
    return source;
}

// Rows [first, first + count) of a view.
ConstView row_range(ConstView a, Index first, Index count) {
    return {a.data + first, count, a.cols, a.ld};
}

// Two-layer runs keep the clean samples their minibatches and probes come from, centred by the
// views' mean (p.views just built from them) and whitened as they are.
void keep_samples(const RunConfig& config, Problem& p, Matrix& base, const Matrix& whitening) {
    if (!is_network(config.model)) return;
    if (config.centre)
        for (Index j = 0; j < base.cols(); ++j)
            for (Index i = 0; i < base.rows(); ++i)
                base(i, j) -= p.views->mean()[static_cast<std::size_t>(i)];
    if (!whitening.empty()) base = multiply(whitening, base);
    const Index count = std::min(base.cols(), std::max(config.probes, config.ntk_probes));
    p.probes = copy_of(base.columns(0, count));
    if (config.batch > 0 || config.model == Model::supervised) p.samples = std::move(base);
}

// The problem replicated: every rank builds all of it from the whole source.
void build_replicated(const RunConfig& config, Problem& p, Source source) {
    p.labels = std::move(source.labels);
    if (!source.base.empty()) {
        const Augmentation aug{config.sigma_aug, config.keep_prob};
        p.views.emplace(source.base, aug, config.centre, config.seed, samples);
        const Matrix whitening = config.whiten ? p.views->whiten() : Matrix();
        keep_samples(config, p, source.base, whitening);
        source.base = Matrix();
    }
    p.c = p.views ? covariance(*p.views, config.loss) : std::move(source.exact_c);
    // Σ of one view; exact C ignores the augmentation, so there Σ = C (THEORY §6.1).
    if (config.loss == Loss::spectral_contrastive)
        p.sigma = p.views ? view_second_moment(*p.views) : p.c;
    if (p.path == GradientPath::covariance) p.views.reset();  // before dsyevd's peak
    p.eigen = symmetric_eigen(p.c);
}

// C over the group's square grid from the rows `views` holds ([from, from + count) of them go
// to the grid; none when views is null): C = sym(A Bᵀ)/n (loss/loss.hpp) by pdsyr2k, each entry
// of A and B moved to its owner in one all-to-all.
DistributedMatrix assemble_covariance(const Views* views, Index from, Index count, Loss loss,
                                      Index d, Index n, const Distribution& where) {
    const ConstView none{nullptr, 0, n, 1};
    auto distribute = [&](ConstView a) {
        return DistributedMatrix::from_row_blocks(
            *where.square, views ? row_range(a, from, count) : none, where.block, where.block);
    };
    DistributedMatrix c(*where.square, d, d, where.block, where.block);
    auto assemble = [&](ConstView a, ConstView b) {
        psyr2k(Op::none, covariance_scale(n), distribute(a), distribute(b), 0.0, c);
    };
    if (views)
        with_covariance_factors(*views, loss, assemble);
    else
        assemble(none, none);
    return c;
}

// Whether this rank needs the whole samples (or the exact C) of a spread problem: only for data
// from a file (the group's first rank reads it) and for path = data (every rank keeps all the
// views, for the gradient); spiked data are drawn by rows, their exact C by blocks.
bool spread_needs_whole_source(const RunConfig& config, const Problem& p) {
    const bool spiked = config.data == DataSource::spiked;
    if (p.path == GradientPath::data) return true;
    return !spiked && p.distribution.first();
}

// The problem spread over the group: C and its eigenvectors block-cyclic, no rank holding
// anything d x d. Spiked data: each rank draws its share of the samples' rows (or, for the exact
// C, computes its own blocks of it); data read from a file (d = 784 for Fashion-MNIST): the
// group's first rank holds them (`source`) and hands out the rows. With path = data every rank
// holds all the views, for the gradient.
void build_spread(const RunConfig& config, Problem& p, Source source, Index n) {
    p.labels = std::move(source.labels);
    const Distribution& where = p.distribution;
    const Index d = p.d, rank = where.group->rank(), size = where.group->size();
    const Index first = d * rank / size, count = d * (rank + 1) / size - first;
    const Augmentation aug{config.sigma_aug, config.keep_prob};
    if (config.data == DataSource::spiked && config.covariance == CovarianceSource::exact) {
        DistributedMatrix& c =
            p.c_distributed.emplace(*where.square, d, d, where.block, where.block);
        std::vector<Index> rows(static_cast<std::size_t>(c.local().rows()));
        std::vector<Index> cols(static_cast<std::size_t>(c.local().cols()));
        for (Index i = 0; i < c.local().rows(); ++i)
            rows[static_cast<std::size_t>(i)] = c.global_row(i);
        for (Index j = 0; j < c.local().cols(); ++j)
            cols[static_cast<std::size_t>(j)] = c.global_col(j);
        c.local() = spiked_of(config).covariance_block(rows, cols);
    } else if (source.base.empty() && config.data == DataSource::spiked) {
        RandomStream stream(config.seed, samples);
        const Matrix mine = spiked_of(config).sample_rows(n, first, count, stream, [&](Matrix& m) {
            where.group->sum(m.data(), static_cast<long>(m.size()));
        });
        const Views views(mine, aug, config.centre, config.seed, samples, first, d);
        p.c_distributed.emplace(assemble_covariance(&views, 0, count, config.loss, d, n, where));
    } else {
        const bool holds = !source.base.empty();
        if (holds) {
            p.views.emplace(source.base, aug, config.centre, config.seed, samples);
            keep_samples(config, p, source.base, Matrix());
        }
        source.base = Matrix();
        // Every rank holding the views hands over its share of the rows; a lone holder all.
        const bool everyone = p.path == GradientPath::data;
        p.c_distributed.emplace(assemble_covariance(holds ? &*p.views : nullptr,
                                                    everyone ? first : 0, everyone ? count : d,
                                                    config.loss, d, n, where));
    }
    if (p.path != GradientPath::data) p.views.reset();  // before pdsyevd's peak
    DistributedSymmetricEigen eigen = symmetric_eigen(*p.c_distributed);
    p.eigen.values = std::move(eigen.values);
    p.vectors_distributed.emplace(std::move(eigen.vectors));
}

}  // namespace

Problem build_problem(const RunConfig& config, const Distribution& where) {
    validate(config);
    Problem p;
    p.distribution = where;
    p.path = resolved_path(config);
    // What may fail on one rank alone (reading files) comes before anything collective, and a
    // group agrees on it: a problem fails to build on every rank of its group or on none (so the
    // group's caches and collectives stay in step).
    Source source;
    Index n = 0;
    bool spread = false;
    std::exception_ptr error;
    try {
        const DataShape shape = data_shape(config);
        p.d = shape.d;
        n = shape.n;
        spread = where.distributes(p.d, p.d);
        if (!spread || spread_needs_whole_source(config, p)) source = load_source(config);
    } catch (...) {
        error = std::current_exception();
    }
    if (where.group != nullptr && where.group->size() > 1 && where.group->max(error ? 1 : 0) != 0 &&
        !error)
        throw InputError("the data failed on another rank of the run group");
    if (error) std::rethrow_exception(error);
    if (spread && (config.whiten || !paper_loss(config.loss)))
        throw InputError("loss: " + std::string(name_of(loss_names, config.loss)) +
                         (config.whiten ? " with whiten = true" : "") +
                         " needs C on one rank, but d = " + std::to_string(p.d) +
                         " is distributed over the run group");
    if (spread)
        build_spread(config, p, std::move(source), n);
    else
        build_replicated(config, p, std::move(source));
    if (!(p.lambda_max() > 0))
        throw InputError("loss: C has no positive eigenvalue (λ_max = " +
                         std::to_string(p.lambda_max()) + "), so this loss has nothing to learn");
    return p;
}

}  // namespace ssldyn
