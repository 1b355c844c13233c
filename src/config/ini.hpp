#pragma once
// INI text as the run and sweep configs are written: "[section]" lines, "key = value" lines,
// '#' starting a comment anywhere on a line, blank lines; a UTF-8 byte-order mark at the start
// is skipped. Every entry keeps its line, so that an error names "FILE:LINE".
#include <string>
#include <string_view>
#include <vector>

namespace ssldyn {

struct IniEntry {
    std::string section;  // "" before the first section line
    std::string key, value;
    int line = 0;  // 1 for the first line
};

// "origin:line", where errors about an entry say they come from.
std::string ini_place(const std::string& origin, int line);

// The entries in order; InputError naming origin and the line for a line that is neither a
// section nor a setting.
std::vector<IniEntry> parse_ini(std::string_view text, const std::string& origin);

// The text of a config file (`what`: "config file", "sweep config"); InputError naming path when
// it is missing, a folder, a named pipe or another file that is not regular (refused before it is
// opened), or cannot be read.
std::string read_config_file(const std::string& path, std::string_view what);

}  // namespace ssldyn
