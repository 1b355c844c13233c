// IDX files (raw and gzip): exact pixels and labels from good files, max_count prefixes, and an
// InputError naming the file for every kind of broken file.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "data/idx.hpp"
#include "test_files.hpp"

using namespace ssldyn;

namespace {

namespace fs = std::filesystem;
using test::Bytes;

Bytes header(std::vector<std::uint32_t> dims, unsigned char type = 0x08, unsigned char b0 = 0,
             unsigned char b1 = 0) {
    return test::idx_header(dims, type, b0, b1);
}

Bytes concat(Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

Bytes prefix(const Bytes& a, std::size_t n) {
    return Bytes(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(n));
}

// Pixel bytes with every value 0..255 appearing and no simple structure (a swapped row and
// column order or a transposed image would read differently).
Bytes pixel_bytes(std::size_t n) {
    Bytes out(n);
    std::uint32_t state = 12345;
    for (std::size_t i = 0; i < n; ++i) {
        state = state * 1664525u + 1013904223u;
        out[i] = static_cast<unsigned char>(i < 256 ? (i * 97) % 256 : state >> 24);
    }
    return out;
}

class IdxTest : public ::testing::Test {
  protected:
    std::string path(const std::string& name) const { return folder_.path(name); }

    std::string write_raw(const std::string& name, const Bytes& bytes) const {
        const std::string p = path(name);
        test::write_bytes(p, bytes);
        return p;
    }

    std::string write_gzip(const std::string& name, const Bytes& bytes) const {
        const std::string p = path(name);
        gzFile f = gzopen(p.c_str(), "wb");
        EXPECT_NE(f, nullptr) << p;
        if (!f) return p;
        if (!bytes.empty()) {
            EXPECT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())),
                      static_cast<int>(bytes.size()));
        }
        EXPECT_EQ(gzclose(f), Z_OK);
        return p;
    }

    static Bytes read_file(const std::string& p) {
        std::ifstream in(p, std::ios::binary);
        return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }

    test::TempFolder folder_{"ssldyn-idx"};
};

// f must throw an InputError whose message names the file.
void expect_input_error(const std::function<void()>& f, const std::string& file) {
    try {
        f();
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find(file), std::string::npos)
            << "message does not name " << file << ": " << e.what();
        return;
    } catch (const std::exception& e) {
        ADD_FAILURE() << file << ": expected an InputError, got another exception: " << e.what();
        return;
    }
    ADD_FAILURE() << file << ": expected an InputError, nothing was thrown";
}

void expect_images_rejected(const std::string& file, Index max_count = 0) {
    SCOPED_TRACE(file);
    expect_input_error([&] { read_idx_images(file, max_count); }, file);
}

void expect_labels_rejected(const std::string& file, Index max_count = 0) {
    SCOPED_TRACE(file);
    expect_input_error([&] { read_idx_labels(file, max_count); }, file);
}

constexpr std::uint32_t count = 5, rows = 3, cols = 4;  // non-square: rows and cols differ

void expect_pixels(const IdxImages& images, const Bytes& pixels, Index take) {
    ASSERT_EQ(images.rows, static_cast<Index>(rows));
    ASSERT_EQ(images.cols, static_cast<Index>(cols));
    ASSERT_EQ(images.pixels.rows(), static_cast<Index>(rows * cols));
    ASSERT_EQ(images.pixels.cols(), take);
    const Index d = rows * cols;
    // Exact: byte/255 is one correctly rounded division, the same in the reader and here.
    for (Index j = 0; j < take; ++j)
        for (Index i = 0; i < d; ++i)
            ASSERT_EQ(images.pixels(i, j), pixels[static_cast<std::size_t>(i + j * d)] / 255.0)
                << "pixel " << i << " of image " << j;
}

}  // namespace

