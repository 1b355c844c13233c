#include "linalg/blacs.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/error.hpp"

extern "C" {
// Debian ships no headers for BLACS or ScaLAPACK: the prototypes live here, once.
int Csys2blacs_handle(ssldyn::mpi::Communicator::Handle comm);
void Cfree_blacs_system_handle(int handle);
void Cblacs_gridinit(int* context, const char* order, int nprow, int npcol);
void Cblacs_gridinfo(int context, int* nprow, int* npcol, int* myrow, int* mycol);
int Cblacs_pnum(int context, int prow, int pcol);
void Cblacs_gridexit(int context);
int numroc_(const int* n, const int* nb, const int* iproc, const int* isrcproc, const int* nprocs);
void descinit_(int* desc, const int* m, const int* n, const int* mb, const int* nb,
               const int* irsrc, const int* icsrc, const int* ictxt, const int* lld, int* info);
void pdgemr2d_(const int* m, const int* n, const double* a, const int* ia, const int* ja,
               const int* desca, double* b, const int* ib, const int* jb, const int* descb,
               const int* ictxt);
}

namespace ssldyn {

namespace {

using Descriptor = std::array<int, 9>;

// Rows (or columns) of an n-long dimension in blocks of nb that process `me` of `procs` holds
// when the first block sits on process `first`.
int local_count(Index n, Index nb, int me, int first, int procs) {
    const int ni = fortran_int(n, "numroc"), nbi = fortran_int(nb, "numroc");
    return numroc_(&ni, &nbi, &me, &first, &procs);
}

Descriptor make_descriptor(Index m, Index n, Index mb, Index nb, int first_row, int first_col,
                           int context, Index lld) {
    Descriptor desc{};
    const int mi = fortran_int(m, "descinit"), ni = fortran_int(n, "descinit");
    const int mbi = fortran_int(mb, "descinit"), nbi = fortran_int(nb, "descinit");
    const int lldi = fortran_int(lld, "descinit");
    int info = 0;
    descinit_(desc.data(), &mi, &ni, &mbi, &nbi, &first_row, &first_col, &context, &lldi, &info);
    if (info != 0)
        throw RuntimeFailure("descinit: argument " + std::to_string(-info) + " is invalid");
    return desc;
}

// Descriptor of a whole m x n matrix held by grid process (row, col) alone, as one block with
// leading dimension ld there: the form in which pdgemr2d scatters from and gathers to one rank.
Descriptor one_block(const BlacsGrid& grid, int row, int col, Index m, Index n, Index ld) {
    // descinit wants ld >= m on every process of the holder's process row, holder or not.
    const Index lld = grid.my_row() != row ? 1 : grid.my_col() == col ? ld : m;
    return make_descriptor(m, n, std::max<Index>(1, m), std::max<Index>(1, n), row, col,
                           grid.context(), std::max<Index>(1, lld));
}

void remap(Index m, Index n, const double* a, const Descriptor& desc_a, double* b,
           const Descriptor& desc_b, int context) {
    if (m == 0 || n == 0) return;
    const int mi = fortran_int(m, "pdgemr2d"), ni = fortran_int(n, "pdgemr2d"), one = 1;
    // A rank without local data may hand an empty buffer; pdgemr2d never reads it then.
    double dummy = 0;
    pdgemr2d_(&mi, &ni, a ? a : &dummy, &one, &one, desc_a.data(), b ? b : &dummy, &one, &one,
              desc_b.data(), &context);
}

void check_root(const BlacsGrid& grid, int root) {
    if (root < 0 || root >= grid.size())
        throw InputError("root rank " + std::to_string(root) + " is not in a grid of " +
                         std::to_string(grid.size()) + " ranks");
}

}  // namespace

BlacsGrid::BlacsGrid(const mpi::Communicator& comm, int p, int q)
    : p_(p), q_(q), own_(comm.split(0, comm.rank())) {
    if (p < 1 || q < 1 || p * q != comm.size())
        throw InputError("process grid " + std::to_string(p) + "x" + std::to_string(q) +
                         " does not match " + std::to_string(comm.size()) + " ranks");
    system_handle_ = Csys2blacs_handle(own_.handle());
    context_ = system_handle_;
    Cblacs_gridinit(&context_, "Row", p, q);
    int pp = 0, qq = 0;
    Cblacs_gridinfo(context_, &pp, &qq, &my_row_, &my_col_);
    if (pp != p || qq != q || my_row_ < 0)
        throw RuntimeFailure("Cblacs_gridinit: grid was not created as requested");
    // rank_of() and the row-block and one-rank layouts rely on this numbering.
    if (Cblacs_pnum(context_, my_row_, my_col_) != comm.rank() ||
        rank_of(my_row_, my_col_) != comm.rank())
        throw RuntimeFailure("Cblacs_gridinit: grid processes are not in row-major rank order");
}

BlacsGrid BlacsGrid::square(const mpi::Communicator& comm) {
    const int size = comm.size();
    int q = static_cast<int>(std::sqrt(static_cast<double>(size)));
    while (size % q != 0) --q;
    return BlacsGrid(comm, size / q, q);
}

BlacsGrid BlacsGrid::tall(const mpi::Communicator& comm) {
    return BlacsGrid(comm, comm.size(), 1);
}

BlacsGrid BlacsGrid::for_shape(const mpi::Communicator& comm, Index m, Index n) {
    const int size = comm.size();
    const double aspect = std::log(static_cast<double>(std::max<Index>(m, 1))) -
                          std::log(static_cast<double>(std::max<Index>(n, 1)));
    int best = size;
    for (int p = size; p >= 1; --p) {
        if (size % p != 0) continue;
        const auto distance = [&](int rows) {
            return std::abs(std::log(static_cast<double>(rows) / (size / rows)) - aspect);
        };
        if (distance(p) < distance(best)) best = p;
    }
    return BlacsGrid(comm, best, size / best);
}

BlacsGrid BlacsGrid::serial() {
    return BlacsGrid(mpi::Communicator::self(), 1, 1);
}

BlacsGrid::~BlacsGrid() {
    if (context_ >= 0) Cblacs_gridexit(context_);
    if (system_handle_ >= 0) Cfree_blacs_system_handle(system_handle_);
}

DistributedMatrix::DistributedMatrix(const BlacsGrid& grid, Index m, Index n, Index mb, Index nb)
    : grid_(&grid), m_(m), n_(n), mb_(mb), nb_(nb) {
    if (mb < 1 || nb < 1) throw InputError("block size must be positive");
    const int local_rows = local_count(m, mb, grid.my_row(), 0, grid.rows());
    const int local_cols = local_count(n, nb, grid.my_col(), 0, grid.cols());
    local_ = Matrix(local_rows, local_cols);
    desc_ = make_descriptor(m, n, mb, nb, 0, 0, grid.context(), std::max(1, local_rows));
}

Index DistributedMatrix::global_row(Index i) const {
    return ((i / mb_) * grid_->rows() + grid_->my_row()) * mb_ + i % mb_;
}

Index DistributedMatrix::global_col(Index j) const {
    return ((j / nb_) * grid_->cols() + grid_->my_col()) * nb_ + j % nb_;
}

Index DistributedMatrix::local_row(Index i) const {
    if ((i / mb_) % grid_->rows() != grid_->my_row()) return -1;
    return (i / (mb_ * grid_->rows())) * mb_ + i % mb_;
}

Index DistributedMatrix::local_col(Index j) const {
    if ((j / nb_) % grid_->cols() != grid_->my_col()) return -1;
    return (j / (nb_ * grid_->cols())) * nb_ + j % nb_;
}

void scale(double alpha, DistributedMatrix& a) {
    scale(alpha, a.local().view());
}

void add_to_diagonal(double alpha, DistributedMatrix& a) {
    for (Index jl = 0; jl < a.local().cols(); ++jl) {
        const Index j = a.global_col(jl);
        const Index il = j < a.rows() ? a.local_row(j) : -1;
        if (il >= 0) a.local()(il, jl) += alpha;
    }
}

DistributedMatrix DistributedMatrix::scatter(const BlacsGrid& grid, ConstView global, Index mb,
                                             Index nb) {
    DistributedMatrix out(grid, global.rows, global.cols, mb, nb);
    for (Index j = 0; j < out.local_.cols(); ++j)
        for (Index i = 0; i < out.local_.rows(); ++i)
            out.local_(i, j) = global(out.global_row(i), out.global_col(j));
    return out;
}

DistributedMatrix DistributedMatrix::scatter_from(const BlacsGrid& grid, int root, ConstView global,
                                                  Index mb, Index nb) {
    check_root(grid, root);
    // Root's shape, and whether its view is one ScaLAPACK can read: every rank must know,
    // so that all of them throw or none.
    long shape[3] = {static_cast<long>(global.rows), static_cast<long>(global.cols),
                     global.ld >= std::max<Index>(1, global.rows) ? 1L : 0L};
    grid.communicator().broadcast(shape, 3, root);
    if (shape[2] == 0) throw RuntimeFailure("scatter_from: leading dimension below the row count");
    DistributedMatrix out(grid, shape[0], shape[1], mb, nb);
    const int row = root / grid.cols(), col = root % grid.cols();
    const Descriptor whole = one_block(grid, row, col, out.m_, out.n_, global.ld);
    remap(out.m_, out.n_, global.data, whole, out.local_.data(), out.desc_, grid.context());
    return out;
}

DistributedMatrix DistributedMatrix::from_row_blocks(const BlacsGrid& grid, ConstView my_rows,
                                                     Index mb, Index nb) {
    const int size = grid.size();
    const long mine[2] = {static_cast<long>(my_rows.rows), static_cast<long>(my_rows.cols)};
    const std::vector<long> shapes = grid.communicator().all_gather(mine, 2);
    // first[r]: global index of rank r's first row.
    std::vector<Index> first(static_cast<std::size_t>(size) + 1, 0);
    const Index n = shapes[1];
    for (int r = 0; r < size; ++r) {
        const auto ri = static_cast<std::size_t>(r);
        if (shapes[2 * ri + 1] != n)
            throw InputError("from_row_blocks: rank " + std::to_string(r) + " holds " +
                             std::to_string(shapes[2 * ri + 1]) + " columns, rank 0 " +
                             std::to_string(n));
        first[ri + 1] = first[ri] + shapes[2 * ri];
    }
    const int me = grid.rank_of(grid.my_row(), grid.my_col());
    DistributedMatrix out(grid, first.back(), n, mb, nb);
    const Matrix& local = out.local_;
    const Index my_first = first[static_cast<std::size_t>(me)];

    // What I send: each of my rows goes to one process row, each column to one process column.
    std::vector<long> send_count(static_cast<std::size_t>(size), 0);
    std::vector<Index> rows_to(static_cast<std::size_t>(grid.rows()), 0);
    std::vector<Index> cols_to(static_cast<std::size_t>(grid.cols()), 0);
    for (Index i = 0; i < my_rows.rows; ++i) ++rows_to[((my_first + i) / mb) % grid.rows()];
    for (Index j = 0; j < n; ++j) ++cols_to[(j / nb) % grid.cols()];
    for (int pr = 0; pr < grid.rows(); ++pr)
        for (int pc = 0; pc < grid.cols(); ++pc)
            send_count[static_cast<std::size_t>(grid.rank_of(pr, pc))] =
                rows_to[static_cast<std::size_t>(pr)] * cols_to[static_cast<std::size_t>(pc)];

    // What I receive from rank s: my local rows [lo[s], lo[s + 1]) (global rows ascend with the
    // local index, and the ranks' row ranges ascend with the rank), all my local columns.
    std::vector<Index> lo(static_cast<std::size_t>(size) + 1, local.rows());
    for (int s = size - 1; s >= 0; --s) {
        Index i = lo[static_cast<std::size_t>(s) + 1];
        while (i > 0 && out.global_row(i - 1) >= first[static_cast<std::size_t>(s)]) --i;
        lo[static_cast<std::size_t>(s)] = i;
    }
    std::vector<long> recv_count(static_cast<std::size_t>(size));
    for (int s = 0; s < size; ++s) {
        const auto si = static_cast<std::size_t>(s);
        recv_count[si] = (lo[si + 1] - lo[si]) * local.cols();
    }

    const auto displacements = [](const std::vector<long>& counts) {
        std::vector<long> out_disp(counts.size(), 0);
        for (std::size_t r = 1; r < counts.size(); ++r)
            out_disp[r] = out_disp[r - 1] + counts[r - 1];
        return out_disp;
    };
    const std::vector<long> send_disp = displacements(send_count);
    const std::vector<long> recv_disp = displacements(recv_count);

    // Pack column by column, rows ascending: the order in which the receiver walks its blocks.
    std::vector<double> send(static_cast<std::size_t>(my_rows.rows * n));
    std::vector<long> next = send_disp;
    for (Index j = 0; j < n; ++j) {
        const int pc = static_cast<int>((j / nb) % grid.cols());
        for (Index i = 0; i < my_rows.rows; ++i) {
            const int pr = static_cast<int>(((my_first + i) / mb) % grid.rows());
            send[static_cast<std::size_t>(next[static_cast<std::size_t>(grid.rank_of(pr, pc))]++)] =
                my_rows(i, j);
        }
    }
    std::vector<double> received(static_cast<std::size_t>(local.size()));
    grid.communicator().all_to_all(send.data(), send_count, send_disp, received.data(), recv_count,
                                   recv_disp);
    send = {};
    for (int s = 0; s < size; ++s) {
        const auto si = static_cast<std::size_t>(s);
        std::size_t at = static_cast<std::size_t>(recv_disp[si]);
        for (Index j = 0; j < local.cols(); ++j)
            for (Index i = lo[si]; i < lo[si + 1]; ++i) out.local_(i, j) = received[at++];
    }
    return out;
}

Matrix DistributedMatrix::to_row_blocks(Index my_row_count) const {
    const int size = grid_->size();
    const long mine = static_cast<long>(my_row_count);
    const std::vector<long> counts = grid_->communicator().all_gather(&mine, 1);
    Index total = 0;
    for (const long c : counts) total += c;
    if (total != m_)
        throw InputError("to_row_blocks: the ranks ask for " + std::to_string(total) +
                         " rows of a matrix of " + std::to_string(m_));
    const int me = grid_->rank_of(grid_->my_row(), grid_->my_col());
    Matrix out(my_row_count, n_);
    const int context = grid_->context();
    // One pdgemr2d per rank, each moving that rank's rows to it as one block.
    Index first = 0;
    for (int r = 0; r < size; ++r) {
        const Index rows = counts[static_cast<std::size_t>(r)];
        if (rows > 0 && n_ > 0) {
            const Descriptor target =
                one_block(*grid_, r / grid_->cols(), r % grid_->cols(), rows, n_, rows);
            const int mi = fortran_int(rows, "pdgemr2d"), ni = fortran_int(n_, "pdgemr2d");
            const int ia = fortran_int(first + 1, "pdgemr2d"), one = 1;
            double dummy = 0;
            pdgemr2d_(&mi, &ni, local_.empty() ? &dummy : local_.data(), &ia, &one, desc_.data(),
                      r == me ? out.data() : &dummy, &one, &one, target.data(), &context);
        }
        first += rows;
    }
    return out;
}

Matrix DistributedMatrix::gather() const {
    Matrix global(m_, n_);
    for (Index j = 0; j < local_.cols(); ++j)
        for (Index i = 0; i < local_.rows(); ++i)
            global(global_row(i), global_col(j)) = local_(i, j);
    // Each entry is owned by exactly one rank, so a sum assembles the matrix.
    grid_->communicator().sum(global.data(), global.size());
    return global;
}

Matrix DistributedMatrix::gather_to(int root) const {
    check_root(*grid_, root);
    const int row = root / grid_->cols(), col = root % grid_->cols();
    const bool holder = grid_->my_row() == row && grid_->my_col() == col;
    Matrix global = holder ? Matrix(m_, n_) : Matrix();
    const Descriptor whole = one_block(*grid_, row, col, m_, n_, m_);
    remap(m_, n_, local_.data(), desc_, global.data(), whole, grid_->context());
    return global;
}

DistributedMatrix DistributedMatrix::redistribute(const BlacsGrid& grid, Index mb, Index nb) const {
    DistributedMatrix out(grid, m_, n_, mb, nb);
    copy(*this, out);
    return out;
}

void copy(const DistributedMatrix& a, DistributedMatrix& b) {
    if (a.rows() != b.rows() || a.cols() != b.cols())
        throw RuntimeFailure("copy: shape mismatch between distributed matrices");
    if (!a.grid().communicator().same_processes(b.grid().communicator()))
        throw RuntimeFailure("copy: the two grids are not over the same processes");
    Descriptor desc_a{}, desc_b{};
    std::copy_n(a.descriptor(), 9, desc_a.begin());
    std::copy_n(b.descriptor(), 9, desc_b.begin());
    remap(a.rows(), a.cols(), a.local().data(), desc_a, b.local().data(), desc_b,
          b.grid().context());
}

}  // namespace ssldyn
