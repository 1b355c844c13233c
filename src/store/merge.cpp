#include "store/merge.hpp"

#include <map>
#include <set>

#include "core/error.hpp"
#include "plan/plan.hpp"
#include "store/h5/attribute.hpp"
#include "store/h5/dataset.hpp"
#include "store/h5/file.hpp"
#include "store/index_reader.hpp"
#include "store/lock.hpp"
#include "store/schema.hpp"
#include "store/sweep_store.hpp"

namespace ssldyn {

namespace {

struct ShardStore {
    std::string path;
    h5::File file;
};

// The shards of one sweep, by shard index, with the whole sweep they slice.
struct ShardedSweep {
    std::string config;
    long count = 0;
    std::map<long, const ShardStore*> shards;
};

// One index column of the whole sweep: row r comes from row r / N of shard r mod N.
template <class T, class Read, class Write>
void merge_column(const h5::File& out, const std::string& path, const ShardedSweep& sweep,
                  std::size_t rows, Read read, Write write) {
    std::vector<T> whole(rows);
    for (const auto& [index, shard] : sweep.shards) {
        const std::vector<T> part = read_store(
            shard->path, [&] { return read(h5::Dataset::open(shard->file.id(), path)); });
        for (std::size_t j = 0; j < part.size(); ++j)
            whole.at(static_cast<std::size_t>(index) + j * static_cast<std::size_t>(sweep.count)) =
                part[j];
    }
    write(h5::Dataset::open(out.id(), path), whole);
}

}  // namespace

MergeOutcome merge_shards(const std::string& out, const std::vector<std::string>& paths,
                          const Provenance& provenance) {
    if (paths.empty()) throw InputError("command line: no shard stores to merge");
    check_store_target(out, false);
    std::vector<ShardStore> stores;
    std::set<std::string> seen;
    for (const auto& path : paths) {
        if (!seen.insert(path).second) throw InputError(path + ": named twice");
        StoreLock::check_free(path);  // a shard still being written is not finished
        stores.push_back({path, open_store(path)});
    }

    std::map<std::string, ShardedSweep> sweeps;
    for (const auto& store : stores) {
        for (const auto& name : read_store(store.path, [&] { return list_sweeps(store.file); })) {
            const auto group = read_store(store.path, [&] {
                return h5::Group::open(store.file.id(), schema::sweep_path(name));
            });
            auto attribute = [&](const char* key) {
                return read_store(store.path,
                                  [&] { return h5::read_string_attribute(group.id(), key); });
            };
            if (!read_store(store.path, [&] { return h5::has_attribute(group.id(), "shard"); }))
                throw InputError(store.path + ": sweep '" + name +
                                 "' is not a shard (written without --shard)");
            const SweepShard shard = parse_shard(attribute("shard"), store.path);
            ShardedSweep& s = sweeps[name];
            const std::string config = attribute("config");
            if (s.shards.empty()) {
                s.config = config;
                s.count = shard.count;
            } else if (s.config != config || s.count != shard.count) {
                throw InputError(store.path + ": sweep '" + name +
                                 "' was sharded from another config or into another count "
                                 "than in " +
                                 s.shards.begin()->second->path);
            }
            if (!s.shards.emplace(shard.index, &store).second)
                throw InputError(store.path + ": shard " + shard.text() + " of sweep '" + name +
                                 "' is also in " + s.shards.at(shard.index)->path);
        }
    }
    if (sweeps.empty()) throw InputError(paths.front() + ": holds no sweeps to merge");

    std::map<std::string, SweepPlan> plans;
    for (const auto& [name, s] : sweeps) {
        std::string missing;
        for (long i = 0; i < s.count; ++i)
            if (!s.shards.count(i)) missing += (missing.empty() ? "" : ", ") + std::to_string(i);
        if (!missing.empty())
            throw InputError("sweep '" + name + "': missing shard stores for shards " + missing +
                             " (of 0 to " + std::to_string(s.count - 1) + ")");
        SweepPlan whole = parse_sweep_plan(s.config, "sweep '" + name + "' (its stored config)");
        for (const auto& [index, shard] : s.shards)
            if (read_store(shard->path, [&] { return stored_signature(shard->file, name); }) !=
                shard_of(whole, {index, s.count}).signature())
                throw InputError(shard->path + ": sweep '" + name + "' does not hold the runs of " +
                                 "shard " + SweepShard{index, s.count}.text() + " of its config");
        plans.emplace(name, std::move(whole));
    }

    MergeOutcome outcome;
    replace_atomically(out, false, [&](const h5::File& file) {
        for (const auto& [name, s] : sweeps) {
            const SweepPlan& plan = plans.at(name);
            create_sweep(file, plan, provenance, false);
            std::string from;
            for (const auto& [index, shard] : s.shards)
                from += (from.empty() ? "" : " ") + shard->path;
            h5::write_attribute(h5::Group::open(file.id(), schema::sweep_path(name)).id(),
                                "merged_from", from);
            // Runs in the order of the whole sweep, as a single job creates them.
            for (std::size_t r = 0; r < plan.runs.size(); ++r) {
                const std::string path = schema::run_path(name, run_id(plan.runs[r]));
                const ShardStore* shard = s.shards.at(static_cast<long>(r) % s.count);
                read_store(shard->path, [&] {
                    h5::Group::open(shard->file.id(), path).copy_to(file.id(), path);
                });
            }
            const std::size_t rows = plan.runs.size();
            const auto read_numbers = [](const h5::Dataset& d) { return d.read_doubles(); };
            const auto read_integers = [](const h5::Dataset& d) { return d.read_integers(); };
            const auto read_texts = [](const h5::Dataset& d) { return d.read_strings(); };
            const auto write_numbers = [](const h5::Dataset& d, const std::vector<double>& v) {
                d.write(v.data());
            };
            const auto write_integers = [](const h5::Dataset& d, const std::vector<long long>& v) {
                d.write(v.data());
            };
            const auto write_texts = [](const h5::Dataset& d, const std::vector<std::string>& v) {
                d.write(v);
            };
            for (const auto& c : schema::result_columns()) {
                const std::string path = schema::result_column(name, c.name);
                if (c.type == schema::ColumnType::number)
                    merge_column<double>(file, path, s, rows, read_numbers, write_numbers);
                else if (c.type == schema::ColumnType::integer)
                    merge_column<long long>(file, path, s, rows, read_integers, write_integers);
                else
                    merge_column<std::string>(file, path, s, rows, read_texts, write_texts);
            }
            merge_column<long long>(file, schema::status_path(name), s, rows, read_integers,
                                    write_integers);
            for (const auto status : read_statuses(file, name))
                outcome.done += status == RunStatus::done;
            outcome.runs += static_cast<long>(rows);
            ++outcome.sweeps;
        }
    });
    return outcome;
}

}  // namespace ssldyn
