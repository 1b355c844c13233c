#include "sweep/summary.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <tuple>
#include <vector>

#include "config/run_config.hpp"
#include "run/model_table.hpp"

namespace ssldyn {

namespace {

struct Group {
    long runs = 0, done = 0, failed = 0;
    double erank_min = std::numeric_limits<double>::infinity(), erank_max = 0.0;
    double distance_min = std::numeric_limits<double>::infinity(), distance_max = 0.0;
};

std::string format(const char* pattern, double value) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, pattern, value);
    return buffer;
}

}  // namespace

std::string sweep_summary(const SweepIndex& index) {
    // Runs are grouped by their model's label ("orthogonal" for the linear model, "two-layer
    // orthogonal", "supervised"), loss and k; each group's distance is its model's.
    using Key = std::tuple<std::string, std::string, long>;
    std::map<Key, Group> groups;
    std::map<std::string, std::string> distance_meaning;  // by label
    const auto& erank = index.numbers.at("final_effective_rank");
    const auto& distance = index.numbers.at("max_theory_distance");
    // The settings a model's label may read, those the index has.
    std::vector<std::pair<std::string, const std::vector<std::string>*>> labelled_by;
    for (const std::string& key : label_settings()) {
        const auto column = index.config.find(key);
        if (column != index.config.end()) labelled_by.emplace_back(key, &column->second);
    }
    // Rows are gathered by their settings' texts first: a million rows, a few groups, each
    // labelled once.
    using Settings = std::pair<std::vector<std::string>, std::string>;  // label settings, k
    std::map<Settings, std::vector<std::size_t>> rows;
    for (std::size_t i = 0; i < index.size(); ++i) {
        Settings settings{{}, index.config.at("k")[i]};
        for (const auto& [key, column] : labelled_by) settings.first.push_back((*column)[i]);
        rows[settings].push_back(i);
    }
    for (const auto& [settings, members] : rows) {
        const auto& [texts, k_text] = settings;
        RunConfig run;  // what the model table needs to label it
        for (std::size_t s = 0; s < texts.size(); ++s)
            set_value(run, labelled_by[s].first, texts[s]);
        const std::string loss(name_of(loss_names, run.loss));
        const ModelKind& kind = model_kind(run);
        const std::string label = kind.label(run);
        distance_meaning.emplace(label, kind.record_layout(run).distance_short);
        Group& g = groups[Key{label, loss, std::stol(k_text)}];
        for (std::size_t i : members) {
            ++g.runs;
            if (index.status[i] == RunStatus::failed) ++g.failed;
            if (index.status[i] != RunStatus::done) continue;
            ++g.done;
            g.erank_min = std::min(g.erank_min, erank[i]);
            g.erank_max = std::max(g.erank_max, erank[i]);
            if (!std::isfinite(distance[i])) continue;  // a run without a theory (reference off)
            g.distance_min = std::min(g.distance_min, distance[i]);
            g.distance_max = std::max(g.distance_max, distance[i]);
        }
    }
    std::string out;
    char line[256];
    int width = 11;
    for (const auto& entry : groups)
        width = std::max(width, static_cast<int>(std::get<0>(entry.first).size()));
    std::snprintf(line, sizeof line, "%-*s %-15s %5s %5s %6s  %-16s %-13s %s\n", width, "dynamics",
                  "loss", "k", "runs", "failed", "final erank", "verdict",
                  "GD to theory, largest along each run (min .. max)");
    out += line;
    for (const auto& [key, g] : groups) {
        const auto& [dynamics, loss, k] = key;
        std::string erank_text = "-", verdict = "no run done", distance_text = "-";
        if (g.done > 0) {
            erank_text = format("%.2f", g.erank_min) + " .. " + format("%.2f", g.erank_max);
            // erank is k without collapse and 1 at full collapse (THEORY §4.1).
            if (g.erank_max < 1.5)
                verdict = k > 1 ? "collapsed" : "k = 1";
            else if (g.erank_min > static_cast<double>(k) - 0.5)
                verdict = "no collapse";
            else
                verdict = "partial";
            if (g.distance_min <= g.distance_max)
                distance_text = format("%.1e", g.distance_min) + " .. " +
                                format("%.1e", g.distance_max) + "  " +
                                distance_meaning.at(dynamics);
        }
        std::snprintf(line, sizeof line, "%-*s %-15s %5ld %5ld %6ld  %-16s %-13s %s\n", width,
                      dynamics.c_str(), loss.c_str(), k, g.runs, g.failed, erank_text.c_str(),
                      verdict.c_str(), distance_text.c_str());
        out += line;
    }
    return out;
}

}  // namespace ssldyn
