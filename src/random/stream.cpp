#include "random/stream.hpp"

#include <cmath>
#include <string>

#include "core/error.hpp"

namespace ssldyn {

namespace {

__extension__ typedef unsigned __int128 u128;

// SplitMix64 finaliser: a bijective mixer that passes BigCrush on a plain counter.
std::uint64_t mix(std::uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

}  // namespace

RandomStream::RandomStream(std::uint64_t seed, std::uint64_t id0, std::uint64_t id1,
                           std::uint64_t id2)
    : key_(mix(mix(mix(mix(seed) ^ id0) ^ id1) ^ id2)) {}

std::uint64_t RandomStream::next_u64() {
    return mix(key_ ^ mix(counter_++));
}

double RandomStream::uniform() {
    // 53 random bits, shifted by half an ulp so that 0 never comes out.
    return (static_cast<double>(next_u64() >> 11) + 0.5) * 0x1.0p-53;
}

double RandomStream::normal() {
    // Box–Muller with one draw per call: both uniforms come from this stream's counter, so the
    // value at a position does not depend on what was asked before.
    const double u1 = uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

std::uint64_t RandomStream::below(std::uint64_t bound) {
    // Lemire's multiply-shift with rejection: unbiased.
    while (true) {
        const u128 product = static_cast<u128>(next_u64()) * bound;
        const auto low = static_cast<std::uint64_t>(product);
        if (low >= bound || low >= (-bound) % bound)
            return static_cast<std::uint64_t>(product >> 64);
    }
}

Matrix gaussian_matrix(RandomStream& stream, Index rows, Index cols, double sigma) {
    return gaussian_block(stream, rows, cols, {0, rows, 0, cols}, sigma);
}

Matrix gaussian_block(RandomStream& stream, Index whole_rows, Index whole_cols,
                      const MatrixBlock& block, double sigma) {
    if (block.row < 0 || block.col < 0 || block.rows < 0 || block.cols < 0 ||
        block.row + block.rows > whole_rows || block.col + block.cols > whole_cols)
        throw InputError("gaussian_block: the block is not inside the " +
                         std::to_string(whole_rows) + " x " + std::to_string(whole_cols) +
                         " matrix");
    // normal() takes two positions; entries are drawn column by column.
    constexpr std::uint64_t per_entry = 2;
    const std::uint64_t start = stream.position();
    const auto at = [&](Index i, Index j) {
        return start + per_entry * static_cast<std::uint64_t>(i + j * whole_rows);
    };
    Matrix m(block.rows, block.cols);
    for (Index j = 0; j < block.cols; ++j) {
        stream.seek(at(block.row, block.col + j));
        for (Index i = 0; i < block.rows; ++i) m(i, j) = sigma * stream.normal();
    }
    stream.seek(at(0, whole_cols));
    return m;
}

}  // namespace ssldyn
