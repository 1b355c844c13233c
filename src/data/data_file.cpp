#include "data/data_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>

#include "core/error.hpp"
#include "core/file_kind.hpp"

namespace ssldyn {

namespace {

constexpr std::size_t input_size = std::size_t{1} << 16;

std::string system_reason() {
    return std::strerror(errno);
}

// InputError unless mode is a regular file's, saying what the path is instead.
void require_regular(const std::string& path, mode_t mode) {
    if (S_ISREG(mode)) return;
    if (S_ISDIR(mode)) throw InputError(path + ": is a folder, not a data file");
    throw InputError(path + ": is " + file_kind(mode) +
                     ", not a regular file (a data file is a regular file, raw or gzip)");
}

bool gzip_magic(const unsigned char* bytes) {
    return bytes[0] == 0x1f && bytes[1] == 0x8b;
}

}  // namespace

DataFile::DataFile(const std::string& path) : path_(path), input_(input_size) {
    struct stat info {};
    if (stat(path.c_str(), &info) != 0)
        throw InputError(path + ": cannot open data file (" + system_reason() + ")");
    require_regular(path, info.st_mode);
    // Non-blocking, and checked again once open: a pipe put in its place meanwhile neither
    // blocks the open nor is read.
    fd_ = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd_ < 0) throw InputError(path + ": cannot open data file (" + system_reason() + ")");
    try {
        if (fstat(fd_, &info) != 0)
            throw InputError(path + ": cannot read data file (" + system_reason() + ")");
        require_regular(path, info.st_mode);
        gzip_ = buffered(2) && gzip_magic(input_.data() + input_begin_);
        if (gzip_) {
            if (inflateInit2(&stream_, 16 + MAX_WBITS) != Z_OK) throw std::bad_alloc();
            stream_open_ = true;
        }
    } catch (...) {
        close(fd_);
        throw;
    }
}

DataFile::~DataFile() {
    if (stream_open_) inflateEnd(&stream_);
    close(fd_);
}

bool DataFile::buffered(std::size_t count) {
    if (input_end_ - input_begin_ >= count) return true;
    std::memmove(input_.data(), input_.data() + input_begin_, input_end_ - input_begin_);
    input_end_ -= input_begin_;
    input_begin_ = 0;
    while (input_end_ < count) {
        const ssize_t got = ::read(fd_, input_.data() + input_end_, input_.size() - input_end_);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) throw InputError(path_ + ": cannot read data file (" + system_reason() + ")");
        if (got == 0) return false;
        input_end_ += static_cast<std::size_t>(got);
    }
    return true;
}

std::size_t DataFile::read_some(unsigned char* out, std::size_t n) {
    if (gzip_) return inflate_some(out, n);
    if (!buffered(1)) return 0;
    n = std::min(n, input_end_ - input_begin_);
    std::memcpy(out, input_.data() + input_begin_, n);
    input_begin_ += n;
    return n;
}

std::size_t DataFile::inflate_some(unsigned char* out, std::size_t n) {
    const auto room = static_cast<uInt>(std::min<std::size_t>(n, 1u << 30));
    while (!ended_) {
        if (!buffered(1))
            throw InputError(path_ + ": compressed stream is cut short (truncated file)");
        stream_.next_in = input_.data() + input_begin_;
        stream_.avail_in = static_cast<uInt>(input_end_ - input_begin_);
        stream_.next_out = out;
        stream_.avail_out = room;
        const int code = inflate(&stream_, Z_NO_FLUSH);
        input_begin_ = input_end_ - stream_.avail_in;
        if (code == Z_MEM_ERROR) throw std::bad_alloc();
        if (code != Z_OK && code != Z_STREAM_END && code != Z_BUF_ERROR)
            throw InputError(
                path_ + ": corrupt compressed data (" +
                (stream_.msg ? std::string(stream_.msg) : "zlib code " + std::to_string(code)) +
                ")");
        if (code == Z_STREAM_END) {
            // A member ends (its CRC and length checked): the end of the file, or another member.
            if (!buffered(1)) {
                ended_ = true;
            } else if (buffered(2) && gzip_magic(input_.data() + input_begin_)) {
                inflateReset(&stream_);
            } else {
                throw InputError(path_ +
                                 ": data after the end of its gzip stream (neither another gzip "
                                 "member nor the end of the file)");
            }
        }
        const std::size_t produced = room - stream_.avail_out;
        if (produced > 0) return produced;
    }
    return 0;
}

void DataFile::read(void* out, std::size_t n, const char* what) {
    auto* p = static_cast<unsigned char*>(out);
    while (n > 0) {
        const std::size_t got = read_some(p, n);
        if (got == 0)
            throw InputError(path_ + ": file ends early while reading " + what +
                             " (truncated IDX file?)");
        p += got;
        n -= got;
    }
}

bool DataFile::at_clean_end() {
    unsigned char extra = 0;
    return read_some(&extra, 1) == 0;
}

}  // namespace ssldyn
