// Cost of one full-batch GD step of the two-layer tanh model (both layers constrained, QR
// retraction, non-contrastive loss) on Fashion-MNIST, against this machine's dgemm rate
// measured in the same process (float64), with the peak memory; --precision float32 times the
// float32 passes. `--help` lists the flags;
// bench/two_layer.sh runs it next to bench/torch_two_layer.py.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "bench_common.hpp"
#include "config/run_config.hpp"
#include "data/idx.hpp"
#include "data/views.hpp"
#include "linalg/blas.hpp"
#include "model/two_layer_dynamics.hpp"
#include "random/stream.hpp"

namespace {

using ssldyn::Index;
using ssldyn::Matrix;

struct Options {
    bool quick = false;
    int warmup = 1;
    int reps = 3;
    Index dgemm_size = 4096;  // 0 skips the dgemm reference
    int dgemm_reps = 3;
    std::vector<std::pair<Index, Index>> sizes{{60000, 1024}, {60000, 4096}, {10000, 16384}};
    Index k = 64;
    double eta = 0.01;
    int threads = 0;  // 0: whatever OPENBLAS_NUM_THREADS gave the library
    std::string csv;
    std::string idx = std::string(ssldyn::fashion_mnist_images);
    ssldyn::Precision precision = ssldyn::Precision::float64;
};

const char* const usage = R"(ssldyn_bench_two_layer [flags]
  --quick          small sizes (n x h = 5000x256,5000x1024,2000x2048), dgemm 1024, a few seconds
                   (other flags still override)
  --sizes LIST     n x h pairs (default 60000x1024,60000x4096,10000x16384)
  --k N            output dimension (default 64)
  --eta X          step size (default 0.01; the cost does not depend on it)
  --warmup N       untimed steps before each measurement (default 1)
  --reps N         timed steps; best and median are reported (default 3)
  --dgemm N        size of the square dgemm reference, 0 skips it (default 4096)
  --dgemm-reps N   timed dgemm calls (default 3)
  --idx FILE       IDX images (default: Debian's Fashion-MNIST)
  --threads N      set the BLAS thread count (default: OPENBLAS_NUM_THREADS as is)
  --csv FILE       also write the rows as CSV (for bench/two_layer.sh)
  --precision P    float64 (default) or float32 passes through the data (path "step-float32";
                   %dgemm still against the float64 dgemm rate)
)";

using namespace ssldyn::bench;

std::vector<std::pair<Index, Index>> parse_sizes(const std::string& flag,
                                                 const std::string& value) {
    std::vector<std::pair<Index, Index>> out;
    for (const std::string& pair : split(value)) {
        const std::vector<std::string> nh = split(pair, 'x');
        if (nh.size() != 2) throw std::invalid_argument(flag + ": expected n x h, got " + pair);
        out.emplace_back(to_index(flag, nh[0]), to_index(flag, nh[1]));
    }
    return out;
}

Options parse(int argc, char** argv) {
    Options o;
    // --quick only changes the defaults, so the other flags still win.
    if (has_flag(argc, argv, "--quick")) {
        o.quick = true;
        o.dgemm_size = 1024;
        o.sizes = {{5000, 256}, {5000, 1024}, {2000, 2048}};
    }
    for_each_flag(argc, argv, usage, [&](const std::string& flag, const std::string& value) {
        if (flag == "--sizes") {
            o.sizes = parse_sizes(flag, value);
        } else if (flag == "--k") {
            o.k = to_index(flag, value);
        } else if (flag == "--eta") {
            o.eta = std::stod(value);
        } else if (flag == "--warmup") {
            o.warmup = static_cast<int>(to_index(flag, value));
        } else if (flag == "--reps") {
            o.reps = std::max(1, static_cast<int>(to_index(flag, value)));
        } else if (flag == "--dgemm") {
            o.dgemm_size = to_index(flag, value);
        } else if (flag == "--dgemm-reps") {
            o.dgemm_reps = std::max(1, static_cast<int>(to_index(flag, value)));
        } else if (flag == "--idx") {
            o.idx = value;
        } else if (flag == "--threads") {
            o.threads = static_cast<int>(to_index(flag, value));
        } else if (flag == "--precision") {
            o.precision = ssldyn::parse_name(ssldyn::precision_names, value, "--precision");
        } else if (flag == "--csv") {
            o.csv = value;
        } else {
            throw unknown_flag(flag);
        }
    });
    return o;
}

struct Row {
    std::string path;  // "step" or "dgemm"
    Index d = 0, n = 0, h = 0, k = 0;
    std::string when;  // dgemm: start or end
    Timing time;
    double flops = 0.0;
};

class Report {
  public:
    Report(const std::string& csv, int threads)
        : threads_(threads),
          csv_(csv,
               "impl,threads,path,d,n,h,k,when,median_s,best_s,gflop,gflops,pct_dgemm,"
               "peak_rss_mib") {}

