#include "run/footprint.hpp"

#include <algorithm>
#include <cstdio>

#include "loss/loss.hpp"
#include "run/driver.hpp"
#include "run/problem.hpp"
#include "run/record.hpp"

namespace ssldyn {

namespace {

constexpr double word = sizeof(double);

// The shapes a footprint is made of, as doubles (counts of entries, not bytes).
struct Shapes {
    double d, n, k, ranks;
    bool spread;  // C (d x d) over the group's grid
};

double ceil_share(double items, double ranks) {
    return static_cast<double>(static_cast<Index>((items + ranks - 1) / ranks));
}

// A network's hidden units on this rank: all of them, or its share when W₁ is sharded (never
// with a predictor: run/predictor_run holds the whole network).
double units_here(const RunConfig& config, Index d, const RunPlacement& at, bool& sharded) {
    const auto h = static_cast<double>(config.h);
    sharded = config.model == Model::two_layer && !uses_predictor(config.loss) &&
              at.group_size > 1 && config.h > d && config.h * d > at.distribute_above;
    return sharded ? ceil_share(h, at.group_size) : h;
}

bool paired(const RunConfig& config) {
    return config.model == Model::two_layer && config.pair_linear && !uses_predictor(config.loss);
}

// Records held as Record structs (two snapshots of k singular values each) and, when the run is
// written, once more as the store's rows: step, t, the metrics of both sides, the distance, a
// network's series and both sides' singular values.
double record_bytes(const RunConfig& config) {
    const auto k = static_cast<double>(config.k);
    const double structs = sizeof(Record) + 2 * (k * word + 16);
    const double rows = word * (2 + 2 * 6 + 1 + (is_network(config.model) ? 10 : 0) + 2 * k);
    return structs + rows;
}

}  // namespace

double Footprint::peak() const {
    return std::max(build, resident() + weights + records);
}

std::string Footprint::parts() const {
    std::string text = "data " + bytes_text(data) + ", C and its eigenvectors " +
                       bytes_text(problem) + ", building them " + bytes_text(build) +
                       ", weights and work " + bytes_text(weights) + ", records " +
                       bytes_text(records);
    if (spread) text += " (C spread over the run group)";
    if (sharded) text += " (hidden units shared out over the run group)";
    return text;
}

Footprint run_footprint(const RunConfig& config, Index d_index, Index n_index,
                        const RunPlacement& at) {
    Footprint f;
    const Shapes s{static_cast<double>(d_index), static_cast<double>(n_index),
                   static_cast<double>(config.k), static_cast<double>(at.group_size),
                   at.group_size > 1 && d_index * d_index > at.distribute_above};
    const double d = s.d, n = s.n, k = s.k, g = s.ranks;
    f.spread = s.spread;
    const bool network = is_network(config.model);
    const bool data_path = resolved_path(config) == GradientPath::data;
    const bool exact =
        config.data == DataSource::spiked && config.covariance == CovarianceSource::exact;
    const bool from_file = config.data != DataSource::spiked;
    const double contrastive = config.loss == Loss::contrastive ? 1 : 0;
    // C and its eigenvectors, kept; the eigensolver's peak: C, its copy, LAPACK's workspace of
    // about 2d², and the eigenvectors in descending order (linalg/lapack.cpp; ScaLAPACK alike).
    const double square = s.spread ? ceil_share(d * d, g) : d * d;
    f.problem = word * 2 * square;
    const double eigen = word * 5 * square;

    // The data: the views (d x 3n) stay for the gradient through the data, the clean samples for
    // minibatches and the supervised baseline, the probes for a network's comparisons.
    if (!exact) {
        const double views = 3 * d * n;
        if (data_path) f.data += word * views;
        if (network && (config.batch > 0 || config.model == Model::supervised))
            f.data += word * d * n;
        if (network)
            f.data += word * d * static_cast<double>(std::max(config.probes, config.ntk_probes));
        // Building: the samples (and, from a file, their bytes); the views, made with one more
        // d x n of positives in the making (data/views.cpp); then C with the samples, the views
        // and, for the contrastive loss, their difference (loss/loss.cpp).
        const auto building = [&](double rows) {
            return std::max(5 * rows * n, (4 + contrastive) * rows * n) +
                   (from_file ? rows * n / word : 0);
        };
        double load;
        if (!s.spread) {
            load = std::max(building(d), (4 + contrastive) * d * n + d * d);
        } else if (from_file || data_path) {
            // The group's first rank (every rank, for the data path) holds all of it, hands out
            // its rows, and receives its blocks of both factors of C.
            load = std::max(building(d),
                            (4 + contrastive) * d * n + 2 * ceil_share(d * n, g) + square);
        } else {
            // Spiked: each rank draws its rows (and their views), the factors of C go to the
            // grid in one all-to-all, sent and received.
            const double rows = ceil_share(d, g);
            load = std::max(building(rows),
                            (4 + contrastive) * rows * n + 4 * ceil_share(d * n, g) + square);
        }
        f.build = std::max(word * load, eigen + f.data);
    } else {
        f.build = eigen;
    }

    // The weights: a handful of k x d copies for the linear model (W, its gradient, the
    // retraction's work, W0, the theory's) and, through the data, the k x 3n outputs and their
    // gradient.
    f.records = record_bytes(config) * static_cast<double>(record_count(config));
    if (!network) {
        f.weights = word * (12 * k * d + (data_path ? 2 * 3 * n * k : 0));
        return f;
    }
    // A network: per objective (the network's, its pair's, a float64 one for the reference flow
    // of a float32 run) the activity of the units and its slope, m x units, and the outputs,
    // m = the views used times the samples of a step; in float32 also the samples as floats.
    const double u = units_here(config, d_index, at, f.sharded);
    const double samples = config.batch > 0 ? static_cast<double>(config.batch) : n;
    const double m = config.model == Model::supervised
                         ? samples
                         : static_cast<double>(views_used(config.loss)) * samples;
    const bool reference = config.reference_tolerance > 0;
    const bool single = config.precision == Precision::float32;
    const double activity =
        (2 * m * u + m * k) * (single ? word / 2 : word) + (single ? m * d * word / 2 : 0);
    double objectives = 1 + (paired(config) ? 1 : 0);
    double bytes = objectives * activity;
    if (single && reference) bytes += word * (2 * m * u + m * k);
    // Both layers (units x (d + k)) of the network, its pair and W0, their gradients and
    // retractions, the packed states; the reference flow's Dormand–Prince stages and states.
    const double layer = u * (d + k);
    const double copies = 8 + 2 * (paired(config) ? 1 : 0) + (reference ? 12 : 0);
    bytes += word * copies * layer;
    if (config.ntk_probes > 0) {
        const double order = static_cast<double>(config.ntk_probes) * k;
        const bool spread_rows = at.group_size > 1 && order * order > at.distribute_above;
        const double rows = spread_rows ? ceil_share(order, g) : order;
        bytes += word * (5 * rows * order + order * (u + d) +
                         3 * u * static_cast<double>(config.ntk_probes));
    }
    f.weights = bytes;
    return f;
}

double step_flops(const RunConfig& config, Index d_index, Index n_index, const RunPlacement& at) {
    const auto d = static_cast<double>(d_index), n = static_cast<double>(n_index),
               k = static_cast<double>(config.k), g = static_cast<double>(at.group_size);
    const double per_record = 1.0 / static_cast<double>(config.record_every);
    if (!is_network(config.model)) {
        const bool spread = at.group_size > 1 && d_index * d_index > at.distribute_above;
        // W C (or W times the views and back), the retraction, and at each record W V for the
        // metrics and the theory's rows.
        const double product = resolved_path(config) == GradientPath::data
                                   ? 4 * k * d * 3 * n
                                   : 2 * k * d * d / (spread ? g : 1);
        return product + 4 * k * k * d + per_record * 4 * k * d * d / (spread ? g : 1);
    }
    bool sharded = false;
    const double u = units_here(config, d_index, at, sharded);
    const double samples = config.batch > 0 ? static_cast<double>(config.batch) : n;
    const double views =
        config.model == Model::supervised ? 1 : static_cast<double>(views_used(config.loss));
    // Forward S W₁ᵀ, backward into W₁: three products of m x d x units; the pair doubles it.
    const double evaluation = 6 * views * samples * d * u;
    double flops = evaluation * (paired(config) ? 2 : 1);
    // The reference flow: a few full-batch evaluations per record.
    if (config.reference_tolerance > 0) flops += per_record * 6 * 6 * views * n * d * u;
    return flops;
}

std::string bytes_text(double bytes) {
    if (bytes < 0) return "-" + bytes_text(-bytes);
    static const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
    int unit = 0;
    while (bytes >= 1000 && unit < 6) {
        bytes /= 1000;
        ++unit;
    }
    char text[48];
    std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", bytes, units[unit]);
    return text;
}

}  // namespace ssldyn
