// The settings table: every key parses what it prints; bad values name their key.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "config/run_config.hpp"
#include "core/error.hpp"

using namespace ssldyn;

namespace {

// The message of validate(c), or "valid".
std::string validation_of(const RunConfig& c) {
    try {
        validate(c);
    } catch (const InputError& e) {
        return e.what();
    }
    return "valid";
}

}  // namespace

TEST(Config, CanonicalTextRoundTrips) {
    RunConfig a;
    set_value(a, "eta", "0.0123456789");
    set_value(a, "spikes", "9, 7.5,1e-3");
    set_value(a, "loss", "contrastive");
    set_value(a, "centre", "false");
    RunConfig b;
    for (const auto& key : config_keys()) set_value(b, key.name, key.print(a));
    EXPECT_EQ(canonical_text(a), canonical_text(b));
    EXPECT_EQ(run_id(a), run_id(b));
    EXPECT_EQ(run_id(a).size(), 16u);
    set_value(b, "seed", "2");
    EXPECT_NE(run_id(a), run_id(b));
    EXPECT_EQ(get_value(a, "spikes"), "9,7.5,0.001");
}

// Keys added after stores were written (precision) stay out of the identity at their default,
// so that earlier runs keep their ids, and are in it otherwise.
TEST(Config, KeysAddedLaterChangeTheIdentityOnlyAwayFromTheirDefault) {
    RunConfig a;
    set_value(a, "model", "two-layer");
    EXPECT_EQ(canonical_text(a).find("precision"), std::string::npos);
    EXPECT_NE(canonical_text(a).find("activation = tanh\n"), std::string::npos);
    RunConfig b = a;
    set_value(b, "precision", "float32");
    EXPECT_NE(canonical_text(b).find("precision = float32\n"), std::string::npos);
    EXPECT_NE(run_id(a), run_id(b));
    set_value(b, "precision", "float64");
    EXPECT_EQ(run_id(a), run_id(b));
    set_value(b, "model", "linear");
    set_value(b, "precision", "float32");
    EXPECT_THROW(validate(b), InputError);
}

