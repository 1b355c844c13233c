#include "store/index_reader.hpp"

#include "store/h5/dataset.hpp"
#include "store/schema.hpp"
#include "store/sweep_store.hpp"

namespace ssldyn {

std::vector<std::string> list_sweeps(const h5::File& file) {
    const auto root = file.root();
    if (!root.exists("sweeps")) return {};
    return root.open_group("sweeps").members();
}

SweepIndex read_index(const h5::File& file, const std::string& sweep) {
    SweepIndex index;
    index.sweep = sweep;
    const auto group = h5::Group::open(file.id(), schema::sweep_path(sweep) + "/index");
    index.run_ids = h5::Dataset::open(group.id(), "run_id").read_strings();
    index.status = read_statuses(file, sweep);
    const auto config = group.open_group("config");
    for (const auto& key : config.members())
        index.config[key] = h5::Dataset::open(config.id(), key).read_strings();
    const auto result = group.open_group("result");
    for (const auto& name : result.members()) {
        const auto column = h5::Dataset::open(result.id(), name);
        if (column.is_string())
            index.texts[name] = column.read_strings();
        else
            index.numbers[name] = column.read_doubles();
    }
    return index;
}

}  // namespace ssldyn
