// `ssldyn upgrade`: a store of schema 1 converted into one of schema 2.
#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/config_options.hpp"
#include "core/error.hpp"
#include "mpi/mpi.hpp"
#include "store/upgrade.hpp"

namespace ssldyn::cli {

int upgrade_command(const std::vector<std::string>& args) {
    po::options_description options(
        "ssldyn upgrade OLD.h5 --store NEW.h5 [--overwrite]\n\n"
        "Converts a store of schema 1 (a group per run, written by ssldyn before schema 2) into "
        "a new store of schema 2: every sweep with its attributes (and upgraded_from = OLD), "
        "every run's records, weights, spectrum, results and status, number for number. OLD "
        "is only read. Runs not done stay so; `ssldyn sweep CONFIG --store NEW.h5 --resume` "
        "continues them.\n\nOptions");
    options.add_options()("help,h", "show this help")(
        "store", po::value<std::string>()->value_name("NEW"), "the schema-2 store to write")(
        "overwrite", "replace an existing NEW")("old", po::value<std::string>()->value_name("OLD"),
                                                "the schema-1 store");
    po::positional_options_description positional;
    positional.add("old", 1);
    const po::variables_map vm = parse(args, options, positional, po::options_description(), false);
    const auto world = mpi::Communicator::world();
    if (vm.count("help")) {
        if (world.rank() == 0) std::cout << options << "\n";
        return exit_ok;
    }
    if (!vm.count("old")) throw InputError("command line: the schema-1 store OLD is required");
    if (!vm.count("store")) throw InputError("command line: --store NEW is required");
    if (world.size() != 1) throw InputError("upgrade runs on one rank (start it without mpirun)");
    const std::string old = vm["old"].as<std::string>(), out = vm["store"].as<std::string>();
    const UpgradeOutcome o = upgrade_store(old, out, vm.count("overwrite") > 0);
    std::printf(
        "upgraded %s (schema 1) into %s (schema 2): %ld sweeps, %ld runs, %ld done, %ld "
        "failed\n",
        old.c_str(), out.c_str(), o.sweeps, o.runs, o.done, o.failed);
    if (o.done + o.failed < o.runs)
        std::printf(
            "%ld runs not done: continue them with ssldyn sweep CONFIG --store %s --resume\n",
            o.runs - o.done - o.failed, out.c_str());
    if (o.spectra_differing > 0)
        std::printf(
            "note: %ld runs held their problem's spectrum with other bits than the first run of "
            "that problem (computed apart, to round-off); the store keeps the first's\n",
            o.spectra_differing);
    return exit_ok;
}

}  // namespace ssldyn::cli
