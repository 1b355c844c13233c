#include "data/idx.hpp"

#include <algorithm>
#include <array>

#include "core/error.hpp"
#include "data/data_file.hpp"

namespace ssldyn {

namespace {

std::uint32_t big_endian(const unsigned char* b) {
    return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) |
           std::uint32_t{b[3]};
}

// Header of an unsigned-byte IDX file with `ndims` dimensions.
std::vector<std::uint32_t> read_header(DataFile& in, const std::string& path, int ndims) {
    std::array<unsigned char, 4> magic{};
    in.read(magic.data(), 4, "the magic number");
    if (magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08)
        throw InputError(path + ": not an unsigned-byte IDX file (bad magic number)");
    if (magic[3] != ndims)
        throw InputError(path + ": IDX file has " + std::to_string(magic[3]) +
                         " dimensions, expected " + std::to_string(ndims));
    std::vector<std::uint32_t> dims;
    for (int i = 0; i < ndims; ++i) {
        std::array<unsigned char, 4> b{};
        in.read(b.data(), 4, "the dimensions");
        dims.push_back(big_endian(b.data()));
        if (dims.back() == 0) throw InputError(path + ": IDX file has a zero dimension");
    }
    return dims;
}

// The whole file is read even when only a prefix is used, so a truncated or padded file is
// never taken for a good one.
void skip_and_expect_end(DataFile& in, const std::string& path, std::size_t skip) {
    std::vector<unsigned char> sink(std::min<std::size_t>(skip, 1u << 20));
    while (skip > 0) {
        const std::size_t chunk = std::min(skip, sink.size());
        in.read(sink.data(), chunk, "the remaining records");
        skip -= chunk;
    }
    if (!in.at_clean_end()) throw InputError(path + ": IDX file is longer than its dimensions say");
}

// Reads in slices before holding the whole: a header that claims more than the file holds
// fails on the data, not on an allocation of its claimed size.
std::vector<unsigned char> read_bytes(DataFile& in, std::size_t total, const char* what) {
    std::vector<unsigned char> bytes;
    const std::size_t slice = std::size_t{1} << 24;
    while (bytes.size() < total) {
        const std::size_t n = std::min(slice, total - bytes.size());
        bytes.resize(bytes.size() + n);
        in.read(bytes.data() + bytes.size() - n, n, what);
    }
    return bytes;
}

}  // namespace

namespace {

IdxShape image_header(DataFile& in, const std::string& path) {
    const auto dims = read_header(in, path, 3);
    if (dims[1] > 4096 || dims[2] > 4096)
        throw InputError(path + ": implausible image size " + std::to_string(dims[1]) + "x" +
                         std::to_string(dims[2]));
    return {dims[0], dims[1], dims[2]};
}

}  // namespace

IdxShape read_idx_image_shape(const std::string& path) {
    DataFile in(path);
    return image_header(in, path);
}

IdxImages read_idx_images(const std::string& path, Index max_count) {
    DataFile in(path);
    const auto [count, rows, cols] = image_header(in, path);
    const Index take = max_count > 0 && max_count < count ? max_count : count;
    const Index d = rows * cols;
    const std::vector<unsigned char> bytes =
        read_bytes(in, static_cast<std::size_t>(d * take), "the images");
    IdxImages out{rows, cols, Matrix(d, take)};
    for (Index j = 0; j < take; ++j)
        for (Index i = 0; i < d; ++i)
            out.pixels(i, j) = bytes[static_cast<std::size_t>(i + j * d)] / 255.0;
    skip_and_expect_end(in, path, static_cast<std::size_t>((count - take) * d));
    return out;
}

std::vector<std::uint8_t> read_idx_labels(const std::string& path, Index max_count) {
    DataFile in(path);
    const auto dims = read_header(in, path, 1);
    const Index count = dims[0];
    const Index take = max_count > 0 && max_count < count ? max_count : count;
    std::vector<std::uint8_t> labels = read_bytes(in, static_cast<std::size_t>(take), "the labels");
    skip_and_expect_end(in, path, static_cast<std::size_t>(count - take));
    return labels;
}

}  // namespace ssldyn
