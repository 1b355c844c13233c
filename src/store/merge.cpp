#include "store/merge.hpp"

#include <map>
#include <memory>
#include <set>

#include "core/error.hpp"
#include "plan/plan.hpp"
#include "store/events.hpp"
#include "store/h5/attribute.hpp"
#include "store/h5/dataset.hpp"
#include "store/h5/file.hpp"
#include "store/index_reader.hpp"
#include "store/lock.hpp"
#include "store/schema.hpp"
#include "store/sweep_reader.hpp"
#include "store/sweep_store.hpp"
#include "store/sweep_writer.hpp"

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
    std::map<std::string, SweepLayout> layouts;
    std::uintmax_t bytes = 0;
    for (const auto& [name, plan] : plans) {
        layouts.emplace(name, sweep_layout(plan));
        bytes += sweep_bytes(plan, layouts.at(name));
    }
    create_atomically(out, bytes, [&](const h5::File& file) {
        for (const auto& [name, s] : sweeps) {
            const SweepPlan& plan = plans.at(name);
            create_sweep(file, plan, layouts.at(name), provenance);
            std::string from;
            for (const auto& [index, shard] : s.shards)
                from += (from.empty() ? "" : " ") + shard->path;
            h5::write_attribute(h5::Group::open(file.id(), schema::sweep_path(name)).id(),
                                "merged_from", from);
            // The shards' histories one after another, then this merge's: a run's event is
            // renumbered by the events before its shard's.
            std::map<long, long long> first_event;
            long long events = 0;
            for (const auto& [index, shard] : s.shards) {
                first_event[index] = events;
                for (const Event& e : read_store(shard->path, [&, shard = shard] {
                         return read_events(shard->file, name);
                     }))
                    events = append_event(file, name, e) + 1;
            }
            const long long merged = append_event(file, name, event_of("merge", provenance));
            std::map<long, std::unique_ptr<SweepReader>> readers;
            for (const auto& [index, shard] : s.shards)
                readers.emplace(index, read_store(shard->path, [&, shard = shard] {
                                    return std::make_unique<SweepReader>(shard->file, name);
                                }));
            // Row r of the whole sweep is row r / N of shard r mod N.
            SweepWriter writer(file, name);
            for (std::size_t r = 0; r < plan.runs.size(); ++r) {
                const long index = static_cast<long>(r) % s.count;
                StoredRun run = read_store(s.shards.at(index)->path, [&] {
                    return readers.at(index)->run(static_cast<Index>(r) / s.count);
                });
                run.row = static_cast<Index>(r);
                if (const long long event = run.integer("event"); event >= 0)
                    run.set("event", event + first_event.at(index));
                outcome.done += run.status == RunStatus::done;
                writer.add(run);
                if (writer.flush_due()) writer.flush();
            }
            writer.flush();
            end_event(file, name, merged, "finished");
            outcome.runs += static_cast<long>(plan.runs.size());
            ++outcome.sweeps;
        }
    });
    return outcome;
}

}  // namespace ssldyn
