#include "run/problem.hpp"

#include "core/error.hpp"
#include "data/idx.hpp"
#include "data/spiked.hpp"

namespace ssldyn {

namespace {

enum StreamPurpose : std::uint64_t { samples = 11 };

}  // namespace

std::unique_ptr<Objective> Problem::objective(Loss loss) const {
    if (path == GradientPath::data) return std::make_unique<DataObjective>(*views, loss);
    return std::make_unique<CovarianceObjective>(c);
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

Problem build_problem(const RunConfig& config) {
    validate(config);
    Problem p;
    // The samples depend on the seed and the data settings, not on the run, so that runs that
    // differ only in dynamics or step see the same data.
    Matrix base;
    if (config.data == DataSource::spiked) {
        const SpikedCovariance spiked(config.d, config.spikes, config.bulk, config.random_basis,
                                      config.seed);
        if (config.covariance == CovarianceSource::exact) {
            p.c = spiked.covariance();
        } else {
            RandomStream stream(config.seed, samples);
            base = spiked.sample(config.n, stream);
        }
    } else {
        const std::string path =
            config.idx_path.empty() ? std::string(fashion_mnist_images) : config.idx_path;
        base = read_idx_images(path, config.n).pixels;
        if (config.n > 0 && base.cols() < config.n)
            throw InputError("n: " + std::to_string(config.n) + " samples asked for, but " + path +
                             " holds " + std::to_string(base.cols()));
    }
    p.d = config.data == DataSource::spiked ? config.d : base.rows();
    if (config.k > p.d)
        throw InputError("k: " + std::to_string(config.k) +
                         " exceeds the input dimension d = " + std::to_string(p.d));
    if (!base.empty()) {
        const Augmentation aug{config.sigma_aug, config.keep_prob};
        p.views.emplace(base, aug, config.centre, config.seed, samples);
        base = Matrix();
        p.c = covariance(*p.views, config.loss);
    }
    p.path = config.path == GradientPath::automatic ? GradientPath::covariance : config.path;
    if (p.path == GradientPath::covariance) p.views.reset();
    p.eigen = symmetric_eigen(p.c);
    if (!(p.lambda_max() > 0))
        throw InputError("loss: C has no positive eigenvalue (λ_max = " +
                         std::to_string(p.lambda_max()) + "), so this loss has nothing to learn");
    return p;
}

}  // namespace ssldyn
