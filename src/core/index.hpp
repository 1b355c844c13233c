#pragma once
// The signed integer of sizes and indices (a pointer difference: matrices beyond 2^31 entries).
// Where BLAS, LAPACK or MPI take an int, the narrowing is checked at the call.
#include <cstddef>

namespace ssldyn {

using Index = std::ptrdiff_t;

}  // namespace ssldyn
