#pragma once
// `--dry-run` of `ssldyn sweep` and `ssldyn run`: the expansion (runs, axes, distinct problems),
// each run's shapes and memory per rank, the store's size and the time, from a calibration of
// the step cost on this machine; as text or JSON. Nothing is written.
#include <string>

#include "core/memory_limit.hpp"
#include "core/names.hpp"
#include "plan/estimate.hpp"

namespace ssldyn::cli {

enum class DryRunFormat { text, json };
inline constexpr NameTable<DryRunFormat, 2> dry_run_format_names{{
    {DryRunFormat::text, "text"},
    {DryRunFormat::json, "json"},
}};

struct DryRunSetting {
    RunPlacement placement;
    int ranks = 1;  // of the job the time is estimated for
    DryRunFormat format = DryRunFormat::text;
    bool calibrate = true;  // time a few steps of the costliest run
};

// Prints the dry run on stdout; InputError (exit 2, after the report) when the largest run does
// not fit in a rank's memory, as the real sweep would refuse it.
void dry_run(const SweepPlan& plan, const DryRunSetting& setting, const MemoryLimit& limit);

}  // namespace ssldyn::cli