    void header() const {
        std::printf("%-6s %5s %6s %6s %4s %-6s %11s %11s %9s %9s %7s %9s\n", "path", "d", "n", "h",
                    "k", "when", "median_s", "best_s", "GFLOP", "GFLOP/s", "%dgemm", "peak_MiB");
    }

    // The first dgemm row is the reference for %dgemm; a later one only checks it.
    void add(const Row& r) {
        const double rate = r.flops / r.time.best / 1e9;
        if (r.path == "dgemm") dgemm_.offer(rate);
        const double pct = dgemm_.percent(rate), rss = peak_rss_mib();
        std::printf("%-6s %5td %6td %6td %4td %-6s %11.4e %11.4e %9.1f %9.2f %7.1f %9.0f\n",
                    r.path.c_str(), r.d, r.n, r.h, r.k, r.when.c_str(), r.time.median, r.time.best,
                    r.flops / 1e9, rate, pct, rss);
        std::fflush(stdout);
        csv_.row("cpp,%d,%s,%td,%td,%td,%td,%s,%.6e,%.6e,%.3f,%.3f,%.2f,%.0f\n", threads_,
                 r.path.c_str(), r.d, r.n, r.h, r.k, r.when.c_str(), r.time.median, r.time.best,
                 r.flops / 1e9, rate, pct, rss);
    }

    double dgemm_rate() const { return dgemm_.rate; }

