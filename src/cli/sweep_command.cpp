// `ssldyn sweep`: a grid of runs over MPI ranks into one store.
#include <cmath>
#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/config_options.hpp"
#include "cli/dry_run.hpp"
#include "core/error.hpp"
#include "core/stop_signals.hpp"
#include "linalg/blas.hpp"
#include "store/index_reader.hpp"
#include "sweep/runner.hpp"
#include "sweep/summary.hpp"

namespace ssldyn::cli {

namespace {

// --print name|runs|memory-per-rank: one fact of the config, for job scripts.
int print_fact(const po::variables_map& vm, const mpi::Communicator& world) {
    const std::string what = vm["print"].as<std::string>();
    if (what != "name" && what != "runs" && what != "memory-per-rank")
        throw InputError("--print: '" + what + "' (choose name, runs or memory-per-rank)");
    const SweepPlan plan = read_sweep_plan(vm["config"].as<std::string>());
    if (world.rank() != 0) return exit_ok;
    if (what == "name") {
        std::printf("%s\n", plan.name.c_str());
    } else if (what == "runs") {
        std::printf("%zu\n", plan.runs.size());
    } else {
        const RunPlacement at{vm["group-size"].as<int>(), vm["distribute-above"].as<long long>()};
        const SweepEstimate estimate = estimate_sweep(plan, at);
        std::printf("%.0f\n", std::ceil(estimate.runs[estimate.largest].memory.peak()));
    }
    return exit_ok;
}

}  // namespace

int sweep_command(const std::vector<std::string>& args) {
    po::options_description options(
        "ssldyn sweep CONFIG.ini --store FILE [options]\n\n"
        "Runs every configuration of a sweep config (sections [sweep], [fixed], [axes], [zip]; "
        "see the README) over the MPI ranks, into one HDF5 store.\n"
        "SIGUSR1, SIGTERM or SIGINT: running runs save their state and the sweep stops with exit "
        "code 3; --resume continues them where they stopped.\n\nOptions");
    options.add_options()("help,h", "show this help")(
        "config", po::value<std::string>()->value_name("FILE"), "sweep config (INI)")(
        "store", po::value<std::string>()->value_name("FILE"), "HDF5 store (created, or added to)")(
        "resume", "continue a sweep of the store: runs not done run again")(
        "check",
        "read and check the config (every run, the data files) and print the sweep's name; "
        "nothing is run or written, no store is needed")(
        "break-lock",
        "clear the store's lock when whether its holder runs cannot be seen (another host and no "
        "SLURM job, SLURM not answering); a stale one is cleared without it")(
        "group-size", po::value<int>()->value_name("G")->default_value(1),
        "ranks per run group (each group has its own communicator and BLACS grid)")(
        "distribute-above",
        po::value<long long>()->value_name("ENTRIES")->default_value(default_distribute_above),
        "matrices of a run with more entries than this (C: d², the retraction: k·d) are spread "
        "over its group's ranks with ScaLAPACK; smaller ones are replicated")(
        "block-size", po::value<long long>()->value_name("B")->default_value(64),
        "block-cyclic block size of the spread matrices")(
        "grid", po::value<std::string>()->value_name("PxQ")->default_value("auto"),
        "process grid of a group for C and its eigenvectors (auto: the most nearly square)")(
        "threads", po::value<int>()->value_name("T")->default_value(1),
        "BLAS threads per rank (1 keeps results independent of the rank count)")(
        "shard", po::value<std::string>()->value_name("I/N"),
        "run only shard I of N (rows r with r mod N = I) into this store; `ssldyn merge` joins "
        "the shards")("checkpoint-every",
                      po::value<double>()->value_name("SECONDS")->default_value(300, "300"),
                      "save the state of a running run this often (0: only on a stop signal)")(
        "dry-run",
        "print the runs, their shapes, memory per rank, the store's size and the time (from a "
        "few timed steps of the costliest run); nothing is written. Exit code 2 where the "
        "sweep would refuse to start")(
        "format", po::value<std::string>()->value_name("F")->default_value("text"),
        "of --dry-run: text or json")("no-calibration",
                                      "of --dry-run: no timed steps, so no estimate of the time")(
        "ranks", po::value<int>()->value_name("R"),
        "of --dry-run: the ranks of the job to estimate for (default: those running it), as "
        "if on one machine")(
        "print", po::value<std::string>()->value_name("WHAT"),
        "print one fact of the config and stop: name (the sweep's name, checked), runs, or "
        "memory-per-rank (bytes of the largest run on a rank, with --group-size and "
        "--distribute-above)");
    options.add(progress_options());
    po::positional_options_description positional;
    positional.add("config", 1);
    const po::variables_map vm = parse(args, options, positional, po::options_description(), false);
    // Caught for the whole command: a signal while the data are read stops the sweep before its
    // first step, and one after the last run (a SLURM warning that comes late) kills nothing.
    const StopSignals signals;
    const auto world = mpi::Communicator::world();
    if (vm.count("help")) {
        if (world.rank() == 0) std::cout << options << "\n";
        return exit_ok;
    }
    if (!vm.count("config")) throw InputError("command line: a sweep config is required");
    if (vm.count("check")) {
        const SweepPlan plan = read_sweep_plan(vm["config"].as<std::string>());
        if (world.rank() == 0) std::printf("%s\n", plan.name.c_str());
        return exit_ok;
    }
    const bool dry = vm.count("dry-run") > 0;
    if (vm.count("print")) return print_fact(vm, world);
    if (!vm.count("store") && !dry) throw InputError("command line: --store FILE is required");
    const int threads = vm["threads"].as<int>();
    if (threads < 1) throw InputError("--threads: must be at least 1");
    set_blas_threads(threads);

    const double checkpoint_every = vm["checkpoint-every"].as<double>();
    if (!(checkpoint_every >= 0)) throw InputError("--checkpoint-every: must be 0 or more seconds");
    SweepPlan plan = read_sweep_plan(vm["config"].as<std::string>());
    if (vm.count("shard"))
        plan = shard_of(plan, parse_shard(vm["shard"].as<std::string>(), "--shard"));
    SweepOptions sweep;
    sweep.distribute_above = vm["distribute-above"].as<long long>();
    if (sweep.distribute_above < 0) throw InputError("--distribute-above: must be 0 or more");
    sweep.block_size = vm["block-size"].as<long long>();
    if (sweep.block_size < 1) throw InputError("--block-size: must be at least 1");
    sweep.checkpoint_every = checkpoint_every;
    if (vm.count("store")) sweep.store = vm["store"].as<std::string>();
    sweep.resume = vm.count("resume") > 0;
    sweep.break_lock = vm.count("break-lock") > 0;
    sweep.group_size = vm["group-size"].as<int>();
    sweep.grid = vm["grid"].as<std::string>();
    sweep.progress = progress_style(vm);
    if (dry) {
        DryRunSetting setting;
        setting.ranks = vm.count("ranks") ? vm["ranks"].as<int>() : world.size();
        if (setting.ranks < 1) throw InputError("--ranks: must be at least 1");
        setting.placement = placement_of(sweep);
        setting.calibrate = vm.count("no-calibration") == 0;
        setting.format =
            parse_name(dry_run_format_names, vm["format"].as<std::string>(), "--format");
        check_sweep_options(sweep, setting.ranks);
        if (world.rank() != 0) return exit_ok;
        if (!sweep.store.empty()) check_sweep_store(plan, sweep);
        dry_run(plan, setting, memory_per_rank(setting.ranks));
        return exit_ok;
    }
    const SweepOutcome outcome = run_sweep(plan, sweep, world);

    const int code = outcome.interrupted ? exit_interrupted
                     : outcome.failed    ? exit_failure
                                         : exit_ok;
    if (world.rank() != 0) return code;
    if (outcome.interrupted) {
        std::printf(
            "sweep %s: stopped by a signal after %.1f s: %ld of %ld runs done, the "
            "running ones saved; continue with --resume\n",
            plan.name.c_str(), outcome.seconds, outcome.done + outcome.skipped, outcome.runs);
        return code;
    }
    const h5::File file = h5::File::open(sweep.store, h5::Mode::read_only);
    std::printf("sweep %s%s: %ld runs, %ld done, %ld failed", plan.name.c_str(),
                plan.shard.whole() ? "" : (" shard " + plan.shard.text()).c_str(), outcome.runs,
                outcome.done + outcome.skipped, outcome.failed);
    if (outcome.skipped) std::printf(" (%ld done before this resume)", outcome.skipped);
    if (outcome.continued) std::printf(" (%ld continued from a saved state)", outcome.continued);
    std::printf(
        ", %.1f s on %d ranks; HDF5 %.2f %% of rank time (%.2f s preparing the store)\n\n",
        outcome.seconds, world.size(),
        outcome.rank_seconds > 0 ? 100.0 * outcome.hdf5_seconds / outcome.rank_seconds : 0.0,
        outcome.prepare_seconds);
    const std::vector<std::string> summarised = summary_columns();
    std::fputs(sweep_summary(read_index(file, plan.name, &summarised)).c_str(), stdout);
    std::printf("\nstore: %s (ssldyn query %s --sweep %s)\n", sweep.store.c_str(),
                sweep.store.c_str(), plan.name.c_str());
    return code;
}

}  // namespace ssldyn::cli
