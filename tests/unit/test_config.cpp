// The settings table: every key parses what it prints; bad values name their key.
#include <gtest/gtest.h>

#include "config/run_config.hpp"
#include "core/error.hpp"

using namespace ssldyn;

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
        try {
            validate(c);
        } catch (const InputError& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_EQ(refusal([](RunConfig& c) { c.dynamics = Dynamics::sphere; }),
              "dynamics: 'sphere' is for the linear model; naive or orthogonal for model = "
              "two-layer");
    EXPECT_EQ(refusal([](RunConfig& c) { c.path = GradientPath::covariance; }),
              "path: the two-layer gradient goes through the data (auto or data) for model = "
              "two-layer");
    for (const DynamicsRow& row : dynamics_table) {
        if (!row.networks) continue;
        EXPECT_EQ(refusal([&](RunConfig& c) { c.dynamics = row.value; }), "no error") << row.name;
    }
}
