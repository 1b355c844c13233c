#pragma once
// IDX files (the MNIST and Fashion-MNIST format), raw or gzip-compressed.
#include <cstdint>
#include <string>
#include <vector>

#include "linalg/matrix.hpp"

namespace ssldyn {

struct IdxImages {
    Index rows = 0, cols = 0;  // image height and width
    Matrix pixels;             // (rows*cols) x count, one image per column, scaled to [0, 1]
};

// The image count and size from the header alone (validates the magic number).
struct IdxShape {
    Index count = 0, rows = 0, cols = 0;
};
IdxShape read_idx_image_shape(const std::string& path);

// Reads at most max_count images (0: all). Validates the magic number, the dimensions and
// the length; any mismatch is an InputError naming the file.
IdxImages read_idx_images(const std::string& path, Index max_count = 0);
std::vector<std::uint8_t> read_idx_labels(const std::string& path, Index max_count = 0);

}  // namespace ssldyn
