// Cost of one orthogonal gradient-descent step and of one theory record, against this machine's
// dgemm rate measured in the same process (float64). `--help` lists the flags; bench/run.sh
// runs it next to bench/numpy_step.py with 1 and 2 BLAS threads.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "config/run_config.hpp"
#include "data/idx.hpp"
#include "data/spiked.hpp"
#include "data/views.hpp"
#include "linalg/blas.hpp"
#include "linalg/lapack.hpp"
#include "loss/loss.hpp"
#include "loss/objective.hpp"
#include "optim/dynamics.hpp"
#include "random/stream.hpp"
#include "theory/closed_form.hpp"

namespace {

using ssldyn::Index;
using ssldyn::Matrix;

struct Options {
    bool quick = false;
    int warmup = 1;
    int reps = 5;
    Index dgemm_size = 4096;  // 0 skips the dgemm reference
    int dgemm_reps = 3;
    std::vector<std::string> data{"fashion", "spiked"};
    std::vector<Index> ks{16, 64, 256};
    Index fashion_n = 60000;
    Index spiked_d = 4096;
    Index spiked_n = 20000;
    std::vector<std::string> paths{"covariance", "data", "products", "theory"};
    std::vector<std::string> retractions{"qr", "polar"};
    int threads = 0;  // 0: whatever OPENBLAS_NUM_THREADS gave the library
    std::string csv;
    std::string idx = std::string(ssldyn::fashion_mnist_images);
};

const char* const usage = R"(ssldyn_bench_step [flags]
  --quick              small sizes, a few seconds (other flags still override)
  --warmup N           untimed calls before each measurement (default 1)
  --reps N             timed calls per measurement; best and median are reported (default 5)
  --dgemm N            size of the square dgemm reference, 0 skips it (default 4096)
  --dgemm-reps N       timed dgemm calls (default 3)
  --data LIST          fashion,spiked (default both)
  --k LIST             output dimensions (default 16,64,256)
  --fashion-n N        Fashion-MNIST samples (default 60000)
  --idx FILE           IDX images for the fashion rows (default: Debian's Fashion-MNIST)
  --spiked-d N         spiked input dimension (default 4096)
  --spiked-n N         spiked samples (default 20000)
  --paths LIST         covariance,data,products,theory (default all); products: the data
                       step's two BLAS calls alone, in two orientations (rows prod_wide,
                       prod_tall), to split BLAS time from the rest of the step
  --retractions LIST   qr,polar (default both)
  --threads N          set the BLAS thread count (default: OPENBLAS_NUM_THREADS as is)
  --csv FILE           also write the rows as CSV (for bench/run.sh)
)";

using namespace ssldyn::bench;

bool contains(const std::vector<std::string>& list, const std::string& s) {
    return std::find(list.begin(), list.end(), s) != list.end();
}

