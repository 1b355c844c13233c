#include "query/columns.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>

#include "config/run_config.hpp"
#include "core/format.hpp"

namespace ssldyn {

namespace {

// Where a setting goes among the columns: the config table's order, then unknown keys (of a
// store written by another version).
std::size_t table_position(const std::string& key) {
    const auto& keys = config_keys();
    for (std::size_t i = 0; i < keys.size(); ++i)
        if (keys[i].name == key) return i;
    return keys.size();
}

Column setting_column(const std::string& key, const std::set<std::string>& seen) {
    Column column{key, ColumnKind::setting, ColumnType::text, {seen.begin(), seen.end()}};
    const bool numeric =
        !seen.empty() && std::all_of(seen.begin(), seen.end(),
                                     [](const std::string& v) { return as_number(v).has_value(); });
    if (numeric) {
        column.type = ColumnType::number;
        std::sort(column.values.begin(), column.values.end(),
                  [](const std::string& a, const std::string& b) {
                      return *as_number(a) < *as_number(b);
                  });
    }
    return column;
}

}  // namespace

std::optional<double> as_number(const std::string& text) {
    if (text.empty() || text.find_first_not_of("+-.0123456789eE") != std::string::npos)
        return std::nullopt;
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(text.c_str(), &end);
    if (end != text.c_str() + text.size() || !std::isfinite(v)) return std::nullopt;
    return v;
}

StoreColumns::StoreColumns(const std::vector<SweepIndex>& indexes) {
    std::set<std::string> sweeps, run_ids;
    std::map<std::string, std::set<std::string>> settings;
    std::map<std::string, bool> results;  // name -> numeric in every sweep that has it
    for (const auto& index : indexes) {
        sweeps.insert(index.sweep);
        run_ids.insert(index.run_ids.begin(), index.run_ids.end());
        for (const auto& [key, values] : index.config)
            settings[key].insert(values.begin(), values.end());
        for (const auto& entry : index.numbers) results.emplace(entry.first, true);
        for (const auto& entry : index.texts) results[entry.first] = false;
    }
    std::vector<std::string> statuses;
    for (const auto& entry : run_status_names) statuses.emplace_back(entry.second);
    columns_.push_back(
        {"sweep", ColumnKind::identity, ColumnType::text, {sweeps.begin(), sweeps.end()}});
    columns_.push_back(
        {"run_id", ColumnKind::identity, ColumnType::text, {run_ids.begin(), run_ids.end()}});
    columns_.push_back({"status", ColumnKind::identity, ColumnType::text, statuses});

    std::vector<std::string> keys;
    for (const auto& entry : settings) keys.push_back(entry.first);
    std::stable_sort(keys.begin(), keys.end(), [](const std::string& a, const std::string& b) {
        return table_position(a) < table_position(b);
    });
    for (const auto& key : keys) columns_.push_back(setting_column(key, settings.at(key)));
    for (const auto& [name, numeric] : results)
        if (!settings.count(name))  // a setting's name wins
            columns_.push_back(
                {name, ColumnKind::result, numeric ? ColumnType::number : ColumnType::text, {}});
    for (std::size_t i = 0; i < columns_.size(); ++i) position_.emplace(columns_[i].name, i);
}

const Column* StoreColumns::find(const std::string& name) const {
    const auto it = position_.find(name);
    return it == position_.end() ? nullptr : &columns_[it->second];
}

namespace {

// Edits (insertions, deletions, substitutions) that turn a into b.
std::size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
            diagonal = above;
        }
    }
    return row[b.size()];
}

// A misspelling or a part of the name: two edits at most, or one inside the other.
bool resembles(const std::string& name, const std::string& unknown) {
    return edit_distance(name, unknown) <= 2 || name.find(unknown) != std::string::npos ||
           unknown.find(name) != std::string::npos;
}

}  // namespace

std::string StoreColumns::known_names(const std::string& unknown) const {
    std::vector<std::string> settings, results, alike, identity;
    for (const auto& column : columns_) {
        if (column.kind == ColumnKind::setting) settings.push_back(column.name);
        if (column.kind == ColumnKind::identity) identity.push_back(column.name);
        if (column.kind != ColumnKind::result) continue;
        results.push_back(column.name);
        if (resembles(column.name, unknown)) alike.push_back(column.name);
    }
    const std::size_t everything = columns_.size();
    const std::string of_results =
        std::to_string(results.size()) + " results (--columns all shows them)";
    return "settings: " + listed(settings, everything) + "; " +
           (alike.empty()
                ? of_results
                : "results like it: " + listed(alike, everything) + ", of " + of_results) +
           "; and " + listed(identity, everything);
}

Value StoreColumns::value(const SweepIndex& index, std::size_t row, const Column& column) const {
    const std::string& name = column.name;
    if (column.kind == ColumnKind::identity) {
        if (name == "sweep") return Cell{index.sweep};
        if (name == "run_id") return Cell{index.run_ids[row]};
        return Cell{std::string(name_of(run_status_names, index.status[row]))};
    }
    if (column.kind == ColumnKind::setting) {
        const auto it = index.config.find(name);
        if (it == index.config.end()) return std::nullopt;
        const std::string& text = it->second[row];
        if (column.type == ColumnType::number) return Cell{as_number(text).value_or(NAN)};
        return Cell{text};
    }
    if (const auto it = index.numbers.find(name); it != index.numbers.end()) {
        const double v = it->second[row];
        if (column.type == ColumnType::number) return Cell{v};
        return Cell{shortest_text(v)};  // text in another sweep of the store
    }
    if (const auto it = index.texts.find(name); it != index.texts.end())
        return Cell{it->second[row]};
    return std::nullopt;
}

Value StoreColumns::value(const SweepIndex& index, std::size_t row, const std::string& name) const {
    const Column* column = find(name);
    return column ? value(index, row, *column) : std::nullopt;
}

std::string listed(const std::vector<std::string>& values, std::size_t shown) {
    std::string out;
    for (std::size_t i = 0; i < std::min(shown, values.size()); ++i)
        out += (i ? ", " : "") + values[i];
    if (values.size() > shown) out += ", ... (" + std::to_string(values.size()) + " in all)";
    return out;
}

}  // namespace ssldyn