TEST(Config, BadValuesNameTheirKey) {
    RunConfig c;
    auto message = [&](const char* key, const char* value) {
        try {
            set_value(c, key, value);
        } catch (const InputError& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_EQ(message("k", "abc").rfind("k: 'abc'", 0), 0u);
    EXPECT_EQ(message("eta", "1e").rfind("eta:", 0), 0u);
    EXPECT_EQ(message("eta", "inf").rfind("eta:", 0), 0u);
    EXPECT_EQ(message("loss", "ssl").rfind("loss: unknown value 'ssl'", 0), 0u);
    EXPECT_EQ(message("centre", "maybe").rfind("centre:", 0), 0u);
    EXPECT_EQ(message("nonsense", "1"), "unknown setting 'nonsense'");
}

TEST(Config, ValidationCatchesImpossibleRuns) {
    auto rejects = [](auto change) {
        RunConfig c;
        change(c);
        EXPECT_THROW(validate(c), InputError);
    };
    rejects([](RunConfig& c) { c.k = 0; });
    rejects([](RunConfig& c) { c.eta = -1; });
    rejects([](RunConfig& c) { c.eta_rel = 0; });
    rejects([](RunConfig& c) {
        c.data = DataSource::spiked;
        c.d = 4;
        c.k = 5;
    });
    rejects([](RunConfig& c) { c.keep_prob = 0; });
    rejects([](RunConfig& c) { c.covariance = CovarianceSource::exact; });
    rejects([](RunConfig& c) { c.data = DataSource::idx; });
    EXPECT_NO_THROW(validate(RunConfig{}));
}

// The help of a named key ends with its table's names, and the refusals of what a network cannot
// take name what it can, from the tables' rows.
TEST(Config, ChoicesComeFromTheTables) {
    EXPECT_NE(config_key("activation")
                  .help.find("; one of: identity, tanh, erf, gelu, softplus, "
                             "relu"),
              std::string::npos);
    EXPECT_NE(config_key("retraction").help.find("; one of: auto, qr, polar, cayley, geodesic"),
              std::string::npos);
    auto refusal = [](auto change) {
        RunConfig c;
        c.model = Model::two_layer;
        change(c);
        return validation_of(c);
    };
    EXPECT_EQ(refusal([](RunConfig& c) { c.dynamics = Dynamics::sphere; }),
              "dynamics: 'sphere' is for the linear model; naive or orthogonal for model = "
              "two-layer");
    EXPECT_EQ(refusal([](RunConfig& c) { c.path = GradientPath::covariance; }),
              "path: the two-layer gradient goes through the data (auto or data) for model = "
              "two-layer");
    for (const DynamicsRow& row : dynamics_table) {
        if (!row.networks) continue;
        EXPECT_EQ(refusal([&](RunConfig& c) { c.dynamics = row.value; }), "valid") << row.name;
    }
}

// Numbers a run cannot compute with are refused naming their key: NaN and infinities (also in a
// config made in code), scales of the data whose squares would overflow C (1e308 ended in
// "dsyevd: failed to converge", naming nothing), and seeds outside 0 to 2^63 - 1 (-1 was stored
// as 2^64 - 1).
TEST(Config, NumbersARunCannotComputeWithNameTheirKey) {
    RunConfig spiked;
    spiked.data = DataSource::spiked;
    spiked.d = 16;
    spiked.k = 2;
    ASSERT_EQ(validation_of(spiked), "valid");
    const auto with = [&](const char* key, const char* value) {
        RunConfig c = spiked;
        set_value(c, key, value);
        return validation_of(c);
    };
    EXPECT_EQ(with("sigma_aug", "1e308"),
              "sigma_aug: 1e+308 is too large (at most 1e150: C sums squares of the samples, "
              "which would overflow)");
    EXPECT_EQ(with("spikes", "1e308,1").rfind("spikes: 1e+308 is too large", 0), 0u);
    EXPECT_EQ(with("bulk", "2e150").rfind("bulk: 2e+150 is too large", 0), 0u);
    EXPECT_EQ(with("spikes", "3,-1"), "spikes: eigenvalues must be >= 0, got -1");
    EXPECT_EQ(with("bulk", "-1e200"), "bulk: must be >= 0, got -1e+200");
    // The bound itself passes, and a large step size is no bad input (the run fails).
    EXPECT_EQ(with("sigma_aug", "1e150"), "valid");
    EXPECT_EQ(with("spikes", "1e150,1"), "valid");
    EXPECT_EQ(with("eta", "1e308"), "valid");

    const double nan = std::nan(""), inf = std::numeric_limits<double>::infinity();
    RunConfig c = spiked;
    c.eta = nan;
    EXPECT_EQ(validation_of(c), "eta: must be a finite number, got nan");
    c = spiked;
    c.weight_decay = inf;
    EXPECT_EQ(validation_of(c), "weight_decay: must be a finite number, got inf");
    c = spiked;
    c.spikes = {4.0, -inf};
    EXPECT_EQ(validation_of(c), "spikes: must be a finite number, got -inf");

    for (const char* seed : {"-1", "+3", "1.5", "9223372036854775808", "", "0x10"}) {
        try {
            set_value(c, "seed", seed);
            ADD_FAILURE() << "seed '" << seed << "' taken as " << c.seed;
        } catch (const InputError& e) {
            EXPECT_EQ(std::string(e.what()), "seed: '" + std::string(seed) +
                                                 "' is not a seed (an integer from 0 to 2^63 - 1)");
        }
    }
    set_value(c, "seed", "9223372036854775807");
    EXPECT_EQ(get_value(c, "seed"), "9223372036854775807");
    c = spiked;
    c.seed = std::uint64_t{1} << 63;
    EXPECT_EQ(validation_of(c), "seed: must be at most 2^63 - 1, got 9223372036854775808");
}
