// Tall-skinny orthonormalisation on the ranks of one mpirun: each method of
// linalg/orthonormalise.hpp, LAPACK dgeqrf + dorgqr in one process, and the Gram and triangular
// kernels, against this machine's dgemm rate measured in the same run, with each rank's peak
// memory against the size of its part of the matrix. `--help` lists the flags; bench/qr.sh runs
// it on 1 and 2 ranks and prints the strong-scaling ratios.
#include <mpi.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "linalg/blas.hpp"
#include "linalg/lapack.hpp"
#include "linalg/orthonormalise.hpp"
#include "linalg/scalapack.hpp"
#include "mpi/mpi.hpp"
#include "random/stream.hpp"

namespace {

using namespace ssldyn;

struct Options {
    int reps = 2;
    Index dgemm_size = 4096;  // 0 skips the dgemm reference
    std::vector<std::pair<Index, Index>> sizes{{65536, 1024}, {131072, 784}};
    std::vector<Orthonormalisation> methods{
        Orthonormalisation::householder, Orthonormalisation::cholesky_qr2,
        Orthonormalisation::polar_svd, Orthonormalisation::newton_schulz};
    bool kernels = true;
    int lapack = -1;         // -1: only when there is one rank
    Index mb = 32, nb = 32;  // best for Householder here (bench/README-qr.md)
    std::string grid = "tall";
    std::string csv;
};

const char* const usage = R"(ssldyn_bench_qr [flags]   (run under mpirun; OPENBLAS_NUM_THREADS=1)
  --quick            small sizes (8192x256, 16384x196), dgemm 1024, for a check in seconds
  --sizes LIST       m x n pairs, e.g. 65536x1024,131072x784 (the default)
  --methods LIST     householder,cholesky_qr2,polar_svd,newton_schulz (default all);
                     newton_schulz runs on a random and on a near-orthonormal input
  --reps N           timed calls per method, best and median reported (default 2)
  --dgemm N          square dgemm reference on every rank at once, 0 skips (default 4096)
  --kernels 0|1      also time the Gram (pdsyrk, pdgemm) and pdtrsm alone (default 1)
  --lapack 0|1       also time LAPACK dgeqrf + dorgqr on rank 0 (default: with one rank only)
  --nb N / --mb N    column / row block size (default 32 / 32)
  --grid G           tall (P x 1, default), square or auto (BlacsGrid::for_shape)
  --csv FILE         also write the rows as CSV (for bench/qr.sh)
)";

using ssldyn::bench::CsvFile;
using ssldyn::bench::for_each_flag;
using ssldyn::bench::has_flag;
using ssldyn::bench::split;
using ssldyn::bench::to_index;
using ssldyn::bench::unknown_flag;

Options parse(int argc, char** argv) {
    Options o;
    // --quick only changes the defaults, so the other flags still win.
    if (has_flag(argc, argv, "--quick")) {
        o.sizes = {{8192, 256}, {16384, 196}};
        o.dgemm_size = 1024;
    }
    for_each_flag(argc, argv, usage, [&](const std::string& flag, const std::string& value) {
        if (flag == "--sizes") {
            o.sizes.clear();
            for (const std::string& pair : split(value)) {
                const auto mn = split(pair, 'x');
                if (mn.size() != 2) throw std::invalid_argument("--sizes: expected MxN: " + pair);
                o.sizes.emplace_back(to_index(flag, mn[0]), to_index(flag, mn[1]));
            }
        } else if (flag == "--methods") {
            o.methods.clear();
            for (const std::string& name : split(value))
                o.methods.push_back(parse_name(orthonormalisation_names, name, "--methods"));
        } else if (flag == "--reps") {
            o.reps = std::max(1, static_cast<int>(to_index(flag, value)));
        } else if (flag == "--dgemm") {
            o.dgemm_size = to_index(flag, value);
        } else if (flag == "--kernels") {
            o.kernels = to_index(flag, value) != 0;
        } else if (flag == "--lapack") {
            o.lapack = to_index(flag, value) != 0 ? 1 : 0;
        } else if (flag == "--nb") {
            o.nb = std::max<Index>(1, to_index(flag, value));
        } else if (flag == "--mb") {
            o.mb = std::max<Index>(1, to_index(flag, value));
        } else if (flag == "--grid") {
            if (value != "tall" && value != "square" && value != "auto")
                throw std::invalid_argument("--grid: tall, square or auto");
            o.grid = value;
        } else if (flag == "--csv") {
            o.csv = value;
        } else {
            throw unknown_flag(flag);
        }
    });
    return o;
}

