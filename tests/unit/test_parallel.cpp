// parallel_ranges (core/parallel.hpp): for any thread count, the ranges cover [0, count) once,
// without overlap, and the calling thread takes the first.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "core/parallel.hpp"

using namespace ssldyn;

TEST(ParallelRanges, CoverEveryIndexOnceForAnyThreadCount) {
    for (Index count : {Index{0}, Index{1}, Index{5}, Index{10}, Index{1100}})
        for (int threads : {0, 1, 2, 3, 4, 16}) {
            std::vector<std::atomic<int>> seen(static_cast<std::size_t>(count));
            std::atomic<bool> first_here{false};
            const std::thread::id caller = std::this_thread::get_id();
            parallel_ranges(count, threads, [&](Index first, Index size) {
                if (first == 0) first_here = std::this_thread::get_id() == caller;
                for (Index i = first; i < first + size; ++i) ++seen[static_cast<std::size_t>(i)];
            });
            for (Index i = 0; i < count; ++i) {
                EXPECT_EQ(seen[static_cast<std::size_t>(i)], 1)
                    << "count " << count << ", threads " << threads << ", index " << i;
            }
            if (count > 0) {
                EXPECT_TRUE(first_here) << count << " " << threads;
            }
        }
}
