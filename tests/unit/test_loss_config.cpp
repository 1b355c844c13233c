// The keys of THEORY §6 (temperature, whiten, init, init_scale): their refusals name the key,
// and at their defaults a run's identity is that of a config written before they existed.
#include <gtest/gtest.h>

#include <string>

#include "config/run_config.hpp"

using namespace ssldyn;

namespace {

std::string refusal(void (*change)(RunConfig&)) {
    RunConfig c;
    change(c);
    try {
        validate(c);
    } catch (const InputError& e) {
        return e.what();
    }
    return "valid";
}

std::string parse_refusal(const char* key, const char* value) {
    RunConfig c;
    try {
        set_value(c, key, value);
    } catch (const InputError& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST(LossConfig, BadValuesNameTheirKey) {
    EXPECT_EQ(refusal([](RunConfig& c) { c.temperature = 0; }).rfind("temperature:", 0), 0u);
    EXPECT_EQ(refusal([](RunConfig& c) { c.init_scale = -1; }).rfind("init_scale:", 0), 0u);
    EXPECT_EQ(parse_refusal("whiten", "maybe").rfind("whiten:", 0), 0u);
    EXPECT_EQ(parse_refusal("init", "small").rfind("init: unknown value 'small'", 0), 0u);
    EXPECT_EQ(parse_refusal("loss", "byl").rfind("loss: unknown value 'byl'", 0), 0u);
    EXPECT_EQ(refusal([](RunConfig& c) {
                  c.loss = Loss::infonce;
                  c.path = GradientPath::covariance;
              }),
              "path: loss = infonce has no form through C (path = data or auto)");
    EXPECT_EQ(refusal([](RunConfig& c) {
                  c.data = DataSource::spiked;
                  c.covariance = CovarianceSource::exact;
                  c.whiten = true;
              }),
              "whiten: needs samples (covariance = empirical)");
    EXPECT_EQ(refusal([](RunConfig& c) {
                  c.model = Model::two_layer;
                  c.init = Initialisation::aligned;
              }),
              "init: 'aligned' is for the linear model");
    for (const LossRow& row : loss_table) {
        RunConfig c;
        set_value(c, "loss", row.name);
        EXPECT_EQ(c.loss, row.value);
    }
}

TEST(LossConfig, DefaultsLeaveTheIdentityAsBefore) {
    RunConfig c;
    const std::string before = canonical_text(c);
    for (const char* key : {"temperature", "whiten", "init", "init_scale"})
        EXPECT_EQ(before.find(std::string(key) + " ="), std::string::npos) << key;
    set_value(c, "init_scale", "0.001");
    EXPECT_NE(canonical_text(c).find("init_scale = 0.001"), std::string::npos);
    EXPECT_NE(run_hash(c), run_hash(RunConfig{}));
}
