#include "store/sweep_layout.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "core/stop_signals.hpp"
#include "run/driver.hpp"
#include "run/model_table.hpp"
#include "run/problem.hpp"

namespace ssldyn {

namespace {

// "a (linear); b (two-layer, supervised)": each distinct text with the models that give it.
class Phrases {
  public:
    void add(const std::string& text, Model model) {
        auto& models = by_text_[text];
        const std::string name(name_of(model_names, model));
        if (std::find(models.begin(), models.end(), name) == models.end()) models.push_back(name);
        if (std::find(order_.begin(), order_.end(), text) == order_.end()) order_.push_back(text);
    }
    std::string text() const {
        if (order_.size() == 1) return order_.front();
        std::string out;
        for (const auto& t : order_) {
            std::string models;
            for (const auto& m : by_text_.at(t)) models += (models.empty() ? "" : ", ") + m;
            out += (out.empty() ? "" : "; ") + t + " (" + models + ")";
        }
        return out;
    }

  private:
    std::vector<std::string> order_;
    std::map<std::string, std::vector<std::string>> by_text_;
};

// 64-bit FNV-1a: problems are told apart by a hash of their key, so that a million runs do not
// keep a million key texts.
unsigned long long fingerprint(const std::string& text) {
    unsigned long long h = 1469598103934665603ULL;
    for (unsigned char c : text) h = (h ^ c) * 1099511628211ULL;
    return h;
}

}  // namespace

SweepLayout sweep_layout(const SweepPlan& plan) {
    SweepLayout layout;
    Phrases theory, singular_values, distance;
    std::map<std::tuple<hsize_t, hsize_t, std::string>, long long> weight_blocks;
    std::map<hsize_t, long long> spectrum_blocks;
    std::map<unsigned long long, std::pair<long long, long long>> problems;  // -> block, slot
    const std::size_t runs = plan.runs.size();
    layout.weights.block.resize(runs);
    layout.weights.slot.resize(runs);
    layout.spectra.block.resize(runs);
    layout.spectra.slot.resize(runs);
    for (std::size_t i = 0; i < runs; ++i) {
        if (i % 1024 == 0) stop_point();  // a million runs take seconds
        const RunConfig& c = plan.runs[i];
        const Index d = plan.dimensions[i];
        const ModelKind& model = model_kind(c);
        layout.records = std::max(layout.records, static_cast<hsize_t>(record_count(c)));
        layout.components = std::max(layout.components, static_cast<hsize_t>(c.k));
        // Asked of every run: a model's layout may depend on any setting (the linear model's
        // distance on the dynamics).
        const RecordLayout r = model.record_layout(c);
        layout.network = layout.network || r.network;
        theory.add(r.theory, c.model);
        singular_values.add(r.singular_values, c.model);
        distance.add(r.theory_distance, c.model);

        const StateLayout state = model.state_layout(c, d);
        const auto shape = std::make_tuple(static_cast<hsize_t>(state.rows),
                                           static_cast<hsize_t>(state.cols), state.description);
        auto block = weight_blocks.find(shape);
        if (block == weight_blocks.end()) {
            block =
                weight_blocks.emplace(shape, static_cast<long long>(layout.weights.blocks.size()))
                    .first;
            layout.weights.blocks.push_back(
                {std::get<0>(shape), std::get<1>(shape), state.description, 0});
        }
        Block& w = layout.weights.blocks[static_cast<std::size_t>(block->second)];
        layout.weights.block[i] = block->second;
        layout.weights.slot[i] = static_cast<long long>(w.slots++);

        const unsigned long long key = fingerprint(problem_key(c));
        auto problem = problems.find(key);
        if (problem == problems.end()) {
            auto spectrum = spectrum_blocks.find(static_cast<hsize_t>(d));
            if (spectrum == spectrum_blocks.end()) {
                spectrum = spectrum_blocks
                               .emplace(static_cast<hsize_t>(d),
                                        static_cast<long long>(layout.spectra.blocks.size()))
                               .first;
                layout.spectra.blocks.push_back(
                    {static_cast<hsize_t>(d), 0, "eigenvalues of C, descending", 0});
            }
            layout.data_source_length =
                std::max(layout.data_source_length, data_source_text(c).size());
            Block& s = layout.spectra.blocks[static_cast<std::size_t>(spectrum->second)];
            problem = problems
                          .emplace(key, std::make_pair(spectrum->second,
                                                       static_cast<long long>(s.slots++)))
                          .first;
        }
        layout.spectra.block[i] = problem->second.first;
        layout.spectra.slot[i] = problem->second.second;
    }
    layout.theory = theory.text();
    layout.singular_values = singular_values.text();
    layout.theory_distance = distance.text();
    return layout;
}

}  // namespace ssldyn
