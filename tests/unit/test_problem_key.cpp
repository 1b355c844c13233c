// Runs share a Problem only when their problem keys are equal (run/problem_cache.hpp). The key
// is built from the settings flagged ConfigKey::defines_problem; these tests check the flags
// against build_problem itself: every setting is changed, alone, in a few small configs, and a
// setting that changes the Problem anywhere must be flagged and change the key, while an
// unflagged one must leave the Problem as it was. A new setting without alternative values here
// fails the test, so that no data-defining setting escapes the key.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/run_config.hpp"
#include "core/error.hpp"
#include "run/problem.hpp"
#include "test_files.hpp"

using namespace ssldyn;

namespace {

namespace fs = std::filesystem;
using test::write_idx;
using Settings = std::vector<std::pair<std::string, std::string>>;

// count pseudo-random bytes below `below`, from a linear congruential generator.
std::vector<unsigned char> bytes(std::size_t count, unsigned below, std::uint32_t seed) {
    std::vector<unsigned char> out(count);
    for (auto& b : out) {
        seed = seed * 1664525u + 1013904223u;
        b = static_cast<unsigned char>((seed >> 24) % below);
    }
    return out;
}

bool same(const Matrix& a, const Matrix& b) {
    if (a.rows() != b.rows() || a.cols() != b.cols()) return false;
    for (Index j = 0; j < a.cols(); ++j)
        for (Index i = 0; i < a.rows(); ++i)
            if (a(i, j) != b(i, j)) return false;
    return true;
}

// What two Problems differ in, bit for bit ("" when nothing).
std::string difference(const Problem& a, const Problem& b) {
    if (a.d != b.d) return "d";
    if (a.path != b.path) return "gradient path";
    if (a.views.has_value() != b.views.has_value()) return "views held";
    if (a.views) {
        const Matrix va = copy_of(a.views->stacked(3)), vb = copy_of(b.views->stacked(3));
        if (!same(va, vb)) return "views";
        if (a.views->mean() != b.views->mean()) return "mean of the samples";
    }
    if (!same(a.samples, b.samples)) return "samples";
    if (!same(a.probes, b.probes)) return "probes";
    if (a.labels != b.labels) return "labels";
    if (!same(a.c, b.c)) return "C";
    if (a.eigen.values != b.eigen.values) return "eigenvalues";
    if (!same(a.eigen.vectors, b.eigen.vectors)) return "eigenvectors";
    return "";
}

class ProblemKeyTest : public ::testing::Test {
  protected:
    void SetUp() override {
        // 50 images of 3 x 3 pixels, labels in 0..2; B differs from A in every file.
        write_idx(path("a-images"), {50, 3, 3}, bytes(450, 256, 1));
        write_idx(path("b-images"), {50, 3, 3}, bytes(450, 256, 2));
        write_idx(path("a-labels"), {50}, bytes(50, 3, 3));
        write_idx(path("b-labels"), {50}, bytes(50, 3, 4));
    }
    std::string path(const std::string& name) const { return folder_.path(name); }

    // Small configs in which every setting matters somewhere: the linear and the two-layer
    // model on spiked data, the linear model and the supervised baseline on IDX files.
    std::map<std::string, Settings> contexts() const {
        const Settings spiked{
            {"data", "spiked"}, {"d", "8"}, {"n", "40"}, {"k", "2"}, {"spikes", "5,3,2"}};
        Settings network = spiked;
        network.insert(network.end(), {{"model", "two-layer"}, {"h", "4"}, {"probes", "4"}});
        const Settings idx{
            {"data", "idx"}, {"idx_path", path("a-images")}, {"n", "40"}, {"k", "3"}};
        Settings supervised = idx;
        supervised.insert(supervised.end(), {{"model", "supervised"},
                                             {"labels_path", path("a-labels")},
                                             {"h", "4"},
                                             {"probes", "4"}});
        return {{"linear, spiked", spiked},
                {"two-layer, spiked", network},
                {"linear, idx", idx},
                {"supervised, idx", supervised}};
    }

