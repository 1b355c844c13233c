#include "run/problem.hpp"

#include "core/error.hpp"
#include "data/idx.hpp"
#include "data/spiked.hpp"
#include "linalg/scalapack.hpp"
#include "theory/closed_form.hpp"

namespace ssldyn {

namespace {

enum StreamPurpose : std::uint64_t { samples = 11 };

}  // namespace

std::unique_ptr<Objective> Problem::objective(Loss loss) const {
    if (path == GradientPath::data) return std::make_unique<DataObjective>(*views, loss);
    if (c_distributed) return std::make_unique<DistributedCovarianceObjective>(*c_distributed);
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

namespace {

std::string image_path(const RunConfig& config) {
    return config.idx_path.empty() ? std::string(fashion_mnist_images) : config.idx_path;
}

}  // namespace

Index input_dimension(const RunConfig& config) {
    validate(config);
    Index d = config.d;
    if (config.data != DataSource::spiked) {
        const std::string path = image_path(config);
        const IdxShape shape = read_idx_image_shape(path);
        if (config.n > shape.count)
            throw InputError("n: " + std::to_string(config.n) + " samples asked for, but " + path +
                             " holds " + std::to_string(shape.count));
        d = shape.rows * shape.cols;
    }
    if (config.k > d)
        throw InputError("k: " + std::to_string(config.k) +
                         " exceeds the input dimension d = " + std::to_string(d));
    return d;
}

std::string problem_key(const RunConfig& config) {
    std::string key;
    for (const char* name :
         {"data", "idx_path", "n", "d", "spikes", "bulk", "random_basis", "covariance", "centre",
          "sigma_aug", "keep_prob", "loss", "path", "seed"})
        key += get_value(config, name) + ";";
    return key;
}

namespace {

// The samples (base, d x n) or the exact C, on this rank: what build_problem starts from.
struct Source {
    Matrix base;
    Matrix exact_c;
};

Source load_source(const RunConfig& config) {
    // The samples depend on the seed and the data settings, not on the run, so that runs that
    // differ only in dynamics or step see the same data.
    Source source;
    if (config.data == DataSource::spiked) {
        const SpikedCovariance spiked(config.d, config.spikes, config.bulk, config.random_basis,
                                      config.seed);
        if (config.covariance == CovarianceSource::exact) {
            source.exact_c = spiked.covariance();
        } else {
            RandomStream stream(config.seed, samples);
            source.base = spiked.sample(config.n, stream);
        }
    } else {
        const std::string path = image_path(config);
        source.base = read_idx_images(path, config.n).pixels;
        if (config.n > 0 && source.base.cols() < config.n)
            throw InputError("n: " + std::to_string(config.n) + " samples asked for, but " + path +
                             " holds " + std::to_string(source.base.cols()));
    }
    return source;
}

// The sample count every rank of a group can know without the data.
Index sample_count(const RunConfig& config) {
    if (config.data == DataSource::spiked || config.n > 0) return config.n;
    return read_idx_image_shape(image_path(config)).count;
}

// Rows [first, first + count) of a view.
ConstView row_range(ConstView a, Index first, Index count) {
    return {a.data + first, count, a.cols, a.ld};
}

// C distributed over the group's square grid, assembled from the samples as C = sym(A Bᵀ)/n
// (loss/loss.hpp) by pdsyr2k. When every rank holds the views each passes an equal share of
// the rows, else the first rank passes all of them; one all-to-all puts each entry on its owner.
DistributedMatrix distributed_covariance(const Views* views, bool everyone_holds, Loss loss,
                                         Index d, Index n, const Distribution& where) {
    const BlacsGrid& grid = *where.square;
    const Index rank = where.group->rank(), size = where.group->size();
    const Index first = everyone_holds ? d * rank / size : 0;
    const Index count = views == nullptr ? 0 : everyone_holds ? d * (rank + 1) / size - first : d;
    const ConstView none{nullptr, 0, n, 1};
    auto distribute = [&](ConstView a) {
        return DistributedMatrix::from_row_blocks(grid, views ? row_range(a, first, count) : none,
                                                  where.block, where.block);
    };
    DistributedMatrix c(grid, d, d, where.block, where.block);
    auto assemble = [&](ConstView a, ConstView b) {
        psyr2k(Op::none, covariance_scale(n), distribute(a), distribute(b), 0.0, c);
    };
    if (views)
        with_covariance_factors(*views, loss, assemble);
    else
        assemble(none, none);
    return c;
}

}  // namespace

Problem build_problem(const RunConfig& config, const Distribution& where) {
    validate(config);
    Problem p;
    p.distribution = where;
    p.d = input_dimension(config);
    p.path = config.path == GradientPath::automatic ? GradientPath::covariance : config.path;
    const bool spread = where.distributes(p.d, p.d);
    // Replicated, every rank builds everything; distributed, only the group's first rank reads
    // or draws the samples, unless the gradient goes through them (then every rank needs them).
    const bool holds_data = !spread || where.first() || p.path == GradientPath::data;
    Source source;
    std::string failure;
    if (holds_data) {
        try {
            source = load_source(config);
        } catch (const std::exception& e) {
            if (!spread) throw;
            failure = e.what();
        }
    }
    // A data file that fails on one rank fails the run on all of them, never half of a group.
    if (spread && where.group->max(failure.empty() ? 0 : 1) != 0)
        throw InputError(failure.empty() ? "the data failed on another rank of the run group"
                                         : failure);
    if (!source.base.empty()) {
        const Augmentation aug{config.sigma_aug, config.keep_prob};
        p.views.emplace(source.base, aug, config.centre, config.seed, samples);
        source.base = Matrix();
    }
    // The samples and the exact C are let go as soon as C is assembled (before the
    // eigendecomposition, the other peak of memory); the views stay for path = data.
    auto release = [&] {
        source.exact_c = Matrix();
        if (p.path == GradientPath::covariance) p.views.reset();
    };
    if (!spread) {
        p.c = p.views ? covariance(*p.views, config.loss) : std::move(source.exact_c);
        release();
        p.eigen = symmetric_eigen(p.c);
    } else {
        const Index b = where.block;
        if (config.data == DataSource::spiked && config.covariance == CovarianceSource::exact)
            p.c_distributed.emplace(
                DistributedMatrix::scatter_from(*where.square, 0, source.exact_c, b, b));
        else
            p.c_distributed.emplace(
                distributed_covariance(p.views ? &*p.views : nullptr, p.path == GradientPath::data,
                                       config.loss, p.d, sample_count(config), where));
        release();
        DistributedSymmetricEigen eigen = symmetric_eigen(*p.c_distributed);
        p.eigen.values = std::move(eigen.values);
        p.vectors_distributed.emplace(std::move(eigen.vectors));
    }
    if (!(p.lambda_max() > 0))
        throw InputError("loss: C has no positive eigenvalue (λ_max = " +
                         std::to_string(p.lambda_max()) + "), so this loss has nothing to learn");
    return p;
}

}  // namespace ssldyn
