#pragma once
// Retractions onto the Stiefel manifold {W : W Wᵀ = I_k} (THEORY §4.2), chosen by name.
//
// A retraction R_W(ξ) maps a tangent vector ξ at W (row form: W is k x d with orthonormal rows,
// ξ is k x d with ξWᵀ skew-symmetric) back onto the manifold, with R_W(0) = W and
// R_W(tξ) = W + tξ + O(t²). Gradient descent steps with W ← R_W(−η grad L). The four methods:
//
//   qr        orthonormal factor of the QR of (W + ξ)ᵀ with diag(R) > 0, transposed back
//   polar     U Vᵀ from the thin SVD W + ξ = U Σ Vᵀ (the closest orthonormal matrix to W + ξ)
//   cayley    Wen & Yin (2013): the Cayley transform (I + A/2)⁻¹(I − A/2) of a skew d x d
//             generator A of rank ≤ 2k with −A Wᵀ = ξᵀ, applied through the Sherman–Morrison–
//             Woodbury identity: one 2k x 2k solve, never a d x d one
//   geodesic  Edelman, Arias & Smith (1998): the exact Grassmann geodesic along the horizontal
//             part of ξ, from its thin SVD; the vertical part (a rotation of the frame, invisible
//             on the Grassmannian) is applied as the Cayley transform of a k x k skew matrix
//
// QR and polar give the same row space (both orthonormalise W + ξ), so Grassmann trajectories of
// QR and polar GD coincide. For horizontal ξ (ξWᵀ = 0, as every GD step here) polar, Cayley and
// the geodesic agree to O(|ξ|³) and differ from QR at O(|ξ|²) only by a rotation of the frame.
#include <array>
#include <string_view>

#include "core/names.hpp"
#include "linalg/distribution.hpp"
#include "linalg/matrix.hpp"
#include "linalg/orthonormalise.hpp"

namespace ssldyn {

enum class Retraction { automatic, qr, polar, cayley, geodesic };

// One row per retraction: besides its replicated form, whether it has one for a tall matrix
// spread over a BLACS grid (W₁ of a wide network sharded over a run group, or W with k·d above
// --distribute-above), and the orthonormalisation of linalg/orthonormalise.hpp that computes it
// there: qr its QR factor (cholesky_qr2, or householder), polar its polar factor (polar_svd).
// Cayley and the geodesic, O(k²d) in k x k solves, have none and stay replicated. `auto` takes
// the form of the method it resolves to, which has one.
struct RetractionRow {
    Retraction value;
    std::string_view name;
    bool distributed;
    Orthonormalisation orthonormalisation;  // when distributed (for auto: none of its own)
};

inline constexpr std::array<RetractionRow, 5> retraction_table{{
    {Retraction::automatic, "auto", true, Orthonormalisation::automatic},
    {Retraction::qr, "qr", true, Orthonormalisation::automatic},
    {Retraction::polar, "polar", true, Orthonormalisation::polar_svd},
    {Retraction::cayley, "cayley", false, Orthonormalisation::automatic},
    {Retraction::geodesic, "geodesic", false, Orthonormalisation::automatic},
}};

inline constexpr NameTable<Retraction, 5> retraction_names = name_table(retraction_table);

static_assert(in_enumeration_order(retraction_table), "one row per value, in order");

constexpr const RetractionRow& row_of(Retraction method) {
    return retraction_table[static_cast<std::size_t>(method)];
}

// Refuses (InputError naming `retraction`) a method without a distributed form, for `where` it
// would be needed ("a W₁ sharded over the run group"), naming the methods that have one and
// `otherwise`, another way out ("raise --distribute-above"), when given.
void require_distributed_form(Retraction method, std::string_view where,
                              std::string_view otherwise = {});

// `auto` looks at the shape: polar (second order, the closest orthonormal matrix) while its
// thin SVD is cheap, QR (first order, about 4x fewer flops than the SVD) for large k.
Retraction resolve(Retraction method, Index k, Index d);

// R_W(ξ): w k x d with orthonormal rows, step k x d tangent at w (−η·grad for a GD step).
// Returns k x d with orthonormal rows. When the distribution spreads a d x k matrix, a method
// with a distributed form (RetractionRow) orthonormalises (W + ξ)ᵀ over the group's tall grid,
// collective over the group; the others stay replicated.
Matrix retract(Retraction method, const Matrix& w, const Matrix& step,
               const Distribution& where = {});

// The same retraction for W with orthonormal columns (d x k, k ≤ d), as the transposes: R_W(ξ) =
// R_{Wᵀ}(ξᵀ)ᵀ. Replicated QR works on W + ξ as it stands (no transposes, which cost as much as
// the QR's panels at d x k = 16384 x 784).
Matrix retract_columns(Retraction method, const Matrix& w, const Matrix& step,
                       const Distribution& where = {});

// Orthonormal rows spanning the rows of any full-rank k x d matrix z (k ≤ d), for initial
// weights: the QR factor (diag(R) > 0) when the method resolves to qr, else the polar factor.
Matrix orthonormalise_rows(Retraction method, const Matrix& z);

// The same factor for a tall m x n matrix Z (m > n, Zᵀ the k x d above) whose rows are spread
// over the ranks of a grid in contiguous blocks, in rank order (my_rows: this rank's block):
// this rank's rows of transpose(orthonormalise_rows(method, Zᵀ)), to round-off, with `auto`
// resolved for Zᵀ's shape. Collective over the grid (a P x 1 grid keeps the products local);
// methods with a distributed form only (else InputError naming `retraction`), by
// linalg/orthonormalise.hpp in square blocks of `block`. my_rows is
// released once spread, so that a rank holds at most three copies of its rows at a time.
Matrix orthonormal_columns(Retraction method, Matrix my_rows, const BlacsGrid& grid, Index block);

// Orthonormal factor of the QR of Zᵀ with diag(R) > 0, transposed back: k x d.
Matrix retract_qr(const Matrix& z);
// U Vᵀ from the thin SVD Z = U Σ Vᵀ.
Matrix retract_polar(const Matrix& z);

}  // namespace ssldyn
