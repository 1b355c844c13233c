#pragma once
// Tall-skinny orthonormalisation: an m x n matrix A (m >= n, full column rank; W₁ᵀ at h >> d, or
// W₁ itself in the wide case of THEORY §4.3) replaced by n orthonormal columns spanning the same
// space, distributed, on any grid (a 1 x 1 grid is the serial path). Chosen by name:
//
//   householder     Q of A = QR with diag(R) > 0 (pdgeqrf + pdorgqr): 4mn² − 4n³/3 flops, the
//                   reference; stable for any A.
//   cholesky_qr2    the same Q (it is unique) from R = chol(AᵀA), Q = AR⁻¹, done twice
//                   (Yamamoto et al. 2015): 4mn² + 2n³/3 flops, all in Level-3 products, one
//                   reduction of an n x n Gram matrix per pass. Stable only when AᵀA is not too
//                   ill-conditioned: falls back to householder (see cholesky_qr2_condition_limit).
//   polar_svd       the polar factor U Vᵀ of A = U Σ Vᵀ, the orthonormal matrix nearest to A:
//                   householder, then the n x n SVD R = U_R Σ Vᵀ (LAPACK, on every rank),
//                   Q U_R Vᵀ; 4mn² + 2mn² + O(n³) flops.
//   newton_schulz   the same polar factor by X ← X(3I − XᵀX)/2 from X₀ = A/‖AᵀA‖₁^½ (pdsyrk and
//                   pdgemm only): 3mn² flops an iteration; a few iterations when A is near
//                   orthonormal (a retraction step), more from afar (see newton_schulz_tolerance).
//
// QR methods and polar methods give different orthonormal bases of the same space (Q and
// Q U_R Vᵀ differ by a rotation); within each family the methods agree to round-off.
#include "core/names.hpp"
#include "linalg/blacs.hpp"

namespace ssldyn {

enum class Orthonormalisation { automatic, householder, cholesky_qr2, polar_svd, newton_schulz };

inline constexpr NameTable<Orthonormalisation, 5> orthonormalisation_names{{
    {Orthonormalisation::automatic, "auto"},
    {Orthonormalisation::householder, "householder"},
    {Orthonormalisation::cholesky_qr2, "cholesky_qr2"},
    {Orthonormalisation::polar_svd, "polar_svd"},
    {Orthonormalisation::newton_schulz, "newton_schulz"},
}};

// `auto` picks the QR factor (it never silently switches to the polar one): cholesky_qr2 when
// m >= 2n, where its Level-3 passes beat Householder's panels and a random or near-orthonormal
// matrix is well conditioned, householder otherwise (near square, the Gram matrix squares a
// larger condition number and Householder needs fewer flops).
Orthonormalisation resolve(Orthonormalisation method, Index m, Index n);

// CholeskyQR's first pass leaves ‖QᵀQ − I‖ ≈ κ(AᵀA)·u·c(m, n), and the second pass restores
// O(u) only while that is well below 1 (Yamamoto et al. 2015 prove it for κ(AᵀA) ≲ 1/(64mnu)).
// Falling back above κ₁(AᵀA) = 1/√u ≈ 6.7e7 (κ₂(A) ≈ 8e3) leaves the first pass an error of at most
// √u·c ≈ 1e-8·c, a margin of 10⁶ for the constants; pdpocon's estimate is within a factor n of
// κ₂(AᵀA), and a failed pdpotrf (κ ≳ 1/u) falls back too.
inline constexpr double cholesky_qr2_condition_limit = 6.7e7;

// Newton–Schulz stops after the update made at ‖XᵀX − I‖_F <= tolerance: that update leaves
// 3e²/4 + rounding ≈ u (the iteration squares the error: I + E → I − 3E²/4 + O(E³)).
inline constexpr double newton_schulz_tolerance = 1.5e-8;  // ≈ √u
inline constexpr int newton_schulz_max_iterations = 100;

struct OrthonormalisationReport {
    Orthonormalisation method = Orthonormalisation::automatic;  // as resolved, never automatic
    bool fell_back = false;     // cholesky_qr2 handed over to householder
    double gram_condition = 0;  // cholesky_qr2: κ₁(AᵀA) estimate, infinite if pdpotrf failed
    int iterations = 0;         // newton_schulz: updates made
};

// A <- orthonormal columns spanning A's columns (in place; a second m x n matrix is held
// transiently by the polar methods). Throws when newton_schulz does not converge (A rank
// deficient or κ(A) beyond ~1e15).
OrthonormalisationReport orthonormalise(Orthonormalisation method, DistributedMatrix& a);

}  // namespace ssldyn