std::string short_number(double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2g", value);
    return text;
}

double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// Peak resident memory. Linux resets the peak (VmHWM) on writing 5 to clear_refs, so each
// measurement sees only its own peak; getrusage's maxrss is the whole run's.
bool reset_peak_memory() {
    std::ofstream refs("/proc/self/clear_refs");
    return static_cast<bool>(refs << "5");
}

double peak_memory_mib() {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind("VmHWM:", 0) == 0) return std::atof(line.c_str() + 6) / 1024.0;
    rusage self_usage{};
    getrusage(RUSAGE_SELF, &self_usage);
    return static_cast<double>(self_usage.ru_maxrss) / 1024.0;
}

double lifetime_peak_mib() {
    rusage self_usage{};
    getrusage(RUSAGE_SELF, &self_usage);
    return static_cast<double>(self_usage.ru_maxrss) / 1024.0;
}

struct Measurement {
    double best = 0, median = 0;  // seconds, the slowest rank's
    double peak_mib = 0;          // the largest rank's peak during the timed calls
};

// Each call starts together on all ranks and lasts until the slowest one is done.
Measurement measure(const mpi::Communicator& comm, int reps, const std::function<void()>& setup,
                    const std::function<void()>& call) {
    std::vector<double> seconds;
    double peak = 0;
    for (int rep = 0; rep < reps; ++rep) {
        setup();
        reset_peak_memory();
        comm.barrier();
        const double start = now();
        call();
        seconds.push_back(comm.max(now() - start));
        peak = std::max(peak, comm.max(peak_memory_mib()));
    }
    std::sort(seconds.begin(), seconds.end());
    const std::size_t mid = seconds.size() / 2;
    return {seconds.front(),
            seconds.size() % 2 ? seconds[mid] : 0.5 * (seconds[mid - 1] + seconds[mid]), peak};
}

// Per-rank dgemm rate with every rank multiplying at once (they share the memory bus), summed:
// what the ranks of this run could do together.
double dgemm_rate(const mpi::Communicator& comm, Index size) {
    RandomStream stream(5, static_cast<std::uint64_t>(comm.rank()));
    const Matrix a = gaussian_matrix(stream, size, size), b = gaussian_matrix(stream, size, size);
    Matrix c(size, size);
    double best = 1e300;
    for (int rep = 0; rep < 2; ++rep) {
        comm.barrier();
        const double start = now();
        gemm(Op::none, Op::none, 1.0, a, b, 0.0, c);
        best = std::min(best, now() - start);
    }
    const double rate = 2.0 * std::pow(static_cast<double>(size), 3) / best / 1e9;
    double total = rate;
    comm.sum(&total, 1);
    return total;
}

// The m x n test matrix, the same for every rank count: rows drawn in chunks of 4096, each from
// its own stream; each rank draws whole chunks and hands them to from_row_blocks.
DistributedMatrix test_matrix(const mpi::Communicator& comm, const BlacsGrid& grid, Index m,
                              Index n, Index mb, Index nb) {
    const Index chunk = 4096, chunks = (m + chunk - 1) / chunk;
    const Index first = chunks * comm.rank() / comm.size();
    const Index last = chunks * (comm.rank() + 1) / comm.size();
    const Index row0 = std::min(m, first * chunk), row1 = std::min(m, last * chunk);
    Matrix mine(row1 - row0, n);
    for (Index c = first; c < last; ++c) {
        const Index rows = std::min(chunk, m - c * chunk);
        RandomStream stream(1, static_cast<std::uint64_t>(m), static_cast<std::uint64_t>(n),
                            static_cast<std::uint64_t>(c));
        const Matrix block = gaussian_matrix(stream, rows, n);
        for (Index j = 0; j < n; ++j)
            for (Index i = 0; i < rows; ++i) mine(c * chunk - row0 + i, j) = block(i, j);
    }
    return DistributedMatrix::from_row_blocks(grid, mine, mb, nb);
}