TEST_F(IdxTest, RawAndGzipImagesGiveExactPixels) {
    const Bytes pixels = pixel_bytes(count * rows * cols);
    const Bytes file = concat(header({count, rows, cols}), pixels);
    for (const std::string& p : {write_raw("images.idx", file), write_gzip("images.gz", file)}) {
        SCOPED_TRACE(p);
        expect_pixels(read_idx_images(p), pixels, count);
        const IdxShape shape = read_idx_image_shape(p);
        EXPECT_EQ(shape.count, static_cast<Index>(count));
        EXPECT_EQ(shape.rows, static_cast<Index>(rows));
        EXPECT_EQ(shape.cols, static_cast<Index>(cols));
    }
    // The extremes map to exactly 0 and 1.
    const Bytes extremes{0, 255, 0, 255, 255, 0};
    const auto p = write_raw("extremes.idx", concat(header({1, 2, 3}), extremes));
    const IdxImages e = read_idx_images(p);
    EXPECT_EQ(e.pixels(0, 0), 0.0);
    EXPECT_EQ(e.pixels(1, 0), 1.0);
    EXPECT_EQ(e.pixels(5, 0), 0.0);
}

TEST_F(IdxTest, MaxCountReadsAPrefix) {
    const Bytes pixels = pixel_bytes(count * rows * cols);
    const Bytes file = concat(header({count, rows, cols}), pixels);
    for (const std::string& p : {write_raw("images.idx", file), write_gzip("images.gz", file)}) {
        SCOPED_TRACE(p);
        expect_pixels(read_idx_images(p, 1), pixels, 1);
        expect_pixels(read_idx_images(p, 3), pixels, 3);
        expect_pixels(read_idx_images(p, count), pixels, count);
        expect_pixels(read_idx_images(p, count + 10), pixels, count);  // more than there are
    }
}

TEST_F(IdxTest, RawAndGzipLabels) {
    const Bytes labels{7, 0, 255, 3, 9, 1, 1};
    const Bytes file = concat(header({static_cast<std::uint32_t>(labels.size())}), labels);
    for (const std::string& p : {write_raw("labels.idx", file), write_gzip("labels.gz", file)}) {
        SCOPED_TRACE(p);
        EXPECT_EQ(read_idx_labels(p), std::vector<std::uint8_t>(labels.begin(), labels.end()));
        EXPECT_EQ(read_idx_labels(p, 2), (std::vector<std::uint8_t>{7, 0}));
        EXPECT_EQ(read_idx_labels(p, 100), std::vector<std::uint8_t>(labels.begin(), labels.end()));
    }
}

TEST_F(IdxTest, TruncatedFilesAreRejected) {
    const Bytes head = header({count, rows, cols});
    const Bytes file = concat(head, pixel_bytes(count * rows * cols));
    // Header cut: inside the magic number, and inside the dimensions.
    expect_images_rejected(write_raw("empty.idx", {}));
    expect_images_rejected(write_raw("magic-cut.idx", prefix(file, 2)));
    expect_images_rejected(write_raw("dims-cut.idx", prefix(file, 10)));
    expect_images_rejected(write_gzip("dims-cut.gz", prefix(file, 10)));
    EXPECT_THROW(read_idx_image_shape(path("dims-cut.idx")), InputError);
    // Data cut: one byte short, and half the data missing; also when only a prefix is asked
    // for (the whole file is read, so the cut is still seen).
    expect_images_rejected(write_raw("one-short.idx", prefix(file, file.size() - 1)));
    expect_images_rejected(write_raw("half.idx", prefix(file, head.size() + 30)));
    expect_images_rejected(path("one-short.idx"), 1);
    expect_images_rejected(write_gzip("one-short.gz", prefix(file, file.size() - 1)));
    expect_images_rejected(path("one-short.gz"), 1);
    expect_images_rejected(write_raw("header-only.idx", head));

    const Bytes labels = concat(header({6}), Bytes{1, 2, 3, 4, 5, 6});
    expect_labels_rejected(write_raw("labels-dims-cut.idx", prefix(labels, 6)));
    expect_labels_rejected(write_raw("labels-short.idx", prefix(labels, labels.size() - 1)));
    expect_labels_rejected(path("labels-short.idx"), 2);
}

TEST_F(IdxTest, CutGzipStreamsAreRejected) {
    // Incompressible data, so that a cut at half the compressed size is inside the images.
    const Bytes file = concat(header({200, 8, 8}), pixel_bytes(200 * 64));
    const Bytes gz = read_file(write_gzip("full.gz", file));
    ASSERT_GT(gz.size(), 1000u);
    ASSERT_EQ(read_idx_images(path("full.gz")).pixels.cols(), 200);  // the uncut file is good
    expect_images_rejected(write_raw("cut-half.gz", prefix(gz, gz.size() / 2)));
    expect_images_rejected(path("cut-half.gz"), 10);
    expect_images_rejected(write_raw("cut-header.gz", prefix(gz, 15)));
    // A damaged CRC is corrupt data, too.
    Bytes bad_crc = gz;
    bad_crc[bad_crc.size() - 8] ^= 0xff;
    expect_images_rejected(write_raw("bad-crc.gz", bad_crc));
}

