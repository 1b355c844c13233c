#pragma once
// Elementwise work split over threads by contiguous ranges. Plain threads, started for the call
// and joined before it returns: between two BLAS calls an OpenMP team would leave its workers
// spinning, taking the cores from the BLAS threads of the next product.
#include <algorithm>
#include <system_error>
#include <thread>
#include <vector>

#include "core/index.hpp"

namespace ssldyn {

// f(first, count) for `threads` contiguous ranges covering [0, count), the first on the calling
// thread. f must not throw; the ranges must be independent (each result is then the same
// whatever the thread count).
template <class F>
void parallel_ranges(Index count, int threads, const F& f) {
    const Index parts = std::max<Index>(1, std::min<Index>(threads, count));
    const Index chunk = (count + parts - 1) / parts;
    std::vector<std::thread> team;
    team.reserve(static_cast<std::size_t>(parts - 1));
    Index first = chunk;
    try {
        for (; first < count; first += chunk)
            team.emplace_back(
                [&f, first, chunk, count] { f(first, std::min(chunk, count - first)); });
    } catch (const std::system_error&) {
        f(first, count - first);  // no more threads to be had: this one takes the rest
    }
    f(0, std::min(chunk, count));
    for (std::thread& t : team) t.join();
}

}  // namespace ssldyn