// ‖QᵀQ − I‖_F, distributed.
double orthogonality_error(const DistributedMatrix& q) {
    DistributedMatrix gram(q.grid(), q.cols(), q.cols(), q.block_cols(), q.block_cols());
    psyrk(Op::transpose, 1.0, q, 0.0, gram);
    add_to_diagonal(-1.0, gram);
    return frobenius_norm(gram);
}

class Table {
  public:
    Table(const std::string& csv, int ranks, std::string grid, bool root)
        : ranks_(ranks),
          grid_(std::move(grid)),
          root_(root),
          csv_(csv,
               "impl,ranks,grid,m,n,method,input,best_s,median_s,flops,gflops,pct_dgemm,"
               "dgemm_gflops,peak_mib,local_mib,orth_err,notes") {
        if (!root_) return;
        std::printf("%-8s %-6s %7s %5s %-14s %-7s %9s %9s %8s %6s %9s %9s %6s %9s %s\n", "impl",
                    "grid", "m", "n", "method", "input", "best_s", "median_s", "GFLOP/s", "%dg",
                    "peak_MiB", "local_MiB", "peak/x", "orth_err", "notes");
    }

    void set_dgemm(double rate) { dgemm_ = rate; }

    // The reference rate as a CSV row (when: start or end), so that a summary can take the
    // better of the two: contention from other work only ever lowers a rate.
    void dgemm_row(const std::string& when, Index size, double rate) {
        csv_.row("dgemm,%d,%s,%ld,%ld,dgemm,%s,0,0,0,%.3f,100,%.3f,0,0,0,\n", ranks_, grid_.c_str(),
                 static_cast<long>(size), static_cast<long>(size), when.c_str(), rate, rate);
    }

    void row(const std::string& impl, Index m, Index n, const std::string& method,
             const std::string& input, const Measurement& t, double flops, double local_mib,
             double orth_err, const std::string& notes) {
        if (!root_) return;
        const double rate = flops > 0 ? flops / t.best / 1e9 : 0;
        const double pct = dgemm_ > 0 && rate > 0 ? 100.0 * rate / dgemm_ : 0;
        std::printf(
            "%-8s %-6s %7ld %5ld %-14s %-7s %9.3f %9.3f %8.2f %6.1f %9.0f %9.0f %6.2f %9.2e %s\n",
            impl.c_str(), grid_.c_str(), static_cast<long>(m), static_cast<long>(n), method.c_str(),
            input.c_str(), t.best, t.median, rate, pct, t.peak_mib, local_mib,
            local_mib > 0 ? t.peak_mib / local_mib : 0.0, orth_err, notes.c_str());
        std::fflush(stdout);
        csv_.row("%s,%d,%s,%ld,%ld,%s,%s,%.6f,%.6f,%.6e,%.3f,%.2f,%.3f,%.1f,%.1f,%.3e,%s\n",
                 impl.c_str(), ranks_, grid_.c_str(), static_cast<long>(m), static_cast<long>(n),
                 method.c_str(), input.c_str(), t.best, t.median, flops, rate, pct, dgemm_,
                 t.peak_mib, local_mib, orth_err, notes.c_str());
    }

  private:
    int ranks_;
    std::string grid_;
    bool root_;
    double dgemm_ = 0;
    CsvFile csv_;
};