Options parse(int argc, char** argv) {
    Options o;
    // --quick only changes the defaults, so the other flags still win.
    if (has_flag(argc, argv, "--quick")) {
        o.quick = true;
        o.reps = 3;
        o.dgemm_size = 1024;
        o.ks = {16, 64};
        o.fashion_n = 5000;
        o.spiked_d = 1024;
        o.spiked_n = 4000;
    }
    for_each_flag(argc, argv, usage, [&](const std::string& flag, const std::string& value) {
        if (flag == "--warmup") {
            o.warmup = static_cast<int>(to_index(flag, value));
        } else if (flag == "--reps") {
            o.reps = std::max(1, static_cast<int>(to_index(flag, value)));
        } else if (flag == "--dgemm") {
            o.dgemm_size = to_index(flag, value);
        } else if (flag == "--dgemm-reps") {
            o.dgemm_reps = std::max(1, static_cast<int>(to_index(flag, value)));
        } else if (flag == "--data") {
            o.data = split(value);
        } else if (flag == "--k") {
            o.ks.clear();
            for (const std::string& k : split(value)) o.ks.push_back(to_index(flag, k));
        } else if (flag == "--fashion-n") {
            o.fashion_n = to_index(flag, value);
        } else if (flag == "--idx") {
            o.idx = value;
        } else if (flag == "--spiked-d") {
            o.spiked_d = to_index(flag, value);
        } else if (flag == "--spiked-n") {
            o.spiked_n = to_index(flag, value);
        } else if (flag == "--paths") {
            o.paths = split(value);
        } else if (flag == "--retractions") {
            o.retractions = split(value);
        } else if (flag == "--threads") {
            o.threads = static_cast<int>(to_index(flag, value));
        } else if (flag == "--csv") {
            o.csv = value;
        } else {
            throw unknown_flag(flag);
        }
    });
    for (const std::string& d : o.data)
        if (d != "fashion" && d != "spiked") throw std::invalid_argument("--data: unknown " + d);
    for (const std::string& p : o.paths)
        if (p != "covariance" && p != "data" && p != "products" && p != "theory")
            throw std::invalid_argument("--paths: unknown " + p);
    for (const std::string& r : o.retractions)
        if (r != "qr" && r != "polar") throw std::invalid_argument("--retractions: unknown " + r);
    return o;
}

struct Row {
    std::string data;
    Index d = 0, n = 0, k = 0;
    std::string path, retraction;
    Timing time;
    double flops = 0.0;  // model flops of the products; 0: no rate
};

class Report {
  public:
    Report(const std::string& csv, int threads)
        : threads_(threads),
          csv_(csv, "impl,threads,data,d,n,k,path,retraction,median_s,best_s,gflops,pct_dgemm") {}

    void header() const {
        std::printf("%-8s %6s %6s %4s  %-10s %-6s %11s %11s %9s %7s\n", "data", "d", "n", "k",
                    "path", "retr", "median_s", "best_s", "GFLOP/s", "%dgemm");
    }

    // The first dgemm row is the reference for %dgemm; a later one only checks it.
    void add(const Row& r) {
        const double rate = r.flops > 0 ? r.flops / r.time.best / 1e9 : 0.0;
        if (r.path == "dgemm") dgemm_.offer(rate);
        const double pct = dgemm_.percent(rate);
        std::printf("%-8s %6td %6td %4td  %-10s %-6s %11.4e %11.4e %9.2f %7.1f\n", r.data.c_str(),
                    r.d, r.n, r.k, r.path.c_str(), r.retraction.c_str(), r.time.median, r.time.best,
                    rate, pct);
        std::fflush(stdout);
        csv_.row("cpp,%d,%s,%td,%td,%td,%s,%s,%.6e,%.6e,%.3f,%.2f\n", threads_, r.data.c_str(), r.d,
                 r.n, r.k, r.path.c_str(), r.retraction.c_str(), r.time.median, r.time.best, rate,
                 pct);
    }

    double dgemm_rate() const { return dgemm_.rate; }

  private:
    int threads_;
    CsvFile csv_;
    DgemmReference dgemm_;
};

// Measured at the start and again at the end ("start", "end" in the retr column): rates that
// differ mean something else ran on the machine and the figures are not to be trusted.
double bench_dgemm(const Options& o, Report& report, const char* when) {
    const Index n = o.dgemm_size;
    Row r{"dgemm", n, n, n, "dgemm", when, {}, 2.0 * double(n) * double(n) * double(n)};
    r.time = dgemm_timing(n, o.dgemm_reps);
    report.add(r);
    return r.flops / r.time.best / 1e9;
}

struct Dataset {
    std::string name;
    Matrix base;  // d x n clean samples
};

Dataset load(const Options& o, const std::string& name) {
    if (name == "fashion") return {name, ssldyn::read_idx_images(o.idx, o.fashion_n).pixels};
    const ssldyn::SpikedCovariance spiked(o.spiked_d, {8.0, 6.0, 4.0, 2.0}, 0.5, false, 7);
    ssldyn::RandomStream stream(7, 11);
    return {name, spiked.sample(o.spiked_n, stream)};
}

