#pragma once
// What is at a path, in the words of a message: data files and stores are regular files (or
// links to one), and a named pipe or a device given in their place is refused as what it is,
// before it is opened (a pipe with no writer blocks the open).
#include <sys/types.h>

#include <string>

namespace ssldyn {

// "a regular file", "a folder", "a named pipe", "a character device", "a block device",
// "a socket" or "a special file".
std::string file_kind(mode_t mode);

}  // namespace ssldyn