// Flops of each method, as counted in the tables (bench/README-qr.md):
//   householder    4mn² − 4n³/3                 (dgeqrf 2mn² − 2n³/3, dorgqr the same)
//   cholesky_qr2   2(mn² + n³/3 + mn²)          (two passes of pdsyrk, pdpotrf, pdtrsm)
//   polar_svd      4mn² − 4n³/3 + 2n³ + 2mn²   (householder, U_R Vᵀ, Q·U_R Vᵀ; the n x n SVD
//                                               not counted)
//   newton_schulz  k(mn² + 2mn²)                (k updates: a Gram by pdsyrk and X·G each)
double method_flops(Orthonormalisation method, double m, double n, int iterations) {
    switch (method) {
        case Orthonormalisation::householder:
            return 4 * m * n * n - 4 * n * n * n / 3;
        case Orthonormalisation::cholesky_qr2:
            return 2 * (2 * m * n * n + n * n * n / 3);
        case Orthonormalisation::polar_svd:
            return 6 * m * n * n - 4 * n * n * n / 3 + 2 * n * n * n;
        case Orthonormalisation::newton_schulz:
            return iterations * 3 * m * n * n;
        case Orthonormalisation::automatic:
            break;
    }
    return 0;
}

void bench_size(const Options& o, const mpi::Communicator& world, const BlacsGrid& grid,
                Table& table, Index m, Index n) {
    const bool root = world.rank() == 0;
    DistributedMatrix input = test_matrix(world, grid, m, n, o.mb, o.nb);
    const double local_mib = static_cast<double>(input.local().size()) * 8.0 / 1048576.0;
    const double dm = static_cast<double>(m), dn = static_cast<double>(n);
    if (root)
        std::printf("# %ld x %ld: %.0f MiB in all, %.0f MiB on rank 0\n", static_cast<long>(m),
                    static_cast<long>(n), dm * dn * 8 / 1048576.0, local_mib);
    DistributedMatrix work = input;

    for (Orthonormalisation method : o.methods) {
        const std::string name(name_of(orthonormalisation_names, method));
        const bool two_inputs = method == Orthonormalisation::newton_schulz;
        for (const std::string kind : {"random", "near"}) {
            if (kind == "near" && !two_inputs) continue;
            // near: a retraction step, orthonormal Q (by CholeskyQR2) plus 1e-3·G/√m, G the
            // Gaussian input, so each column moves by about 1e-3. It replaces the random input
            // until the next method (no third copy: the memory floor stays input + working copy).
            if (kind == "near") {
                DistributedMatrix q = input;
                orthonormalise(Orthonormalisation::cholesky_qr2, q);
                scale(1e-3 / std::sqrt(dm), input);
                axpy(1.0, q.local(), input.local());
            }
            OrthonormalisationReport report;
            const auto setup = [&] { work = input; };
            const Measurement t =
                measure(world, o.reps, setup, [&] { report = orthonormalise(method, work); });
            std::string notes;
            if (report.fell_back) notes += "fell back to householder; ";
            if (method == Orthonormalisation::cholesky_qr2)
                notes += "kappa1(AtA) ~ " + short_number(report.gram_condition);
            if (two_inputs) notes += std::to_string(report.iterations) + " updates";
            table.row("pblas", m, n, name, kind, t, method_flops(method, dm, dn, report.iterations),
                      local_mib, orthogonality_error(work), notes);
        }
        if (two_inputs) input = test_matrix(world, grid, m, n, o.mb, o.nb);
    }

    if (o.kernels) {
        DistributedMatrix gram(grid, n, n, o.nb, o.nb);
        const Measurement syrk = measure(
            world, o.reps, [] {}, [&] { psyrk(Op::transpose, 1.0, input, 0.0, gram); });
        table.row("pblas", m, n, "gram_syrk", "random", syrk, dm * dn * dn, local_mib, 0,
                  "psyrk: AtA alone");
        const Measurement gemm_t = measure(
            world, o.reps, [] {},
            [&] { pgemm(Op::transpose, Op::none, 1.0, input, input, 0.0, gram); });
        table.row("pblas", m, n, "gram_gemm", "random", gemm_t, 2 * dm * dn * dn, local_mib, 0,
                  "pgemm(T, N): AtA alone");
        if (!cholesky(gram)) throw std::runtime_error("the test matrix's Gram is not definite");
        const Measurement trsm = measure(
            world, o.reps, [&] { work = input; }, [&] { solve_right_upper(gram, work); });
        table.row("pblas", m, n, "trsm", "random", trsm, dm * dn * dn, local_mib, 0,
                  "solve_right_upper: A R^-1 alone");
    }

    const bool lapack = o.lapack == 1 || (o.lapack == -1 && world.size() == 1);
    if (lapack) {
        const Matrix global = input.gather_to(0);
        if (root) {
            Matrix q;
            const Measurement t = measure(
                mpi::Communicator::self(), o.reps, [&] { q = Matrix(); },
                [&] { q = orthonormal_factor(global.view()); });
            Matrix g = multiply(Op::transpose, Op::none, q, q);
            for (Index i = 0; i < n; ++i) g(i, i) -= 1.0;
            table.row("lapack", m, n, "householder", "random", t,
                      method_flops(Orthonormalisation::householder, dm, dn, 0),
                      dm * dn * 8 / 1048576.0, frobenius_norm(g.view()),
                      "dgeqrf + dorgqr, one process");
        }
        world.barrier();
    }
}

}  // namespace

