// `ssldyn run`: one configuration, simulated next to its theory, into a store.
#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/config_options.hpp"
#include "core/error.hpp"
#include "core/progress.hpp"
#include "plan/plan.hpp"
#include "run/driver.hpp"
#include "run/model_table.hpp"
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
        "sweep name the run is filed under in the store")("quiet,q", "no progress line");
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
    check_store_target(store, vm.count("overwrite") > 0);

    ProgressLine progress("run " + run_id(config), vm.count("quiet") == 0);
    const RunResult result =
        simulate(config, [&](Index step, Index steps) { progress.update(step, steps); });
    progress.finish();
    const Provenance provenance = current_provenance();
    const SweepLayout layout = sweep_layout(plan);
    create_atomically(store, sweep_bytes(plan, layout), [&](const h5::File& file) {
        create_sweep(file, plan, layout, provenance);
        SweepWriter writer(file, plan.name);
        writer.add(stored_run(0, result, provenance.host));
        writer.flush();
    });
    print_summary(result, store);
    return result.status == RunStatus::done ? exit_ok : exit_failure;
}

}  // namespace ssldyn::cli