  private:
    int threads_;
    CsvFile csv_;
    DgemmReference dgemm_;
};

// Measured at the start and again at the end: rates that differ mean something else ran on
// the machine and the figures are not to be trusted.
double bench_dgemm(const Options& o, Report& report, const char* when) {
    const Index n = o.dgemm_size;
    Row r{"dgemm", n, n, n, n, when, {}, 2.0 * double(n) * double(n) * double(n)};
    r.time = dgemm_timing(n, o.dgemm_reps);
    report.add(r);
    return r.flops / r.time.best / 1e9;
}

// A constrained layer of shape m x p in row form (m ≤ p; W₁ with h > d as its transpose):
// the Stiefel gradient G − sym(G Wᵀ)W, two products of 2m²p, and the Householder QR of the
// p x m transpose with Q formed, dgeqrf and dorgqr 2pm² − 2m³/3 each.
double layer_flops(double rows, double cols) {
    const double m = std::min(rows, cols), p = std::max(rows, cols);
    return 4.0 * m * m * p + 4.0 * p * m * m - 4.0 * m * m * m / 3.0;
}

// Flops of one step on two views (2n samples):
//   forward   U = W₁S (2·2n·d·h), F = W₂ tanh(U) (2·2n·h·k)
//   backward  ∇W₂ (2·2n·h·k), ∂L/∂A = W₂ᵀ∂L/∂F (2·2n·h·k), ∇W₁ (2·2n·h·d)
//   total     8ndh + 12nhk, plus layer_flops for W₁ (h x d) and W₂ (k x h).
// tanh, its derivative, the loss and the elementwise products are not counted.
double step_flops(double n, double d, double h, double k) {
    return 8.0 * n * d * h + 12.0 * n * h * k + layer_flops(h, d) + layer_flops(k, h);
}

void bench_size(const Options& o, const Matrix& images, Index n, Index h, Report& report) {
    const auto setup_start = std::chrono::steady_clock::now();
    const Index d = images.rows();
    if (n > images.cols())
        throw std::invalid_argument("--sizes: n = " + std::to_string(n) + " but the file holds " +
                                    std::to_string(images.cols()) + " images");
    if (o.k > h) throw std::invalid_argument("--k: exceeds h = " + std::to_string(h));
    const Matrix base = ssldyn::copy_of(images.columns(0, n));
    // The runs' views (run/problem.cpp): σ_aug 0.1, no masking, centred, seed 1, stream 11.
    const ssldyn::Views views(base, ssldyn::Augmentation{0.1, 1.0}, true, 1, 11);
    const ssldyn::TwoLayerObjective objective(views, ssldyn::Loss::noncontrastive,
                                              ssldyn::Activation::tanh, o.precision);
    const ssldyn::TwoLayerRule rule{true, ssldyn::Retraction::qr, o.eta, 0.0};
    ssldyn::RandomStream init(7, 21, static_cast<std::uint64_t>(h));
    ssldyn::TwoLayerWeights w = ssldyn::initial_two_layer_weights(rule, d, h, o.k, init);
    std::printf(
        "# d = %td, n = %td, h = %td, k = %td: setup (views, W0) %.1f s\n", d, n, h, o.k,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - setup_start).count());
    double first_loss = 0.0, last_loss = 0.0;
    int steps = 0;
    Row r{o.precision == ssldyn::Precision::float64 ? "step" : "step-float32",
          d,
          n,
          h,
          o.k,
          "-",
          {},
          step_flops(double(n), double(d), double(h), double(o.k))};
    r.time = time_it(o.warmup, o.reps, [&] {
        last_loss = ssldyn::two_layer_step(rule, objective, w);
        if (steps++ == 0) first_loss = last_loss;
        sink = sink + last_loss;
    });
    // The loss must fall over the steps and the layers stay orthonormal: a wrong benchmark
    // would show here.
    std::printf("# loss %.15g -> %.15g over %d steps; orthonormality W1 %.1e W2 %.1e\n", first_loss,
                last_loss, steps, ssldyn::layer_orthogonality_error(w.w1),
                ssldyn::layer_orthogonality_error(w.w2));
    report.add(r);
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const Options o = parse(argc, argv);
        if (o.threads > 0) ssldyn::set_blas_threads(o.threads);
        std::printf(
            "# ssldyn_bench_two_layer%s: %s passes, two-layer tanh, both layers constrained, QR "
            "retraction, non-contrastive loss, k = %td\n",
            o.quick ? " --quick" : "",
            std::string(ssldyn::name_of(ssldyn::precision_names, o.precision)).c_str(), o.k);
        std::printf("# BLAS threads (ssldyn::blas_threads) = %d; OPENBLAS_NUM_THREADS=%s\n",
                    ssldyn::blas_threads(), env_or("OPENBLAS_NUM_THREADS", "(unset)"));
        print_openblas();
        std::printf("# timing: %d warm-up, then best and median of %d; GFLOP/s from best\n",
                    o.warmup, o.reps);
        std::printf(
            "# model flops: dgemm 2N^3; step 8ndh + 12nhk (forward and backward, two views) + "
            "per layer m x p (m <= p) 8pm^2 - 4m^3/3 (Stiefel gradient, QR)\n");
        Report report(o.csv, ssldyn::blas_threads());
        report.header();
        if (o.dgemm_size > 0) bench_dgemm(o, report, "start");
        Index most = 0;
        for (const auto& size : o.sizes) most = std::max(most, size.first);
        const ssldyn::IdxImages images = ssldyn::read_idx_images(o.idx, most);
        for (const auto& [n, h] : o.sizes) bench_size(o, images.pixels, n, h, report);
        if (o.dgemm_size > 0) {
            const double start = report.dgemm_rate(), end = bench_dgemm(o, report, "end");
            print_dgemm_drift(start, end);
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ssldyn_bench_two_layer: %s\n", e.what());
        return 2;
    }
}
