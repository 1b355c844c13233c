// `ssldyn run`: one configuration, simulated next to its theory, into a store.
#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/config_options.hpp"
#include "cli/dry_run.hpp"
#include "core/error.hpp"
#include "core/invocation.hpp"
#include "core/progress.hpp"
#include "plan/plan.hpp"
#include "run/driver.hpp"
#include "run/model_table.hpp"
#include "store/events.hpp"
#include "store/provenance.hpp"
#include "store/sweep_store.hpp"
#include "store/sweep_writer.hpp"

namespace ssldyn::cli {

namespace {

void print_summary(const RunResult& r, const std::string& store) {
    const RunConfig& c = r.config;
    const ModelKind& model = model_kind(c);
    const bool network = model.record_layout(c).network;
    std::printf("run %s: %s, %s%s loss, %s dynamics", r.config_id().c_str(),
                data_source_text(c).c_str(), model.describe(c).c_str(),
                std::string(name_of(loss_names, c.loss)).c_str(),
                std::string(name_of(dynamics_names, c.dynamics)).c_str());
    if (c.dynamics == Dynamics::orthogonal)
        std::printf(" (%s retraction)", retraction_text(r).c_str());
    std::printf(
        "\n  k = %lld, d = %zu, lambda_max(C) = %.4g, eta = %.4g (eta*lambda_max = %.3g), "
        "%lld steps to t = %.4g, %s path, %.2fs\n",
        static_cast<long long>(c.k), r.spectrum.size(), r.lambda_max, r.eta, r.eta * r.lambda_max,
        static_cast<long long>(c.steps), r.records.empty() ? 0.0 : r.records.back().t,
        std::string(name_of(gradient_path_names, r.path)).c_str(), r.seconds);
    if (r.status == RunStatus::failed)
        std::printf("  FAILED at step %lld: %s\n", static_cast<long long>(r.failed_step),
                    r.failure.c_str());
    if (!r.records.empty()) {
        const Record& last = r.records.back();
        std::printf("  %-22s %14s %14s\n", "at the last record", "gradient descent",
                    network ? "reference flow" : "theory (flow)");
        std::printf("  %-22s %14.6g %14.6g\n", "loss", last.simulated.loss, last.theory.loss);
        std::printf("  %-22s %14.4f %14.4f   (k = %lld means no collapse, 1 full collapse)\n",
                    "effective rank", last.simulated.effective_rank, last.theory.effective_rank,
                    static_cast<long long>(c.k));
        std::printf("  %-22s %14.3e %14.3e\n", "s2/s1", last.simulated.s2_s1, last.theory.s2_s1);
        std::printf("  %-22s %14.3e %14.3e\n", "sin angle to top-k", last.simulated.topk_sin_angle,
                    last.theory.topk_sin_angle);
        model.print_summary(r, stdout);
    }
    std::printf("  store: %s\n", store.c_str());
}

}  // namespace

int run_command(const std::vector<std::string>& args) {
    po::options_description general(
        "ssldyn run [CONFIG.ini] [options]\n\n"
        "Runs one configuration of the linear model and its exact theory, or of the two-layer "
        "network (model = two-layer) and its reference flow, and writes both to an HDF5 "
        "store.\n\nOptions");
    general.add_options()("help,h", "show this help")(
        "config", po::value<std::string>()->value_name("FILE"),
        "INI file of settings (command-line settings override it)")(
        "store", po::value<std::string>()->value_name("FILE")->default_value("ssldyn-run.h5"),
        "HDF5 store to write")("overwrite", "replace an existing store")(
        "sweep", po::value<std::string>()->value_name("NAME")->default_value("single"),
        "sweep name the run is filed under in the store")(
        "dry-run",
        "print the run's shapes, memory, store size and time (from a few timed steps); "
        "nothing is written. Exit code 2 where the run would be refused")(
        "format", po::value<std::string>()->value_name("F")->default_value("text"),
        "of --dry-run: text or json")("no-calibration",
                                      "of --dry-run: no timed steps, so no estimate of the time");
    general.add(progress_options());
    const po::options_description settings = settings_options();
    po::options_description all;
    all.add(general).add(settings);
    po::positional_options_description positional;
    positional.add("config", 1);

    const po::variables_map vm = parse(args, all, positional, settings);
    if (vm.count("help")) {
        std::cout << all << "\n";
        return exit_ok;
    }
    const RunConfig config = run_config_from(vm);
    const std::string store = vm["store"].as<std::string>();
    const SweepPlan plan = single_run_plan(vm["sweep"].as<std::string>(), config);
    const ProgressStyle style = progress_style(vm);
    const MemoryLimit limit = memory_per_rank(1);
    if (vm.count("dry-run")) {
        DryRunSetting setting;
        setting.format =
            parse_name(dry_run_format_names, vm["format"].as<std::string>(), "--format");
        setting.calibrate = vm.count("no-calibration") == 0;
        if (!vm["store"].defaulted()) check_store_target(store, vm.count("overwrite") > 0);
        dry_run(plan, setting, limit);
        return exit_ok;
    }
    check_store_target(store, vm.count("overwrite") > 0);
    // Refused before anything is allocated when it cannot fit.
    check_memory(plan, estimate_sweep(plan, RunPlacement{}), limit);

    ProgressLine progress("run " + run_id(config), style);
    const double started = utc_seconds();
    const RunResult result =
        simulate(config, [&](Index step, Index steps) { progress.update(step, steps); });
    const double ended = utc_seconds();
    progress.finish();
    const Provenance provenance = current_provenance();
    const SweepLayout layout = sweep_layout(plan);
    create_atomically(store, sweep_bytes(plan, layout), [&](const h5::File& file) {
        create_sweep(file, plan, layout, provenance);
        const long long event = append_event(file, plan.name, event_of("start", provenance));
        SweepWriter writer(file, plan.name);
        StoredRun run = stored_run(0, result, provenance.host);
        run.set_ran(started, ended, event);
        writer.add(run);
        writer.flush();
        end_event(file, plan.name, event, "finished");
    });
    print_summary(result, store);
    return result.status == RunStatus::done ? exit_ok : exit_failure;
}

}  // namespace ssldyn::cli
