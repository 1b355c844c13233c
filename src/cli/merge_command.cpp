// `ssldyn merge`: the shard stores of a job array joined into one store.
#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/config_options.hpp"
#include "core/error.hpp"
#include "mpi/mpi.hpp"
#include "store/merge.hpp"
#include "store/provenance.hpp"

namespace ssldyn::cli {

int merge_command(const std::vector<std::string>& args) {
    po::options_description options(
        "ssldyn merge --store OUT SHARD.h5 [SHARD.h5 ...]\n\n"
        "Joins the shard stores of sweeps run with `ssldyn sweep --shard I/N` (shards 0 to N-1 "
        "of each sweep) into a new store OUT, equal to the one a single job over the whole "
        "sweep writes. Runs not done in a shard stay pending; `ssldyn sweep --resume` on OUT "
        "runs them.\n\nOptions");
    options.add_options()("help,h", "show this help")(
        "store", po::value<std::string>()->value_name("OUT"), "the merged store (must not exist)")(
        "shards", po::value<std::vector<std::string>>()->value_name("FILE"), "shard stores");
    po::positional_options_description positional;
    positional.add("shards", -1);
    const po::variables_map vm = parse(args, options, positional, po::options_description(), false);
    const auto world = mpi::Communicator::world();
    if (vm.count("help")) {
        if (world.rank() == 0) std::cout << options << "\n";
        return exit_ok;
    }
    if (!vm.count("store")) throw InputError("command line: --store OUT is required");
    if (!vm.count("shards")) throw InputError("command line: no shard stores to merge");
    if (world.size() != 1) throw InputError("merge runs on one rank (start it without mpirun)");
    const std::string out = vm["store"].as<std::string>();
    const MergeOutcome outcome =
        merge_shards(out, vm["shards"].as<std::vector<std::string>>(), current_provenance());
    std::printf("merged %zu shard stores into %s: %ld sweeps, %ld runs, %ld done\n",
                vm["shards"].as<std::vector<std::string>>().size(), out.c_str(), outcome.sweeps,
                outcome.runs, outcome.done);
    if (outcome.done < outcome.runs)
        std::printf(
            "%ld runs not done: continue them with ssldyn sweep CONFIG --store %s "
            "--resume\n",
            outcome.runs - outcome.done, out.c_str());
    return exit_ok;
}

}  // namespace ssldyn::cli
