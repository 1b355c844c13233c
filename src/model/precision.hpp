#pragma once
// The precision of the two-layer model's passes through the data: float64, or float32 for the
// products and σ over the (samples) x (units) activity, with the weights, the loss, the steps,
// the records and the reference flow in double. float32 rounds each entry to about 6e-8 relative;
// that is to stay below GD's O(η) distance to the flow of THEORY §4 (tests/unit/test_two_layer.cpp
// measures both).
#include "core/names.hpp"

namespace ssldyn {

enum class Precision { float64, float32 };

inline constexpr NameTable<Precision, 2> precision_names{{
    {Precision::float64, "float64"},
    {Precision::float32, "float32"},
}};

}  // namespace ssldyn
