#include "store/sweep_store.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <set>

#include "core/error.hpp"
#include "core/file_kind.hpp"
#include "run/driver.hpp"
#include "run/model_table.hpp"
#include "store/h5/attribute.hpp"
#include "store/h5/dataset.hpp"
#include "store/lock.hpp"
#include "store/schema.hpp"

namespace ssldyn {

namespace {

// Reserves `bytes` of disk beyond the end of path without changing its content or size, so that
// HDF5's writes there cannot meet a full disk: the failure comes here, before anything changed.
void reserve(const std::string& path, const std::string& named, std::uintmax_t bytes) {
    const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        throw InputError(named + ": cannot write store (" + std::string(std::strerror(errno)) +
                         ")");
    struct stat info {};
    fstat(fd, &info);
    int error = fallocate(fd, FALLOC_FL_KEEP_SIZE, info.st_size, static_cast<off_t>(bytes)) == 0
                    ? 0
                    : errno;
    close(fd);
    if (error == EOPNOTSUPP || error == ENOSYS) {  // a file system without it: ask for free space
        struct statvfs fs {};
        error = statvfs(path.c_str(), &fs) == 0 &&
                        static_cast<std::uintmax_t>(fs.f_bavail) * fs.f_frsize < bytes
                    ? ENOSPC
                    : 0;
    }
    if (error != 0)
        throw RuntimeFailure(named + ": cannot write store (" + std::strerror(error) + ")");
}

// The temporary file a store is written into before it is renamed into place, beside it.
std::string temporary_of(const std::string& target) {
    return target + ".partial-" + std::to_string(getpid());
}

}  // namespace

std::string link_target(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path file = path;
    // As the kernel does, at most 40 links; a loop is left to fail where the store is opened.
    for (int hops = 0; hops < 40 && fs::is_symlink(file, ec); ++hops) {
        const fs::path target = fs::read_symlink(file, ec);
        if (ec) break;
        file = target.is_absolute() ? target : file.parent_path() / target;
    }
    return file.string();
}

void initialise_store(const h5::File& file) {
    const auto root = file.root();
    h5::write_attribute(root.id(), "schema_version", schema::version);
    h5::write_attribute(root.id(), "creator", version_text());
    root.create_group("sweeps");
}

void check_store_schema(const h5::File& file, const std::string& path) {
    const auto root = file.root();
    if (!h5::has_attribute(root.id(), "schema_version"))
        throw InputError(path + ": not an ssldyn store (no schema_version attribute)");
    const long long v =
        read_store(path, [&] { return h5::read_integer_attribute(root.id(), "schema_version"); });
    if (v == 1)
        throw InputError(path +
                         ": store has schema_version 1 (a group per run), this ssldyn reads " +
                         std::to_string(schema::version) + "; convert it with `ssldyn upgrade " +
                         path + " --store NEW.h5`");
    if (v != schema::version)
        throw InputError(path + ": store has schema_version " + std::to_string(v) +
                         ", this ssldyn reads " + std::to_string(schema::version));
}

void require_store_file(const std::string& path) {
    struct stat info {};
    if (stat(path.c_str(), &info) != 0) throw InputError(path + ": no such store");
    if (S_ISDIR(info.st_mode)) throw InputError(path + ": is a folder, not a store file");
    if (!S_ISREG(info.st_mode))
        throw InputError(path + ": is " + file_kind(info.st_mode) +
                         ", not a regular file (a store is an HDF5 file)");
}

void check_store_writable(const std::string& path) {
    require_store_file(path);
    // Opened for writing and closed at once, which changes nothing: an immutable file
    // (chattr +i), a read-only mount or, for others than root, a read-only file say no here
    // rather than deep inside HDF5.
    const int fd = open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) throw InputError(path + ": store is not writable (" + std::strerror(errno) + ")");
    close(fd);
}

h5::File open_store(const std::string& path) {
    require_store_file(path);
    if (!h5::is_hdf5(path)) throw InputError(path + ": not an HDF5 file");
    h5::File file = read_store(path, [&] { return h5::File::open(path, h5::Mode::read_only); });
    check_store_schema(file, path);
    return file;
}

bool has_sweep(const h5::File& file, const std::string& sweep) {
    const auto root = file.root();
    return root.exists("sweeps") && root.open_group("sweeps").exists(sweep);
}

void check_store_target(const std::string& path, bool overwrite) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (path.empty()) throw InputError("--store: the store path is empty");
    if (fs::exists(path, ec)) {
        require_store_file(path);  // a folder or a pipe is named as what it is
        if (!overwrite)
            throw InputError(path + ": store exists already (pass --overwrite to replace it)");
        check_store_writable(path);
    }
    StoreLock::check_free(path);
    // The folder the store is written in: its target's, for a link.
    const std::string target = link_target(path);
    fs::path dir = fs::path(target).parent_path();
    if (dir.empty()) dir = ".";
    if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
        throw InputError(path + ": " + dir.string() + " is not a folder");
    if (!fs::is_directory(dir, ec))
        throw InputError(path + ": folder " + dir.string() + " does not exist");
    // Creating a file is the only reliable test (root passes access(W_OK) on /proc, say).
    const std::string probe = temporary_of(target);
    const int fd = open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0)
        throw InputError(path + ": cannot write in folder " + dir.string() + " (" +
                         std::strerror(errno) + ")");
    close(fd);
    std::remove(probe.c_str());
}

void remove_stale_partials(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path target = link_target(path);
    fs::path dir = target.parent_path();
    if (dir.empty()) dir = ".";
    const std::string prefix = target.filename().string() + ".partial-";
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind(prefix, 0) != 0) continue;
        const std::string pid = name.substr(prefix.size());
        if (pid.empty() || pid.size() > 9 ||
            pid.find_first_not_of("0123456789") != std::string::npos)
            continue;
        // Gone for certain only when no process has the id (EPERM: one has, of another user).
        if (kill(static_cast<pid_t>(std::stol(pid)), 0) != 0 && errno == ESRCH)
            fs::remove(entry.path(), ec);
    }
}

void create_atomically(const std::string& path, std::uintmax_t bytes,
                       const std::function<void(const h5::File&)>& make) {
    remove_stale_partials(path);
    // A store given as a link is written at its target, the link kept.
    const std::string target = link_target(path);
    const std::string temporary = temporary_of(target);
    try {
        {
            h5::File file = h5::File::create(temporary);
            reserve(temporary, path, bytes);
            initialise_store(file);
            make(file);
        }
        if (std::rename(temporary.c_str(), target.c_str()) != 0)
            throw InputError(path + ": cannot write store (" + std::strerror(errno) + ")");
    } catch (const RuntimeFailure& e) {
        std::remove(temporary.c_str());
        throw RuntimeFailure(path + ": cannot write store (" + e.what() + ")");
    } catch (...) {
        std::remove(temporary.c_str());
        throw;
    }
}

void grow_in_place(const std::string& path, std::uintmax_t bytes,
                   const std::function<void(const h5::File&)>& make) {
    reserve(path, path, bytes);
    try {
        const h5::File file = h5::File::open(path, h5::Mode::read_write);
        make(file);
    } catch (const RuntimeFailure& e) {
        throw RuntimeFailure(path + ": cannot write store (" + e.what() + ")");
    }
}

}  // namespace ssldyn
