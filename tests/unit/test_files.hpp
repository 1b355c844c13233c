#pragma once
// Files the tests make: a temporary folder removed with its contents, raw bytes written to a
// file, and IDX files (a 4-byte magic number, the big-endian dimensions, the bytes).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

namespace ssldyn::test {

using Bytes = std::vector<unsigned char>;

// A fresh folder under the system's temporary folder, removed with everything in it.
class TempFolder {
  public:
    explicit TempFolder(const std::string& prefix) {
        std::string pattern =
            (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
        if (mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp " << pattern;
        root_ = pattern;
    }
    ~TempFolder() {
        std::error_code ec;
        std::filesystem::remove_all(root_, ec);
    }
    TempFolder(const TempFolder&) = delete;
    TempFolder& operator=(const TempFolder&) = delete;

    const std::filesystem::path& root() const { return root_; }
    std::string path(const std::string& name) const { return (root_ / name).string(); }

  private:
    std::filesystem::path root_;
};

inline void write_bytes(const std::string& path, const Bytes& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    EXPECT_TRUE(out.good()) << path;
}

// The magic number (type 0x08: unsigned bytes, preceded by b0 b1, zero in a valid file) and the
// big-endian dimensions.
inline Bytes idx_header(const std::vector<std::uint32_t>& dims, unsigned char type = 0x08,
                        unsigned char b0 = 0, unsigned char b1 = 0) {
    Bytes out{b0, b1, type, static_cast<unsigned char>(dims.size())};
    for (std::uint32_t v : dims)
        for (int shift = 24; shift >= 0; shift -= 8)
            out.push_back(static_cast<unsigned char>((v >> shift) & 0xffu));
    return out;
}

// A raw IDX file of unsigned bytes.
inline void write_idx(const std::string& path, const std::vector<std::uint32_t>& dims,
                      const Bytes& bytes) {
    Bytes out = idx_header(dims);
    out.insert(out.end(), bytes.begin(), bytes.end());
    write_bytes(path, out);
}

}  // namespace ssldyn::test
