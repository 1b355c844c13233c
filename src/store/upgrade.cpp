#include "store/upgrade.hpp"

#include <cstring>
#include <map>
#include <utility>
#include <variant>
#include <vector>

#include "core/error.hpp"
#include "store/events.hpp"
#include "store/h5/attribute.hpp"
#include "store/index_reader.hpp"
#include "store/lock.hpp"
#include "store/schema.hpp"
#include "store/schema1_reader.hpp"
#include "store/sweep_store.hpp"
#include "store/sweep_writer.hpp"

namespace ssldyn {

namespace {

// The sweep's attributes as the old store holds them: those create_sweep wrote from the plan
// stay, the provenance is the old sweep's (an attribute it lacks, it lacks here too).
void copy_attributes(const h5::Group& sweep, const schema1::Sweep& old,
                     const std::string& old_path) {
    for (const auto& [name, value] : old.attributes()) {
        if (!value) {
            if (h5::has_attribute(sweep.id(), name)) h5::remove_attribute(sweep.id(), name);
        } else if (const auto* text = std::get_if<std::string>(&*value)) {
            h5::write_attribute(sweep.id(), name, *text);
        } else {
            h5::write_attribute(sweep.id(), name, std::get<long long>(*value));
        }
    }
    h5::write_attribute(sweep.id(), "upgraded_from", old_path);
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

}  // namespace

UpgradeOutcome upgrade_store(const std::string& old_path, const std::string& out, bool overwrite) {
    StoreLock::check_free(old_path);  // a job still writing it
    const h5::File old = schema1::open_store(old_path);
    check_store_target(out, overwrite);
    std::vector<schema1::Sweep> sweeps;
    for (const auto& name : read_store(
             old_path, [&] { return list_sweeps(old); }, schema1::version))
        sweeps.emplace_back(old, old_path, name);
    std::vector<SweepLayout> layouts;
    std::uintmax_t bytes = 0;
    for (const auto& sweep : sweeps) {
        layouts.push_back(sweep_layout(sweep.plan()));
        bytes += sweep_bytes(sweep.plan(), layouts.back());
    }

    UpgradeOutcome outcome;
    create_atomically(out, bytes, [&](const h5::File& file) {
        for (std::size_t i = 0; i < sweeps.size(); ++i) {
            const schema1::Sweep& sweep = sweeps[i];
            const SweepLayout& layout = layouts[i];
            // The provenance written here is replaced by the old sweep's.
            create_sweep(file, sweep.plan(), layout, Provenance{});
            copy_attributes(h5::Group::open(file.id(), schema::sweep_path(sweep.name())), sweep,
                            old_path);
            // Runs of one problem share its spectrum's slot: the first run that has one fills
            // it (schema 1 held a copy per run, equal unless the runs were computed apart).
            std::map<std::pair<long long, long long>, std::vector<double>> spectra;
            const long long event =
                append_event(file, sweep.name(), event_of("upgrade", current_provenance()));
            SweepWriter writer(file, sweep.name());
            for (std::size_t row = 0; row < sweep.plan().runs.size(); ++row) {
                StoredRun run = sweep.run(static_cast<Index>(row));
                if (!run.spectrum.empty()) {
                    const auto slot =
                        std::make_pair(layout.spectra.block[row], layout.spectra.slot[row]);
                    const auto [first, fresh] = spectra.emplace(slot, run.spectrum);
                    if (!fresh) {
                        outcome.spectra_differing += !same_bits(first->second, run.spectrum);
                        run.spectrum.clear();
                    }
                }
                outcome.done += run.status == RunStatus::done;
                outcome.failed += run.status == RunStatus::failed;
                writer.add(run);
                if (writer.flush_due()) writer.flush();
            }
            writer.flush();
            end_event(file, sweep.name(), event, "finished");
            outcome.runs += static_cast<long>(sweep.plan().runs.size());
            ++outcome.sweeps;
        }
    });
    return outcome;
}

}  // namespace ssldyn
