#include "optim/retraction.hpp"

#include "linalg/blas.hpp"
#include "linalg/lapack.hpp"

namespace ssldyn {

Retraction resolve(Retraction method, Index k, Index /*d*/) {
    if (method != Retraction::automatic) return method;
    return k <= 32 ? Retraction::polar : Retraction::qr;
}

Matrix retract_qr(const Matrix& z) {
    return transpose(orthonormal_factor(transpose(z)));
}

Matrix retract_polar(const Matrix& z) {
    const Svd svd = thin_svd(z);
    return multiply(svd.u, svd.vt);
}

Matrix retract(Retraction method, const Matrix& z) {
    switch (resolve(method, z.rows(), z.cols())) {
        case Retraction::polar:
            return retract_polar(z);
        case Retraction::qr:
        case Retraction::automatic:
            break;
    }
    return retract_qr(z);
}

}  // namespace ssldyn
