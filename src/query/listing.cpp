#include "query/listing.hpp"

#include <algorithm>
#include <cstdio>

#include "core/invocation.hpp"
#include "core/lists.hpp"
#include "store/events.hpp"
#include "store/h5/attribute.hpp"
#include "store/index_reader.hpp"
#include "store/schema.hpp"
#include "store/sweep_reader.hpp"
#include "store/sweep_store.hpp"

namespace ssldyn {

Table sweep_listing(const h5::File& file) {
    Table table{{"sweep", "runs", "done", "failed", "running", "saved", "pending", "axes"}, {}};
    for (const auto& sweep : list_sweeps(file)) {
        const auto status = read_statuses(file, sweep);
        auto count = [&](RunStatus s) {
            return static_cast<double>(std::count(status.begin(), status.end(), s));
        };
        // Runs not done that hold a saved state: what a resume continues rather than reruns
        // (a stopped sweep's runs still say running).
        const auto steps = read_saved_steps(file, sweep);
        double saved = 0;
        for (std::size_t i = 0; i < status.size(); ++i)
            saved += status[i] != RunStatus::done && steps.at(i) >= 0;
        const auto group = h5::Group::open(file.id(), schema::sweep_path(sweep));
        std::vector<Cell> row;
        row.emplace_back(sweep);
        row.emplace_back(static_cast<double>(status.size()));
        for (RunStatus s : {RunStatus::done, RunStatus::failed, RunStatus::running})
            row.emplace_back(count(s));
        row.emplace_back(saved);
        row.emplace_back(count(RunStatus::pending));
        row.emplace_back(h5::read_string_attribute(group.id(), "axes"));
        table.rows.push_back(std::move(row));
    }
    return table;
}

std::string failed_listing(const h5::File& file, const std::string& store) {
    std::string out;
    char line[64];
    for (const auto& sweep : list_sweeps(file)) {
        const auto group = h5::Group::open(file.id(), schema::sweep_path(sweep));
        const std::string axes = h5::read_string_attribute(group.id(), "axes");
        std::vector<std::string> wanted = split_list(axes);
        wanted.push_back("failure");
        const SweepIndex index = read_index(file, sweep, &wanted);
        std::vector<std::size_t> failed;
        for (std::size_t r = 0; r < index.size(); ++r)
            if (index.status[r] == RunStatus::failed) failed.push_back(r);
        if (failed.empty()) continue;
        out += "\nfailed runs of " + sweep + ":\n";
        constexpr std::size_t shown = 5;
        for (std::size_t i = 0; i < std::min(failed.size(), shown); ++i) {
            const std::size_t r = failed[i];
            std::string values;
            for (const auto& key : split_list(axes))
                values += (values.empty() ? "" : " ") + key + "=" + index.config.at(key)[r];
            out += "  " + index.run_ids[r] + "  " + values + ": " + index.texts.at("failure")[r] +
                   "\n";
        }
        if (failed.size() > shown) {
            std::snprintf(line, sizeof line, "  ... and %zu more", failed.size() - shown);
            out += std::string(line) + " (ssldyn query " + store + " --sweep " + sweep +
                   " --where status==failed --metric failure)\n";
        }
    }
    return out;
}

std::string history_listing(const h5::File& file) {
    std::string out;
    for (const auto& sweep : list_sweeps(file)) {
        out += "\nhistory of " + sweep + ":\n";
        const auto events = read_events(file, sweep);
        if (events.empty()) {
            out += "  none recorded (written before ssldyn kept the events of a sweep)\n";
            continue;
        }
        // Runs per event, from the runs' own column.
        std::vector<double> runs(events.size(), 0.0);
        const std::vector<std::string> wanted{"event"};
        const SweepIndex index = read_index(file, sweep, &wanted);
        if (const auto it = index.numbers.find("event"); it != index.numbers.end())
            for (double e : it->second)
                if (e >= 0 && e < static_cast<double>(events.size()))
                    ++runs[static_cast<std::size_t>(e)];
        Table table{{"event", "kind", "started (UTC)", "ended (UTC)", "end", "runs", "ranks",
                     "group", "threads", "hosts", "slurm job", "user"},
                    {}};
        std::string details;
        for (std::size_t i = 0; i < events.size(); ++i) {
            const Event& e = events[i];
            std::string job = e.slurm_job;
            if (!e.slurm_array_job.empty())
                job += " (array " + e.slurm_array_job + "_" + e.slurm_array_task + ")";
            if (!e.slurm_step.empty()) job += " step " + e.slurm_step;
            const std::string ended = utc_text(e.ended);
            table.rows.push_back(
                {static_cast<double>(i), e.kind, utc_text(e.started), ended.empty() ? "-" : ended,
                 e.end.empty() ? "running or killed" : e.end, runs[i], static_cast<double>(e.ranks),
                 static_cast<double>(e.group_size), static_cast<double>(e.blas_threads), e.hosts,
                 job.empty() ? "-" : job, e.user});
            details += "  " + std::to_string(i) + ": " + e.command + "\n     ssldyn " +
                       e.program_version + " (" + e.git_commit + "), " + e.mpi_library + ", " +
                       e.hdf5_library + ", BLAS " + e.blas_library + "\n";
        }
        const std::string rendered = render(table, TableFormat::table);
        out += "  ";
        for (std::size_t c = 0; c < rendered.size(); ++c)
            out += rendered[c] == '\n' && c + 1 < rendered.size() ? "\n  "
                                                                  : std::string(1, rendered[c]);
        out += details;
    }
    return out;
}

}  // namespace ssldyn
