#include "linalg/blacs.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <string>

#include "core/error.hpp"
#include "linalg/blas.hpp"

extern "C" {
// Debian ships no headers for BLACS or ScaLAPACK: the prototypes live here, once.
int Csys2blacs_handle(MPI_Comm comm);
void Cfree_blacs_system_handle(int handle);
void Cblacs_gridinit(int* context, const char* order, int nprow, int npcol);
void Cblacs_gridinfo(int context, int* nprow, int* npcol, int* myrow, int* mycol);
void Cblacs_gridexit(int context);
int numroc_(const int* n, const int* nb, const int* iproc, const int* isrcproc, const int* nprocs);
void descinit_(int* desc, const int* m, const int* n, const int* mb, const int* nb,
               const int* irsrc, const int* icsrc, const int* ictxt, const int* lld, int* info);
void pdgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
             const double* alpha, const double* a, const int* ia, const int* ja, const int* desca,
             const double* b, const int* ib, const int* jb, const int* descb, const double* beta,
             double* c, const int* ic, const int* jc, const int* descc);
}

namespace ssldyn {

namespace {}  // namespace

BlacsGrid::BlacsGrid(const mpi::Communicator& comm, int p, int q)
    : p_(p), q_(q), comm_(comm.handle()) {
    if (p < 1 || q < 1 || p * q != comm.size())
        throw InputError("process grid " + std::to_string(p) + "x" + std::to_string(q) +
                         " does not match " + std::to_string(comm.size()) + " ranks");
    system_handle_ = Csys2blacs_handle(comm.handle());
    context_ = system_handle_;
    Cblacs_gridinit(&context_, "Row", p, q);
    int pp = 0, qq = 0;
    Cblacs_gridinfo(context_, &pp, &qq, &my_row_, &my_col_);
    if (pp != p || qq != q || my_row_ < 0)
        throw RuntimeFailure("Cblacs_gridinit: grid was not created as requested");
}

BlacsGrid BlacsGrid::square(const mpi::Communicator& comm) {
    const int size = comm.size();
    int q = static_cast<int>(std::sqrt(static_cast<double>(size)));
    while (size % q != 0) --q;
    return BlacsGrid(comm, size / q, q);
}

BlacsGrid::~BlacsGrid() {
    if (context_ >= 0) Cblacs_gridexit(context_);
    if (system_handle_ >= 0) Cfree_blacs_system_handle(system_handle_);
}

DistributedMatrix::DistributedMatrix(const BlacsGrid& grid, Index m, Index n, Index mb, Index nb)
    : grid_(&grid), m_(m), n_(n), mb_(mb), nb_(nb) {
    if (mb < 1 || nb < 1) throw InputError("block size must be positive");
    const int mi = fortran_int(m, "DistributedMatrix"), ni = fortran_int(n, "DistributedMatrix");
    const int mbi = fortran_int(mb, "DistributedMatrix"),
              nbi = fortran_int(nb, "DistributedMatrix");
    const int zero = 0, p = grid.rows(), q = grid.cols(), r = grid.my_row(), c = grid.my_col();
    const int local_rows = numroc_(&mi, &mbi, &r, &zero, &p);
    const int local_cols = numroc_(&ni, &nbi, &c, &zero, &q);
    local_ = Matrix(local_rows, local_cols);
    const int lld = std::max(1, local_rows), context = grid.context();
    int info = 0;
    descinit_(desc_.data(), &mi, &ni, &mbi, &nbi, &zero, &zero, &context, &lld, &info);
    if (info != 0)
        throw RuntimeFailure("descinit: argument " + std::to_string(-info) + " is invalid");
}

Index DistributedMatrix::global_row(Index i) const {
    return ((i / mb_) * grid_->rows() + grid_->my_row()) * mb_ + i % mb_;
}

Index DistributedMatrix::global_col(Index j) const {
    return ((j / nb_) * grid_->cols() + grid_->my_col()) * nb_ + j % nb_;
}

DistributedMatrix DistributedMatrix::scatter(const BlacsGrid& grid, ConstView global, Index mb,
                                             Index nb) {
    DistributedMatrix out(grid, global.rows, global.cols, mb, nb);
    for (Index j = 0; j < out.local_.cols(); ++j)
        for (Index i = 0; i < out.local_.rows(); ++i)
            out.local_(i, j) = global(out.global_row(i), out.global_col(j));
    return out;
}

Matrix DistributedMatrix::gather() const {
    Matrix global(m_, n_);
    for (Index j = 0; j < local_.cols(); ++j)
        for (Index i = 0; i < local_.rows(); ++i)
            global(global_row(i), global_col(j)) = local_(i, j);
    // Each entry is owned by exactly one rank, so a sum assembles the matrix.
    MPI_Comm comm = grid_->comm();
    const long count = static_cast<long>(global.size());
    for (long done = 0; done < count;) {
        const int chunk = static_cast<int>(std::min<long>(count - done, INT_MAX / 2));
        mpi::check(
            MPI_Allreduce(MPI_IN_PLACE, global.data() + done, chunk, MPI_DOUBLE, MPI_SUM, comm),
            "MPI_Allreduce");
        done += chunk;
    }
    return global;
}

void pgemm(Op op_a, Op op_b, double alpha, const DistributedMatrix& a, const DistributedMatrix& b,
           double beta, DistributedMatrix& c) {
    const Index m = op_a == Op::none ? a.rows() : a.cols();
    const Index k = op_a == Op::none ? a.cols() : a.rows();
    const Index kb = op_b == Op::none ? b.rows() : b.cols();
    const Index n = op_b == Op::none ? b.cols() : b.rows();
    if (k != kb || c.rows() != m || c.cols() != n) throw RuntimeFailure("pdgemm: shape mismatch");
    const char ta = op_a == Op::none ? 'N' : 'T', tb = op_b == Op::none ? 'N' : 'T';
    const int mi = fortran_int(m, "pdgemm"), ni = fortran_int(n, "pdgemm"),
              ki = fortran_int(k, "pdgemm");
    const int one = 1;
    pdgemm_(&ta, &tb, &mi, &ni, &ki, &alpha, a.local().data(), &one, &one, a.descriptor(),
            b.local().data(), &one, &one, b.descriptor(), &beta, c.local().data(), &one, &one,
            c.descriptor());
}

}  // namespace ssldyn
