#pragma once
// Flag values of the benchmarks: lists and counts.
#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "linalg/matrix.hpp"

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

}  // namespace ssldyn::bench
