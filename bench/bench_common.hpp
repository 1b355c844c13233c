#pragma once
// What the benchmarks share: flag values, timing, peak memory, the BLAS in use and the dgemm
// rate every rate is compared with.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "linalg/blas.hpp"
#include "linalg/matrix.hpp"
#include "random/stream.hpp"

extern "C" {
// OpenBLAS only; weak so that the benchmarks link against any BLAS.
char* openblas_get_config() __attribute__((weak));
char* openblas_get_corename() __attribute__((weak));
}

namespace ssldyn::bench {

// "a,b,,c" -> {a, b, c}.
inline std::vector<std::string> split(const std::string& s, char by = ',') {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= s.size()) {
        const std::size_t at = std::min(s.find(by, start), s.size());
        if (at > start) out.push_back(s.substr(start, at - start));
        start = at + 1;
    }
    return out;
}

inline Index to_index(const std::string& flag, const std::string& value) {
    char* end = nullptr;
    const long long v = std::strtoll(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || v < 0)
        throw std::invalid_argument(flag + ": expected a non-negative integer, got '" + value +
                                    "'");
    return static_cast<Index>(v);
}

// Whether a flag is on the command line (--quick, whose defaults are set before the other flags
// are read, so that those win wherever they stand).
inline bool has_flag(int argc, char** argv, const std::string& flag) {
    return std::find(argv + 1, argv + argc, flag) != argv + argc;
}

// A benchmark's flags in order: --help (-h) prints usage and exits, --quick (see has_flag) is
// passed over, and every other flag takes the next word as its value: f(flag, value), which
// throws unknown_flag(flag) for a flag it does not know.
template <class F>
void for_each_flag(int argc, char** argv, const char* usage, const F& f) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& flag = args[i];
        if (flag == "--help" || flag == "-h") {
            std::fputs(usage, stdout);
            std::exit(0);
        }
        if (flag == "--quick") continue;
        if (i + 1 >= args.size()) throw std::invalid_argument(flag + ": unknown flag or no value");
        f(flag, args[++i]);
    }
}

inline std::invalid_argument unknown_flag(const std::string& flag) {
    return std::invalid_argument(flag + ": unknown flag (see --help)");
}

struct Timing {
    double best = 0.0, median = 0.0;
};

// Warm-up calls first (page faults, BLAS buffers, thread start-up), then best and median of
// the timed ones: best is what the machine can do, median shows how noisy it was.
template <class F>
Timing time_it(int warmup, int reps, F&& f) {
    for (int i = 0; i < warmup; ++i) f();
    std::vector<double> s;
    for (int i = 0; i < reps; ++i) {
        const auto start = std::chrono::steady_clock::now();
        f();
        s.push_back(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(s.begin(), s.end());
    const std::size_t m = s.size() / 2;
    return {s.front(), s.size() % 2 ? s[m] : 0.5 * (s[m - 1] + s[m])};
}

// A benchmark's --csv file: nothing when the path is empty, else opened with its header line.
// Each row is flushed at once, so that a run stopped half-way keeps the rows it measured.
class CsvFile {
  public:
    CsvFile(const std::string& path, const char* header) {
        if (path.empty()) return;
        file_.reset(std::fopen(path.c_str(), "w"));
        if (!file_) throw std::runtime_error("--csv: cannot write " + path);
        std::fprintf(file_.get(), "%s\n", header);
    }
    explicit operator bool() const { return file_ != nullptr; }

    __attribute__((format(printf, 2, 3))) void row(const char* format, ...) {
        if (!file_) return;
        std::va_list args;
        va_start(args, format);
        std::vfprintf(file_.get(), format, args);
        va_end(args);
        std::fflush(file_.get());
    }

  private:
    struct Close {
        void operator()(std::FILE* f) const { std::fclose(f); }
    };
    std::unique_ptr<std::FILE, Close> file_;
};

// The first dgemm rate of a run, of which every other rate is given as a percentage.
struct DgemmReference {
    double rate = 0.0;
    void offer(double measured) {
        if (rate == 0.0) rate = measured;
    }
    double percent(double measured) const {
        return rate > 0.0 && measured > 0.0 ? 100.0 * measured / rate : 0.0;
    }
};

// Keeps the results of timed calls observable so that nothing is optimised away.
inline volatile double sink = 0.0;

// The n x n dgemm (2n³ flops) after one warm-up, reps times: the rate a benchmark's figures
// are compared with, measured in the same process.
inline Timing dgemm_timing(Index n, int reps) {
    RandomStream stream(1, 1);
    const Matrix a = gaussian_matrix(stream, n, n), b = gaussian_matrix(stream, n, n);
    Matrix c(n, n);
    return time_it(1, reps, [&] {
        gemm(Op::none, Op::none, 1.0, a, b, 0.0, c);
        sink = sink + c(0, 0);
    });
}

// Measured at the start and again at the end: rates that differ mean something else ran on the
// machine and the figures are not to be trusted.
inline void print_dgemm_drift(double start, double end) {
    const double drift = 100.0 * std::abs(end - start) / std::max(start, end);
    std::printf("# dgemm rate start %.1f, end %.1f GFLOP/s (%.0f%% apart)%s\n", start, end, drift,
                drift > 10.0 ? ": the machine was busy, figures unreliable" : "");
}

// Peak resident memory of this process so far (ru_maxrss is in KiB on Linux).
inline double peak_rss_mib() {
    rusage self{};
    getrusage(RUSAGE_SELF, &self);
    return static_cast<double>(self.ru_maxrss) / 1024.0;
}

inline const char* env_or(const char* name, const char* fallback) {
    const char* v = std::getenv(name);
    return v ? v : fallback;
}

// The OpenBLAS build and the core it chose, as a comment line (nothing for another BLAS).
inline void print_openblas() {
    if (openblas_get_config)
        std::printf("# OpenBLAS: %s, core %s\n", openblas_get_config(),
                    openblas_get_corename ? openblas_get_corename() : "?");
}

}  // namespace ssldyn::bench
