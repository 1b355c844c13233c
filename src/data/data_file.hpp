#pragma once
// A data file read as a stream of bytes: a regular file (or a link to one), raw or gzip (members
// one after another, as `cat a.gz b.gz` makes them). Anything else is refused before it is
// opened: opening a named pipe with no writer blocks, and a device can be read for ever. Every
// error is an InputError naming the path.
#include <zlib.h>

#include <cstddef>
#include <string>
#include <vector>

namespace ssldyn {

class DataFile {
  public:
    explicit DataFile(const std::string& path);
    ~DataFile();
    DataFile(const DataFile&) = delete;
    DataFile& operator=(const DataFile&) = delete;

    // Reads exactly n bytes, or throws saying the file ends early while reading `what`.
    void read(void* out, std::size_t n, const char* what);
    // True when nothing is left: the end of a raw file, or of the last gzip member with its
    // trailer checked. Anything after a gzip stream but another member is an error.
    bool at_clean_end();

  private:
    // Up to n bytes of content; 0 only at the end.
    std::size_t read_some(unsigned char* out, std::size_t n);
    std::size_t inflate_some(unsigned char* out, std::size_t n);
    // At least `count` unread bytes in the buffer, reading more as needed; false when the file
    // ends first.
    bool buffered(std::size_t count);

    std::string path_;
    int fd_ = -1;
    std::vector<unsigned char> input_;
    std::size_t input_begin_ = 0, input_end_ = 0;  // unread bytes are input_[begin, end)
    bool gzip_ = false, stream_open_ = false, ended_ = false;
    z_stream stream_{};
};

}  // namespace ssldyn
