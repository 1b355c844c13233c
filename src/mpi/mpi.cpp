#include "mpi/mpi.hpp"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <type_traits>
#include <utility>

#include "core/error.hpp"

namespace ssldyn::mpi {

namespace {

template <class T>
MPI_Datatype datatype() {
    if constexpr (std::is_same_v<T, int>) {
        return MPI_INT;
    } else if constexpr (std::is_same_v<T, long>) {
        return MPI_LONG;
    } else if constexpr (std::is_same_v<T, double>) {
        return MPI_DOUBLE;
    } else {
        static_assert(std::is_same_v<T, char>, "no MPI datatype for this type");
        return MPI_CHAR;
    }
}

// operation(offset, chunk) over [0, count) in chunks that keep the count inside MPI's int range
// for very large matrices.
template <class Operation>
void in_chunks(long count, Operation operation) {
    for (long done = 0; done < count;) {
        const int chunk = static_cast<int>(std::min<long>(count - done, INT_MAX / 2));
        operation(done, chunk);
        done += chunk;
    }
}

// One count or offset per rank, as the ints MPI takes; throws, naming the call, when they do not
// fit or are not one per rank.
std::vector<int> ints(const std::vector<long>& values, std::size_t ranks, const char* call) {
    if (values.size() != ranks)
        throw RuntimeFailure(std::string(call) + ": " + std::to_string(values.size()) +
                             " counts or offsets for " + std::to_string(ranks) + " ranks");
    std::vector<int> out(values.size());
    for (std::size_t r = 0; r < values.size(); ++r) {
        if (values[r] < 0 || values[r] > INT_MAX)
            throw RuntimeFailure(std::string(call) + ": " + std::to_string(values[r]) +
                                 " is outside the int range of MPI counts");
        out[r] = static_cast<int>(values[r]);
    }
    return out;
}

}  // namespace

void check(int code, const char* call) {
    if (code == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING] = {};
    int length = 0;
    MPI_Error_string(code, text, &length);
    throw RuntimeFailure(std::string(call) + ": " + std::string(text, static_cast<size_t>(length)));
}

Environment::Environment(int& argc, char**& argv) {
    int initialised = 0;
    check(MPI_Initialized(&initialised), "MPI_Initialized");
    if (!initialised) check(MPI_Init(&argc, &argv), "MPI_Init");
    // Errors come back as codes so that check() can throw them with context.
    check(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
}

Environment::~Environment() {
    int finalised = 0;
    MPI_Finalized(&finalised);
    if (!finalised) MPI_Finalize();
}

Communicator Communicator::world() {
    return Communicator(MPI_COMM_WORLD, false);
}

Communicator Communicator::self() {
    return Communicator(MPI_COMM_SELF, false);
}

Communicator::Communicator(Communicator&& other) noexcept
    : comm_(std::exchange(other.comm_, MPI_COMM_NULL)),
      owned_(std::exchange(other.owned_, false)) {}

Communicator& Communicator::operator=(Communicator&& other) noexcept {
    if (this != &other) {
        if (owned_ && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
        comm_ = std::exchange(other.comm_, MPI_COMM_NULL);
        owned_ = std::exchange(other.owned_, false);
    }
    return *this;
}

Communicator::~Communicator() {
    int finalised = 0;
    MPI_Finalized(&finalised);
    if (owned_ && comm_ != MPI_COMM_NULL && !finalised) MPI_Comm_free(&comm_);
}

int Communicator::rank() const {
    int r = 0;
    check(MPI_Comm_rank(comm_, &r), "MPI_Comm_rank");
    return r;
}

int Communicator::size() const {
    int s = 0;
    check(MPI_Comm_size(comm_, &s), "MPI_Comm_size");
    return s;
}

Communicator Communicator::split(int color, int key) const {
    MPI_Comm out = MPI_COMM_NULL;
    check(MPI_Comm_split(comm_, color, key, &out), "MPI_Comm_split");
    return Communicator(out, true);
}

Communicator Communicator::split_by_node() const {
    MPI_Comm out = MPI_COMM_NULL;
    check(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank(), MPI_INFO_NULL, &out),
          "MPI_Comm_split_type");
    return Communicator(out, true);
}

bool Communicator::same_processes(const Communicator& other) const {
    int relation = MPI_UNEQUAL;
    check(MPI_Comm_compare(comm_, other.comm_, &relation), "MPI_Comm_compare");
    return relation == MPI_IDENT || relation == MPI_CONGRUENT;
}

void Communicator::barrier() const {
    check(MPI_Barrier(comm_), "MPI_Barrier");
}

void Communicator::abort(int code) const {
    MPI_Abort(comm_, code);
    std::abort();  // MPI_Abort need not return, but may
}

template <class T>
void Communicator::broadcast(T* values, long count, int root) const {
    in_chunks(count, [&](long done, int chunk) {
        check(MPI_Bcast(values + done, chunk, datatype<T>(), root, comm_), "MPI_Bcast");
    });
}
template void Communicator::broadcast(int*, long, int) const;
template void Communicator::broadcast(long*, long, int) const;
template void Communicator::broadcast(double*, long, int) const;
template void Communicator::broadcast(char*, long, int) const;

void Communicator::broadcast(std::string& text, int root) const {
    long length = static_cast<long>(text.size());
    broadcast(&length, 1, root);
    text.resize(static_cast<std::size_t>(length));
    broadcast(text.data(), length, root);
}

void Communicator::broadcast(std::vector<long>& values, int root) const {
    long count = static_cast<long>(values.size());
    broadcast(&count, 1, root);
    values.resize(static_cast<std::size_t>(count));
    broadcast(values.data(), count, root);
}

int Communicator::max(int value) const {
    int out = 0;
    check(MPI_Allreduce(&value, &out, 1, MPI_INT, MPI_MAX, comm_), "MPI_Allreduce");
    return out;
}

double Communicator::max(double value) const {
    double out = 0;
    check(MPI_Allreduce(&value, &out, 1, MPI_DOUBLE, MPI_MAX, comm_), "MPI_Allreduce");
    return out;
}

double Communicator::min(double value) const {
    double out = 0;
    check(MPI_Allreduce(&value, &out, 1, MPI_DOUBLE, MPI_MIN, comm_), "MPI_Allreduce");
    return out;
}

void Communicator::sum(double* values, long count) const {
    in_chunks(count, [&](long done, int chunk) {
        check(MPI_Allreduce(MPI_IN_PLACE, values + done, chunk, MPI_DOUBLE, MPI_SUM, comm_),
              "MPI_Allreduce");
    });
}

void Communicator::sum_to(int root, double* values, long count) const {
    const bool at_root = rank() == root;
    in_chunks(count, [&](long done, int chunk) {
        check(MPI_Reduce(at_root ? MPI_IN_PLACE : values + done, at_root ? values + done : nullptr,
                         chunk, MPI_DOUBLE, MPI_SUM, root, comm_),
              "MPI_Reduce");
    });
}

template <class T>
std::vector<T> Communicator::all_gather(const T* values, long count) const {
    const int ranks = size();
    std::vector<long> counts(static_cast<std::size_t>(ranks));
    check(MPI_Allgather(&count, 1, MPI_LONG, counts.data(), 1, MPI_LONG, comm_), "MPI_Allgather");
    std::vector<int> count_ints(counts.size()), displacements(counts.size());
    long total = 0;
    for (std::size_t r = 0; r < counts.size(); ++r) {
        // MPI_Allgatherv counts and displacements are ints.
        if (total > INT_MAX - counts[r])
            throw RuntimeFailure("MPI_Allgatherv: " + std::to_string(total + counts[r]) +
                                 " values exceed the int range of MPI counts");
        count_ints[r] = static_cast<int>(counts[r]);
        displacements[r] = static_cast<int>(total);
        total += counts[r];
    }
    std::vector<T> out(static_cast<std::size_t>(total));
    check(MPI_Allgatherv(values, static_cast<int>(count), datatype<T>(), out.data(),
                         count_ints.data(), displacements.data(), datatype<T>(), comm_),
          "MPI_Allgatherv");
    return out;
}
template std::vector<long> Communicator::all_gather(const long*, long) const;
template std::vector<double> Communicator::all_gather(const double*, long) const;
template std::vector<char> Communicator::all_gather(const char*, long) const;

std::vector<std::string> Communicator::all_gather(const std::string& text) const {
    const long length = static_cast<long>(text.size());
    const std::vector<long> lengths = all_gather(&length, 1);
    const std::vector<char> joined = all_gather(text.data(), length);
    std::vector<std::string> out;
    std::size_t at = 0;
    for (long n : lengths) {
        out.emplace_back(joined.data() + at, static_cast<std::size_t>(n));
        at += static_cast<std::size_t>(n);
    }
    return out;
}

void Communicator::all_to_all(const double* send, const std::vector<long>& send_counts,
                              const std::vector<long>& send_offsets, double* received,
                              const std::vector<long>& received_counts,
                              const std::vector<long>& received_offsets) const {
    const auto ranks = static_cast<std::size_t>(size());
    const char* call = "MPI_Alltoallv";
    check(MPI_Alltoallv(send, ints(send_counts, ranks, call).data(),
                        ints(send_offsets, ranks, call).data(), MPI_DOUBLE, received,
                        ints(received_counts, ranks, call).data(),
                        ints(received_offsets, ranks, call).data(), MPI_DOUBLE, comm_),
          call);
}

std::string library_version() {
    char text[MPI_MAX_LIBRARY_VERSION_STRING] = {};
    int length = 0;
    MPI_Get_library_version(text, &length);
    std::string s(text, static_cast<size_t>(length));
    const auto comma = s.find(',');
    return comma == std::string::npos ? s : s.substr(0, comma);
}

MPI_Info no_hints() {
    return MPI_INFO_NULL;
}

}  // namespace ssldyn::mpi
