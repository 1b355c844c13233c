#include "store/index_reader.hpp"

#include <algorithm>

#include "config/run_config.hpp"
#include "store/h5/dataset.hpp"
#include "store/schema.hpp"
#include "store/sweep_reader.hpp"
#include "store/sweep_store.hpp"

namespace ssldyn {

std::vector<std::string> list_sweeps(const h5::File& file) {
    const auto root = file.root();
    if (!root.exists("sweeps")) return {};
    // By name, whatever order they were added in.
    auto names = root.open_group("sweeps").members();
    std::sort(names.begin(), names.end());
    return names;
}

SweepIndex read_index(const h5::File& file, const std::string& sweep,
                      const std::vector<std::string>* only) {
    auto wanted = [&](const std::string& name) {
        return !only || std::find(only->begin(), only->end(), name) != only->end();
    };
    SweepIndex index;
    index.sweep = sweep;
    const auto group = h5::Group::open(file.id(), schema::sweep_path(sweep));
    index.run_ids = h5::Dataset::open(group.id(), schema::run_dimension).read_strings();
    index.status = read_statuses(file, sweep);
    // Settings as the config prints them (the --where language compares their text and numbers).
    for (const auto& key : config_keys()) {
        const std::string name(key.name);
        if (!wanted(name) || !group.exists(name)) continue;
        const auto column = h5::Dataset::open(group.id(), name);
        auto& values = index.config[name];
        if (key.kind == ValueKind::text) {
            values = column.read_strings();
        } else if (key.kind == ValueKind::number) {
            for (double v : column.read_doubles()) values.push_back(key.text_of(v));
        } else {
            for (long long v : column.read_integers()) values.push_back(key.text_of(v));
        }
    }
    for (const auto& c : schema::result_columns()) {
        if (!wanted(c.name) || !group.exists(c.name)) continue;
        const auto column = h5::Dataset::open(group.id(), c.name);
        if (c.type == schema::ColumnType::text)
            index.texts[c.name] = column.read_strings();
        else
            index.numbers[c.name] = column.read_doubles();
    }
    return index;
}

}  // namespace ssldyn
