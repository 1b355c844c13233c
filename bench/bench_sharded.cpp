// Memory and time of the two-layer model with its hidden units sharded over the ranks of one
// mpirun (model/sharded_two_layer.hpp), one width per process: each rank's peak resident memory
// and the seconds per constrained step, against what the rank's share should need. `--help`
// lists the flags; bench/sharded_width.sh runs it over widths on 1 and 2 ranks.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "model/sharded_two_layer.hpp"
#include "mpi/mpi.hpp"

namespace {

using namespace ssldyn;

struct Options {
    Index d = 784, n = 2000, k = 16, h = 16384;
    int steps = 2;
    Retraction retraction = Retraction::qr;
    Activation activation = Activation::tanh;
    Loss loss = Loss::noncontrastive;
    Index block = 64;
};

// The choices come from the tables: --retraction takes the methods with a distributed form.
std::string usage() {
    return R"(ssldyn_bench_sharded [flags]   (run under mpirun; OPENBLAS_NUM_THREADS=1)
  --d N --n N --k N --h N   input dimension, samples, outputs, hidden units (784 2000 16 16384)
  --steps N                 timed constrained steps after one untimed (default 2)
  --retraction NAME         )" +
           alternatives_of(retraction_table, [](const RetractionRow& r) { return r.distributed; }) +
           R"( (default qr)
  --activation NAME         )" +
           choices_of(activation_names) + R"( (default tanh)
  --loss NAME               )" +
           choices_of(loss_names) + R"( (default noncontrastive)
  --block N                 block size of the distributed orthonormalisation (default 64)
Prints one line: ranks, h, the largest rank's memory before the model and its peak (MiB), the
rank's share of W₁ and of the hidden activities (MiB), and seconds per step (slowest rank), and
of that the loss and gradient alone.
)";
}

Options parse(int argc, char** argv) {
    Options o;
    using bench::to_index;
    bench::for_each_flag(argc, argv, usage().c_str(),
                         [&](const std::string& flag, const std::string& value) {
                             if (flag == "--d")
                                 o.d = to_index(flag, value);
                             else if (flag == "--n")
                                 o.n = to_index(flag, value);
                             else if (flag == "--k")
                                 o.k = to_index(flag, value);
                             else if (flag == "--h")
                                 o.h = to_index(flag, value);
                             else if (flag == "--steps")
                                 o.steps = std::max(1, static_cast<int>(to_index(flag, value)));
                             else if (flag == "--block")
                                 o.block = std::max<Index>(1, to_index(flag, value));
                             else if (flag == "--retraction")
                                 o.retraction = parse_name(retraction_names, value, flag);
                             else if (flag == "--activation")
                                 o.activation = parse_name(activation_names, value, flag);
                             else if (flag == "--loss")
                                 o.loss = parse_name(loss_names, value, flag);
                             else
                                 throw bench::unknown_flag(flag);
                         });
    return o;
}

// The process's peak resident memory so far (getrusage: the lifetime peak, hence one width per
// process).
double peak_mib() {
    rusage self_usage{};
    getrusage(RUSAGE_SELF, &self_usage);
    return static_cast<double>(self_usage.ru_maxrss) / 1024.0;
}

double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

void run(const Options& o) {
    const auto world = mpi::Communicator::world();
    RandomStream data_stream(1);
    const Matrix base = gaussian_matrix(data_stream, o.d, o.n);
    const Views views(base, Augmentation{0.2, 1.0}, true, 2, 1);
    const ShardedTwoLayerObjective objective(views, o.loss, o.activation, world);
    const double before = world.max(peak_mib());

    TwoLayerRule rule{true, o.retraction, 0.05, 0.0, {}};
    rule.distribution.block = o.block;
    RandomStream stream(3);
    TwoLayerWeights local =
        initial_sharded_two_layer_weights(rule, o.d, o.h, o.k, stream, objective);
    sharded_two_layer_step(rule, objective, local);  // untimed: first touch of every buffer
    world.barrier();
    const double start = now();
    for (int step = 0; step < o.steps; ++step) sharded_two_layer_step(rule, objective, local);
    const double seconds = world.max(now() - start) / o.steps;
    world.barrier();
    const double gradient_start = now();
    for (int step = 0; step < o.steps; ++step) objective.evaluate(local);
    const double gradient_seconds = world.max(now() - gradient_start) / o.steps;
    const double peak = world.max(peak_mib());

    const double share = static_cast<double>(hidden_shard(o.h, world).size());
    const double mib = 1.0 / (1024.0 * 1024.0);
    const double w1_mib = world.max(share * static_cast<double>(o.d) * 8.0 * mib);
    const double activity_mib =
        world.max(share * static_cast<double>(views_used(o.loss) * o.n) * 8.0 * mib);
    if (world.rank() == 0)
        std::printf(
            "ranks %d h %ld d %ld n %ld k %ld: memory before the model %.0f MiB, peak %.0f "
            "MiB; share of W1 %.0f MiB, of one activity matrix %.0f MiB; %.3f s/step, of which "
            "%.3f s loss and gradient\n",
            world.size(), static_cast<long>(o.h), static_cast<long>(o.d), static_cast<long>(o.n),
            static_cast<long>(o.k), before, peak, w1_mib, activity_mib, seconds, gradient_seconds);
}

}  // namespace

int main(int argc, char** argv) {
    try {
        mpi::Environment environment(argc, argv);
        run(parse(argc, argv));
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ssldyn_bench_sharded: %s\n", e.what());
        return 1;
    }
}