TEST_F(IdxTest, GzipWithoutItsTrailerIsRejected) {
    const Bytes file = concat(header({200, 8, 8}), pixel_bytes(200 * 64));
    const Bytes gz = read_file(write_gzip("full.gz", file));
    ASSERT_GT(gz.size(), 8u);
    ASSERT_EQ(read_idx_images(path("full.gz")).pixels.cols(), 200);  // the whole file is good
    // Every image byte present but the gzip trailer (CRC-32 and length, the last 8 bytes) cut
    // off: still a truncated file, and its integrity was never checked.
    expect_images_rejected(write_raw("cut-trailer.gz", prefix(gz, gz.size() - 8)));
    expect_images_rejected(write_raw("cut-length.gz", prefix(gz, gz.size() - 4)));
}

TEST_F(IdxTest, WrongMagicNumbersAreRejected) {
    const Bytes images = pixel_bytes(count * rows * cols);
    // The label magic 0x00000801 on an image reader (with a length that would fit 1 dim).
    expect_images_rejected(write_raw("labels-magic.idx", concat(header({60}), images)));
    // Non-zero first or second byte.
    expect_images_rejected(
        write_raw("byte0.idx", concat(header({count, rows, cols}, 0x08, 0x01), images)));
    expect_images_rejected(
        write_raw("byte1.idx", concat(header({count, rows, cols}, 0x08, 0, 0x01), images)));
    // Types other than unsigned byte: signed byte 0x09, float 0x0D.
    expect_images_rejected(
        write_raw("signed.idx", concat(header({count, rows, cols}, 0x09), images)));
    expect_images_rejected(
        write_raw("float.idx", concat(header({count, rows, cols}, 0x0d), images)));
    expect_images_rejected(
        write_gzip("float.gz", concat(header({count, rows, cols}, 0x0d), images)));
    EXPECT_THROW(read_idx_image_shape(path("float.idx")), InputError);
    // Labels: the image magic 0x00000803, a non-zero first byte, another type.
    const Bytes labels{1, 2, 3, 4};
    expect_labels_rejected(write_raw("images-magic.idx", concat(header({1, 2, 2}), labels)));
    expect_labels_rejected(write_raw("lbyte0.idx", concat(header({4}, 0x08, 0xff), labels)));
    expect_labels_rejected(write_raw("ltype.idx", concat(header({4}, 0x0b), labels)));
}

TEST_F(IdxTest, WrongNumberOfDimensionsIsRejected) {
    const Bytes images = pixel_bytes(count * rows * cols);
    // Two dimensions (count x pixels) and four (count x rows x cols x 1) for images.
    expect_images_rejected(write_raw("two.idx", concat(header({count, rows * cols}), images)));
    expect_images_rejected(write_raw("four.idx", concat(header({count, rows, cols, 1}), images)));
    expect_images_rejected(write_raw("zero.idx", concat(header({}), images)));
    // Labels with two dimensions.
    expect_labels_rejected(write_raw("labels2.idx", concat(header({2, 2}), Bytes{1, 2, 3, 4})));
}

TEST_F(IdxTest, ZeroDimensionsAreRejected) {
    expect_images_rejected(write_raw("no-images.idx", header({0, rows, cols})));
    expect_images_rejected(write_raw("no-rows.idx", header({count, 0, cols})));
    expect_images_rejected(write_raw("no-cols.idx", header({count, rows, 0})));
    expect_images_rejected(write_gzip("no-images.gz", header({0, rows, cols})));
    EXPECT_THROW(read_idx_image_shape(path("no-rows.idx")), InputError);
    expect_labels_rejected(write_raw("no-labels.idx", header({0})));
}

