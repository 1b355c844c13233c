// Seconds per naive GD step of each loss of THEORY 6 through the data (the step `ssldyn run
// --path data --dynamics naive` takes: DataObjective and gradient_step), timed as
// bench/numpy_losses.py and bench/torch_losses.py time theirs. bench/losses.sh runs the three.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "data/idx.hpp"
#include "data/views.hpp"
#include "loss/loss.hpp"
#include "loss/objective.hpp"
#include "optim/dynamics.hpp"

namespace {

using ssldyn::Index;
using ssldyn::Matrix;

struct Options {
    std::string idx;
    Index n = 10000;
    Index k = 16;
    int warmup = 1;
    int reps = 5;
    std::vector<std::string> losses{"spectral_contrastive", "barlow_twins", "infonce"};
    int threads = 0;  // 0: whatever OPENBLAS_NUM_THREADS gave the library
    std::string csv;
};

const char* const usage = R"(ssldyn_bench_losses --idx FILE [flags]
  --idx FILE      IDX images (MNIST: d = 784), required
  --n N           samples (default 10000)
  --k N           output dimension (default 16)
  --warmup N      untimed steps before each loss's timed ones (default 1)
  --reps N        timed steps per loss; best and median are reported (default 5)
  --losses LIST   spectral_contrastive,barlow_twins,infonce (default all three)
  --threads N     set the BLAS thread count (default: OPENBLAS_NUM_THREADS as is)
  --csv FILE      also write the rows as CSV (for bench/losses.sh)
)";

using namespace ssldyn::bench;

Options parse(int argc, char** argv) {
    Options o;
    for_each_flag(argc, argv, usage, [&](const std::string& flag, const std::string& value) {
        if (flag == "--idx") {
            o.idx = value;
        } else if (flag == "--n") {
            o.n = to_index(flag, value);
        } else if (flag == "--k") {
            o.k = to_index(flag, value);
        } else if (flag == "--warmup") {
            o.warmup = static_cast<int>(to_index(flag, value));
        } else if (flag == "--reps") {
            o.reps = std::max(1, static_cast<int>(to_index(flag, value)));
        } else if (flag == "--losses") {
            o.losses = split(value);
        } else if (flag == "--threads") {
            o.threads = static_cast<int>(to_index(flag, value));
        } else if (flag == "--csv") {
            o.csv = value;
        } else {
            throw unknown_flag(flag);
        }
    });
    if (o.idx.empty()) throw std::invalid_argument("--idx: required (see --help)");
    return o;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const Options o = parse(argc, argv);
        if (o.threads > 0) ssldyn::set_blas_threads(o.threads);
        // The views of `ssldyn run`: σ_aug = 0.1, centred.
        const ssldyn::Views views(ssldyn::read_idx_images(o.idx, o.n).pixels,
                                  ssldyn::Augmentation{0.1, 1.0}, true, 7, 0);
        const Index d = views.d(), n = views.n();
        std::printf("ssldyn, BLAS threads %d, n = %td, d = %td, k = %td\n", ssldyn::blas_threads(),
                    n, d, o.k);
        print_openblas();
        CsvFile csv(o.csv, "impl,threads,loss,n,d,k,best_s,median_s");
        ssldyn::StepRule rule;
        rule.dynamics = ssldyn::Dynamics::naive;
        rule.eta = 1e-3;
        for (const std::string& name : o.losses) {
            const ssldyn::Loss loss = ssldyn::parse_name(ssldyn::loss_names, name, "--losses");
            const ssldyn::DataObjective objective(views, {loss, 0.5});
            ssldyn::RandomStream init(1, 2);
            Matrix w = ssldyn::gaussian_matrix(init, o.k, d, 1.0 / std::sqrt(double(d)));
            const Timing t = time_it(
                o.warmup, o.reps, [&] { sink = sink + ssldyn::gradient_step(rule, objective, w); });
            std::printf("%-22s best %9.2f ms   median %9.2f ms\n", name.c_str(), t.best * 1e3,
                        t.median * 1e3);
            csv.row("ssldyn,%d,%s,%td,%td,%td,%.6e,%.6e\n", ssldyn::blas_threads(), name.c_str(), n,
                    d, o.k, t.best, t.median);
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ssldyn_bench_losses: %s\n", e.what());
        return 2;
    }
}
