#pragma once
// Retractions onto the Stiefel manifold {W : W Wᵀ = I_k} (THEORY §4.2), chosen by name.
#include "core/names.hpp"
#include "linalg/matrix.hpp"

namespace ssldyn {

enum class Retraction { automatic, qr, polar };

inline constexpr NameTable<Retraction, 3> retraction_names{{
    {Retraction::automatic, "auto"},
    {Retraction::qr, "qr"},
    {Retraction::polar, "polar"},
}};

// `auto` looks at the shape: polar (second order, the closest orthonormal matrix) while its
// thin SVD is cheap, QR (first order, about 4x fewer flops than the SVD) for large k.
Retraction resolve(Retraction method, Index k, Index d);

// Orthonormal factor of the QR of Zᵀ with diag(R) > 0, transposed back: k x d.
Matrix retract_qr(const Matrix& z);
// U Vᵀ from the thin SVD Z = U Σ Vᵀ.
Matrix retract_polar(const Matrix& z);
Matrix retract(Retraction method, const Matrix& z);

}  // namespace ssldyn