void bench_dataset(const Options& o, const std::string& name, Report& report) {
    const auto setup_start = std::chrono::steady_clock::now();
    Dataset data = load(o, name);
    const Index d = data.base.rows(), n = data.base.cols();
    // The contrastive loss reads all three views: S = [X | X⁺ | X⁻] is d x 3n.
    const ssldyn::Loss loss = ssldyn::Loss::contrastive;
    const ssldyn::Views views(data.base, ssldyn::Augmentation{0.1, 1.0}, true, 7, 0);
    data.base = Matrix();
    const ssldyn::CovarianceObjective cov(ssldyn::covariance(views, loss));
    const ssldyn::DataObjective dat(views, loss);
    const ssldyn::SymmetricEigen eigen = ssldyn::symmetric_eigen(cov.c());
    const double eta = 0.1 / eigen.values.front();
    std::printf(
        "# %s: d = %td, n = %td, setup (load, views, C, eigen) %.1f s\n", name.c_str(), d, n,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - setup_start).count());

    for (const Index k : o.ks) {
        if (k > d) continue;
        ssldyn::RandomStream init(7, 21, static_cast<std::uint64_t>(k));
        const Matrix g = ssldyn::gaussian_matrix(init, k, d, 1.0 / std::sqrt(double(d)));
        // Both paths compute the same loss −Tr(W C Wᵀ): a wrong benchmark would show here.
        {
            const ssldyn::StepRule rule{ssldyn::Dynamics::orthogonal, ssldyn::Retraction::qr};
            const Matrix w0 = ssldyn::initial_weights(rule, g);
            const double lc = cov.loss(w0), ld = dat.loss(w0);
            std::printf("# %s k = %td: loss at W0 covariance %.12g data %.12g (rel diff %.1e)\n",
                        name.c_str(), k, lc, ld, std::abs(lc - ld) / std::abs(lc));
        }
        for (const std::string& retraction : o.retractions) {
            const ssldyn::StepRule rule{
                ssldyn::Dynamics::orthogonal,
                retraction == "qr" ? ssldyn::Retraction::qr : ssldyn::Retraction::polar, eta};
            const Matrix w0 = ssldyn::initial_weights(rule, g);
            for (const std::string path : {"covariance", "data"}) {
                if (!contains(o.paths, path)) continue;
                const bool data_path = path == "data";
                const ssldyn::Objective& objective =
                    data_path ? static_cast<const ssldyn::Objective&>(dat) : cov;
                Matrix w = w0;
                Row r{name, d, n, k, path, retraction, {}, 0.0};
                // Model flops: W C (2kd²) or F = W S and A Sᵀ (2 · 2kd·3n); the projection,
                // retraction and elementwise work are the overhead the rate reveals.
                r.flops = data_path ? 4.0 * double(k) * double(d) * 3.0 * double(n)
                                    : 2.0 * double(k) * double(d) * double(d);
                r.time = time_it(o.warmup, o.reps,
                                 [&] { sink = sink + ssldyn::gradient_step(rule, objective, w); });
                report.add(r);
            }
        }
        if (contains(o.paths, "products")) {
            // The data step's two products alone, into buffers allocated once: what the step
            // would cost if everything around it were free, in both orientations. prod_wide:
            // k x 3n features, F = W S and G = A Sᵀ (BLAS m = k). prod_tall: 3n x k features,
            // Fᵀ = Sᵀ Wᵀ and Gᵀ = S Aᵀ (m = 3n and m = d), what numpy's row-major arrays give
            // OpenBLAS; OpenBLAS is markedly slower with a short m.
            using ssldyn::Op;
            const ssldyn::ConstView s = views.stacked(3);
            const Matrix w = ssldyn::initial_weights({ssldyn::Dynamics::orthogonal}, g);
            const Matrix wt = ssldyn::transpose(w);
            const double flops = 4.0 * double(k) * double(d) * 3.0 * double(n);
            {
                Matrix f(k, 3 * n), a(k, 3 * n, 1e-3), grad(k, d);
                Row r{name, d, n, k, "prod_wide", "-", {}, flops};
                r.time = time_it(o.warmup, o.reps, [&] {
                    ssldyn::gemm(Op::none, Op::none, 1.0, w, s, 0.0, f);
                    ssldyn::gemm(Op::none, Op::transpose, 1.0, a, s, 0.0, grad);
                    sink = sink + f(0, 0) + grad(0, 0);
                });
                report.add(r);
            }
            {
                Matrix ft(3 * n, k), at(3 * n, k, 1e-3), gradt(d, k);
                Row r{name, d, n, k, "prod_tall", "-", {}, flops};
                r.time = time_it(o.warmup, o.reps, [&] {
                    ssldyn::gemm(Op::transpose, Op::none, 1.0, s, wt, 0.0, ft);
                    ssldyn::gemm(Op::none, Op::none, 1.0, s, at, 0.0, gradt);
                    sink = sink + ft(0, 0) + gradt(0, 0);
                });
                report.add(r);
            }
        }
        if (contains(o.paths, "theory")) {
            // One record: the flow at t and the GD weights in the same eigen-coordinates.
            const ssldyn::StepRule rule{ssldyn::Dynamics::orthogonal, ssldyn::Retraction::qr, eta};
            const Matrix w0 = ssldyn::initial_weights(rule, g);
            const ssldyn::ClosedFormFlow flow(eigen, w0, ssldyn::Dynamics::orthogonal, 0.0);
            double t = 0.0;
            Row r{name, d, n, k, "theory", "-", {}, 2.0 * double(k) * double(d) * double(d)};
            r.time = time_it(o.warmup, o.reps, [&] {
                t += 10.0 * eta;
                const ssldyn::FlowPoint p = flow.at(t);
                const Matrix rows = ssldyn::eigen_coordinates(w0, eigen);
                sink = sink + p.rows(0, 0) + rows(0, 0);
            });
            report.add(r);
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const Options o = parse(argc, argv);
        if (o.threads > 0) ssldyn::set_blas_threads(o.threads);
        std::printf("# ssldyn_bench_step%s: float64, orthogonal GD, contrastive loss\n",
                    o.quick ? " --quick" : "");
        std::printf("# BLAS threads (ssldyn::blas_threads) = %d; OPENBLAS_NUM_THREADS=%s\n",
                    ssldyn::blas_threads(), env_or("OPENBLAS_NUM_THREADS", "(unset)"));
        std::printf("# OPENBLAS_CORETYPE=%s OPENBLAS_L2_SIZE=%s\n",
                    env_or("OPENBLAS_CORETYPE", "(unset)"), env_or("OPENBLAS_L2_SIZE", "(unset)"));
        print_openblas();
        std::printf("# timing: %d warm-up, then best and median of %d; GFLOP/s from best\n",
                    o.warmup, o.reps);
        std::printf(
            "# model flops: dgemm 2N^3, covariance step 2kd^2 (W C), data step 4kd(3n) (W S, A "
            "S^T), theory 2kd^2 (W V)\n");
        Report report(o.csv, ssldyn::blas_threads());
        report.header();
        if (o.dgemm_size > 0) bench_dgemm(o, report, "start");
        for (const std::string& name : o.data) bench_dataset(o, name, report);
        if (o.dgemm_size > 0) {
            const double start = report.dgemm_rate(), end = bench_dgemm(o, report, "end");
            print_dgemm_drift(start, end);
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ssldyn_bench_step: %s\n", e.what());
        return 2;
    }
}
