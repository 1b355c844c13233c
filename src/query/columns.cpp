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

std::string StoreColumns::known_names() const {
    std::vector<std::string> settings, results, identity;
    for (const auto& column : columns_)
        (column.kind == ColumnKind::setting  ? settings
         : column.kind == ColumnKind::result ? results
                                             : identity)
            .push_back(column.name);
    const std::size_t everything = columns_.size();
    return "settings: " + listed(settings, everything) +
           "; results: " + listed(results, everything) + "; and " + listed(identity, everything);
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