TEST_F(IdxTest, FilesLongerThanTheirDimensionsAreRejected) {
    const Bytes file = concat(header({count, rows, cols}), pixel_bytes(count * rows * cols));
    const Bytes longer = concat(file, Bytes{0});
    expect_images_rejected(write_raw("longer.idx", longer));
    expect_images_rejected(path("longer.idx"), 2);
    expect_images_rejected(write_gzip("longer.gz", longer));
    // A whole extra image.
    expect_images_rejected(write_raw("extra-image.idx", concat(file, pixel_bytes(rows * cols))));
    const Bytes labels = concat(header({3}), Bytes{1, 2, 3, 4});
    expect_labels_rejected(write_raw("labels-longer.idx", labels));
    expect_labels_rejected(write_gzip("labels-longer.gz", labels), 1);
}

TEST_F(IdxTest, HeaderClaimingFarMoreThanTheFileHoldsIsRejected) {
    // A corrupt count (the largest 32-bit value) of the largest accepted image size, with two
    // images of data: a truncated file, to be reported as one rather than by a failed
    // allocation of count*rows*cols bytes (7e16, beyond any address space).
    const auto p =
        write_raw("huge-count.idx", concat(header({0xffffffffu, 4096, 4096}), pixel_bytes(2 * 16)));
    expect_images_rejected(p);
}

TEST_F(IdxTest, MissingFilesAreRejected) {
    const std::string missing = path("does-not-exist.idx.gz");
    expect_images_rejected(missing);
    expect_labels_rejected(missing);
    expect_input_error([&] { read_idx_image_shape(missing); }, missing);
    // A folder is not a file.
    expect_images_rejected(folder_.root().string());
}

// Only regular files (or links to one) are data files, refused at once by what they are: a named
// pipe with no writer blocked the open (and SIGTERM with it), a device reads for ever.
TEST_F(IdxTest, OnlyRegularFilesAreRead) {
    const std::string fifo = path("pipe.idx");
    ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
    for (const auto& read : std::vector<std::function<void()>>{
             [&] { read_idx_images(fifo); }, [&] { read_idx_labels(fifo); },
             [&] { read_idx_image_shape(fifo); }}) {
        try {
            read();
            ADD_FAILURE() << "a named pipe was read";
        } catch (const InputError& e) {
            EXPECT_EQ(std::string(e.what()),
                      fifo +
                          ": is a named pipe, not a regular file (a data file is a regular "
                          "file, raw or gzip)");
        }
    }
    expect_images_rejected("/dev/null");
    expect_images_rejected("/dev/zero");
    // A link to a good file is read through.
    const Bytes pixels = pixel_bytes(count * rows * cols);
    const auto good = write_gzip("good.gz", concat(header({count, rows, cols}), pixels));
    fs::create_symlink(good, path("link.gz"));
    expect_pixels(read_idx_images(path("link.gz")), pixels, count);
    fs::create_symlink(fifo, path("link-to-pipe.idx"));
    expect_images_rejected(path("link-to-pipe.idx"));
}

// After a gzip stream: another member (read on, as gzip -d does) or the end of the file; any
// other byte is an error (zlib's gzread skipped it and the file passed as good).
TEST_F(IdxTest, OnlyGzipMembersMayFollowAGzipStream) {
    const Bytes pixels = pixel_bytes(count * rows * cols);
    const Bytes file = concat(header({count, rows, cols}), pixels);
    const Bytes whole = read_file(write_gzip("whole.gz", file));
    const Bytes first = read_file(write_gzip("first.gz", prefix(file, 30)));
    const Bytes rest = read_file(write_gzip("rest.gz", Bytes(file.begin() + 30, file.end())));
    expect_pixels(read_idx_images(write_raw("members.gz", concat(first, rest))), pixels, count);
    for (const Bytes& garbage :
         {Bytes{0}, Bytes{'x', 'y', 'z', '\n'}, Bytes{0x1f}, Bytes(4096, 0)}) {
        const std::string p = write_raw("garbage.gz", concat(whole, garbage));
        try {
            read_idx_images(p);
            ADD_FAILURE() << garbage.size() << " bytes after the stream were ignored";
        } catch (const InputError& e) {
            EXPECT_NE(std::string(e.what()).find(p + ": data after the end of its gzip stream"),
                      std::string::npos)
                << e.what();
        }
        expect_images_rejected(p, 1);
    }
    // An empty member after the data is a member: still good.
    const Bytes empty = read_file(write_gzip("empty.gz", {}));
    expect_pixels(read_idx_images(write_raw("trailing-empty.gz", concat(whole, empty))), pixels,
                  count);
}