    // Values other than the contexts' for every setting (those invalid in a context are skipped
    // there).
    std::map<std::string, std::vector<std::string>> alternatives() const {
        return {
            {"data", {"spiked", "idx"}},
            {"idx_path", {path("b-images")}},
            {"labels_path", {path("b-labels")}},
            {"n", {"30"}},
            {"d", {"6"}},
            {"spikes", {"4,3,1"}},
            {"bulk", {"0.25"}},
            {"random_basis", {"false"}},
            {"covariance", {"exact"}},
            {"centre", {"false"}},
            {"sigma_aug", {"0.3"}},
            {"keep_prob", {"0.5"}},
            {"loss", {"contrastive"}},
            {"dynamics", {"naive", "sphere"}},
            {"retraction", {"qr", "polar", "cayley", "geodesic"}},
            {"path", {"covariance", "data"}},
            {"k", {"3", "4"}},
            {"eta", {"0.01"}},
            {"eta_rel", {"0.05"}},
            {"weight_decay", {"0.5"}},
            {"penalty", {"2"}},
            {"predictor_rate", {"2"}},
            {"target_rate", {"2"}},
            {"predictor", {"identity"}},
            {"stop_gradient", {"false"}},
            {"temperature", {"0.7"}},
            {"whiten", {"true"}},
            {"init", {"aligned"}},
            {"init_scale", {"0.01"}},
            {"model", {"linear", "two-layer", "supervised"}},
            {"h", {"6"}},
            {"activation", {"relu", "identity"}},
            {"precision", {"float32"}},
            {"batch", {"10"}},
            {"probes", {"6"}},
            {"ntk_probes", {"6"}},
            {"reference_tolerance", {"0"}},
            {"pair_linear", {"false"}},
            {"steps", {"7"}},
            {"record_every", {"3"}},
            {"seed", {"2"}},
        };
    }

    test::TempFolder folder_{"ssldyn-problem"};
};

RunConfig config_of(const Settings& settings) {
    RunConfig c;
    for (const auto& [key, value] : settings) set_value(c, key, value);
    return c;
}

// The Problem of a config, or nothing when the config is not a valid one.
std::optional<Problem> problem_of(const RunConfig& config) {
    try {
        return build_problem(config);
    } catch (const InputError&) {
        return std::nullopt;
    }
}

}  // namespace

// The settings that, changed alone, give another Problem somewhere are exactly those flagged;
// wherever the Problem changes, so does the key.
TEST_F(ProblemKeyTest, FlaggedSettingsAreExactlyThoseThatChangeTheProblem) {
    const auto values = alternatives();
    for (const auto& key : config_keys()) {
        const std::string name(key.name);
        SCOPED_TRACE(name);
        const auto found = values.find(name);
        ASSERT_NE(found, values.end()) << "a new setting: give it values in alternatives()";
        int compared = 0;
        std::string changes;
        for (const auto& [context, settings] : contexts()) {
            const RunConfig base = config_of(settings);
            const auto reference = problem_of(base);
            ASSERT_TRUE(reference) << context;
            for (const auto& value : found->second) {
                RunConfig changed = base;
                set_value(changed, name, value);
                if (key.print(changed) == key.print(base)) continue;
                const auto problem = problem_of(changed);
                if (!problem) continue;
                ++compared;
                const std::string what = difference(*reference, *problem);
                if (what.empty()) continue;
                changes += context + " (" + value + "): " + what + "; ";
                EXPECT_NE(problem_key(changed), problem_key(base))
                    << context << ", " << value << ": the Problem changes (" << what
                    << ") but its key does not";
            }
        }
        EXPECT_GT(compared, 0) << "no valid alternative value in any context";
        if (key.defines_problem)
            EXPECT_FALSE(changes.empty()) << "flagged, but no value changes the Problem";
        else
            EXPECT_TRUE(changes.empty())
                << "changes the Problem but is not flagged defines_problem: " << changes;
    }
}

TEST_F(ProblemKeyTest, FlaggedSettingsChangeTheKeyAndOthersDoNot) {
    const RunConfig defaults;
    const auto values = alternatives();
    for (const auto& key : config_keys()) {
        SCOPED_TRACE(std::string(key.name));
        RunConfig changed = defaults;
        for (const auto& value : values.at(std::string(key.name))) {
            set_value(changed, key.name, value);
            if (key.print(changed) != key.print(defaults)) break;
        }
        ASSERT_NE(key.print(changed), key.print(defaults));
        EXPECT_EQ(problem_key(changed) != problem_key(defaults), key.defines_problem);
    }
    // The settings of the dynamics, the network and the schedule share a Problem.
    for (const char* name :
         {"eta", "eta_rel", "steps", "record_every", "dynamics", "retraction", "weight_decay",
          "penalty", "k", "h", "activation", "reference_tolerance", "pair_linear", "precision"})
        EXPECT_FALSE(config_key(name).defines_problem) << name;
    // labels_path was missing from the key: supervised runs on other labels shared a Problem.
    EXPECT_TRUE(config_key("labels_path").defines_problem);
}