int main(int argc, char** argv) {
    mpi::Environment environment(argc, argv);
    const mpi::Communicator world = mpi::Communicator::world();
    const bool root = world.rank() == 0;
    try {
        const Options o = parse(argc, argv);
        const Index biggest_m = o.sizes.empty() ? 1 : o.sizes.front().first;
        const Index biggest_n = o.sizes.empty() ? 1 : o.sizes.front().second;
        const BlacsGrid grid = o.grid == "tall" ? BlacsGrid::tall(world)
                               : o.grid == "square"
                                   ? BlacsGrid::square(world)
                                   : BlacsGrid::for_shape(world, biggest_m, biggest_n);
        const std::string grid_name =
            std::to_string(grid.rows()) + "x" + std::to_string(grid.cols());
        if (root) {
            std::printf("# ssldyn_bench_qr: %d ranks on a %s grid, blocks %ldx%ld, float64\n",
                        world.size(), grid_name.c_str(), static_cast<long>(o.mb),
                        static_cast<long>(o.nb));
            std::printf("# BLAS threads per rank = %d; OPENBLAS_NUM_THREADS=%s; %s\n",
                        blas_threads(),
                        std::getenv("OPENBLAS_NUM_THREADS") ? std::getenv("OPENBLAS_NUM_THREADS")
                                                            : "(unset)",
                        mpi::library_version().c_str());
            std::printf(
                "# times: slowest rank, best and median of %d; peak: largest rank's "
                "VmHWM during the calls, %s\n",
                o.reps,
                reset_peak_memory() ? "reset before each (clear_refs)"
                                    : "NOT resettable here: lifetime peaks");
            std::printf(
                "# peak/x: peak over the rank's part of the matrix (input and working "
                "copy are held throughout: 2 is the floor)\n");
        }
        Table table(root ? o.csv : std::string(), world.size(), grid_name, root);
        double dgemm_start = 0;
        if (o.dgemm_size > 0) {
            dgemm_start = dgemm_rate(world, o.dgemm_size);
            table.set_dgemm(dgemm_start);
            table.dgemm_row("start", o.dgemm_size, dgemm_start);
            if (root)
                std::printf("# dgemm %ld^3 on every rank at once: %.1f GFLOP/s together\n",
                            static_cast<long>(o.dgemm_size), dgemm_start);
        }
        for (const auto& [m, n] : o.sizes) bench_size(o, world, grid, table, m, n);
        if (o.dgemm_size > 0) {
            const double end = dgemm_rate(world, o.dgemm_size);
            table.dgemm_row("end", o.dgemm_size, end);
            const double drift = 100.0 * std::abs(end - dgemm_start) / std::max(end, dgemm_start);
            if (root)
                std::printf("# dgemm at the end: %.1f GFLOP/s (%.0f%% from the start)%s\n", end,
                            drift, drift > 10 ? ": the machine was busy, figures unreliable" : "");
        }
        if (root)
            std::printf("# lifetime peak (getrusage maxrss) on rank 0: %.0f MiB\n",
                        lifetime_peak_mib());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ssldyn_bench_qr (rank %d): %s\n", world.rank(), e.what());
        MPI_Abort(MPI_COMM_WORLD, 2);
        return 2;
    }
}
