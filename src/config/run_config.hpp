#pragma once
// One run's configuration. Every key has one entry in a table (name, help, parse, print), so
// INI files, the command line, sweep axes and the store all read and write it the same way.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/names.hpp"
#include "loss/loss.hpp"
#include "loss/predictor.hpp"
#include "model/activation.hpp"
#include "model/precision.hpp"
#include "optim/dynamics.hpp"

namespace ssldyn {

// Fashion-MNIST and MNIST read their own files (config/data_files.hpp), idx those of idx_path.
enum class DataSource { fashion_mnist, mnist, idx, spiked };
inline constexpr NameTable<DataSource, 4> data_source_names{{
    {DataSource::fashion_mnist, "fashion-mnist"},
    {DataSource::mnist, "mnist"},
    {DataSource::idx, "idx"},
    {DataSource::spiked, "spiked"},
}};

// Where the linear model's loss and gradient come from (THEORY §3); `auto` takes C for the linear
// model and the data for the networks, which have only that path.
enum class GradientPath { automatic, covariance, data };
struct GradientPathRow {
    GradientPath value;
    std::string_view name;
    bool networks;
};
inline constexpr std::array<GradientPathRow, 3> gradient_path_table{{
    {GradientPath::automatic, "auto", true},
    {GradientPath::covariance, "covariance", false},
    {GradientPath::data, "data", true},
}};
inline constexpr NameTable<GradientPath, 3> gradient_path_names = name_table(gradient_path_table);
static_assert(in_enumeration_order(gradient_path_table), "one row per value, in order");
constexpr const GradientPathRow& row_of(GradientPath p) {
    return gradient_path_table[static_cast<std::size_t>(p)];
}

// Spiked data only: C from the drawn samples, or the exact population C = Σ.
enum class CovarianceSource { empirical, exact };
inline constexpr NameTable<CovarianceSource, 2> covariance_source_names{{
    {CovarianceSource::empirical, "empirical"},
    {CovarianceSource::exact, "exact"},
}};

// The linear model W (THEORY §2, closed-form theory), the two-layer network W₂σ(W₁x) (THEORY
// §4.3, the reference flow as its theory), or the supervised baseline of THEORY §4.4 (the same
// network in the NTK parametrisation, squared loss on one-hot labels, plain GD).
enum class Model { linear, two_layer, supervised };
inline constexpr NameTable<Model, 3> model_names{{
    {Model::linear, "linear"},
    {Model::two_layer, "two-layer"},
    {Model::supervised, "supervised"},
}};

// The linear model's initial weights: Gaussian (entries N(0, init_scale²)), or aligned with the
// top-k eigenvectors of C, W₀ = init_scale·V_kᵀ (THEORY §6.2).
enum class Initialisation { gaussian, aligned };
inline constexpr NameTable<Initialisation, 2> initialisation_names{{
    {Initialisation::gaussian, "gaussian"},
    {Initialisation::aligned, "aligned"},
}};

inline bool is_network(Model model) {
    return model != Model::linear;
}

inline constexpr std::string_view fashion_mnist_images =
    "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";
inline constexpr std::string_view fashion_mnist_labels =
    "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz";

struct RunConfig {
    // data (THEORY §1)
    DataSource data = DataSource::fashion_mnist;
    std::string idx_path;     // images for data = idx (fashion-mnist and mnist: their own)
    std::string labels_path;  // labels of the supervised baseline (default as idx_path)
    Index n = 10000;          // samples (0: all of the file)
    Index d = 256;            // spiked only
    std::vector<double> spikes{8.0, 6.0, 4.0, 2.0};
    double bulk = 0.5;
    bool random_basis = true;
    CovarianceSource covariance = CovarianceSource::empirical;
    bool centre = true;
    double sigma_aug = 0.1;
    double keep_prob = 1.0;
    // model, loss and dynamics (THEORY §2–4)
    Loss loss = Loss::noncontrastive;
    Dynamics dynamics = Dynamics::orthogonal;
    Retraction retraction = Retraction::automatic;
    GradientPath path = GradientPath::automatic;
    Index k = 16;
    double eta = 0.0;      // absolute step; 0 means: use eta_rel
    double eta_rel = 0.1;  // η·λ_max(C), used when eta is 0
    double weight_decay = 0.0;
    double penalty = 0.0;      // μ of dynamics = penalty (required > 0 there)
    double temperature = 0.5;  // τ of loss = infonce (THEORY §6.4)
    bool whiten = false;       // inputs whitened: the anchor view's second moment Σ = I
    Initialisation init = Initialisation::gaussian;  // linear model only
    double init_scale = 0.0;  // of the linear model's W₀ (0: 1/√d, the Gaussian's default)
    // loss = byol | simsiam (THEORY §6.3)
    double predictor_rate = 1.0;  // α_p
    double target_rate = 1.0;     // β: BYOL's moving average, per unit of t
    Predictor predictor = Predictor::linear;
    bool stop_gradient = true;
    // two-layer network (THEORY §4.3–4.4)
    Model model = Model::linear;
    Index h = 1024;  // hidden width
    Activation activation = Activation::tanh;
    Precision precision = Precision::float64;  // of the passes through the data
    Index batch = 0;                           // minibatch size (0: full batch)
    Index probes = 32;                  // samples on which outputs and Gram matrices are compared
    Index ntk_probes = 0;               // samples of the tangent kernels (0: none)
    double reference_tolerance = 1e-6;  // local error of the reference flow (0: none)
    bool pair_linear = true;            // train the paired linear model alongside
    Index steps = 2000;
    Index record_every = 20;
    std::uint64_t seed = 1;
};

// How a store holds a setting's values: names, paths and lists as text, the others as numbers.
enum class ValueKind { text, number, integer, boolean };

struct ConfigKey {
    std::string_view name;
    std::string help;  // with the choices of a named value, from its table
    void (*parse)(RunConfig&, std::string_view value);  // throws InputError naming the key
    std::string (*print)(const RunConfig&);
    // Keys added after stores were written are part of a run's identity only away from their
    // default, so that the ids of those stores' runs stand.
    bool identity_at_default = true;
    // The key changes the Problem (run/problem.hpp: the data, the views, the labels, C or its
    // eigendecomposition, the samples or probes kept): runs share a Problem only when every such
    // key is equal.
    bool defines_problem = false;
    ValueKind kind = ValueKind::text;
    // The value as a number (number) or an integer (integer; boolean: 0 or 1); null for text.
    double (*number)(const RunConfig&) = nullptr;
    long long (*integer)(const RunConfig&) = nullptr;

    // The text `print` gives for a value stored as a number or an integer.
    std::string text_of(double value) const;
    std::string text_of(long long value) const;
};

const std::vector<ConfigKey>& config_keys();
const ConfigKey& config_key(std::string_view name);  // InputError for unknown names

void set_value(RunConfig& config, std::string_view key, std::string_view value);
std::string get_value(const RunConfig& config, std::string_view key);

// Checks what can be checked without the data (k ≤ d is checked again once d is known).
void validate(const RunConfig& config);

// "key = value" lines in table order, but for keys added later at their default
// (ConfigKey::identity_at_default, which the store's index still lists): the run's identity and
// what the store records.
std::string canonical_text(const RunConfig& config);
// A run's id: 16 hex digits of a 64-bit FNV-1a hash of the canonical text (run_hash).
std::uint64_t run_hash(const RunConfig& config);
std::string run_id_text(std::uint64_t hash);
inline std::string run_id(const RunConfig& config) {
    return run_id_text(run_hash(config));
}
std::string data_source_text(const RunConfig& config);

inline LossFunction loss_function(const RunConfig& config) {
    return {config.loss, config.temperature};
}

}  // namespace ssldyn
