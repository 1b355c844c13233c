#include "config/ini.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "core/file_kind.hpp"
#include "core/format.hpp"

namespace ssldyn {

namespace {

std::string_view trimmed(std::string_view s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

constexpr std::string_view byte_order_mark = "\xEF\xBB\xBF";

}  // namespace

std::string ini_place(const std::string& origin, int line) {
    return origin + ":" + std::to_string(line);
}

std::vector<IniEntry> parse_ini(std::string_view text, const std::string& origin) {
    if (text.substr(0, byte_order_mark.size()) == byte_order_mark)
        text.remove_prefix(byte_order_mark.size());
    std::vector<IniEntry> entries;
    std::string section;
    int number = 0;
    while (!text.empty()) {
        const auto end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
        ++number;
        const std::string_view as_written = trimmed(line);
        line = trimmed(line.substr(0, line.find('#')));
        if (line.empty()) continue;
        const std::string where = ini_place(origin, number);
        if (line.front() == '[' && line.back() == ']') {
            section = std::string(trimmed(line.substr(1, line.size() - 2)));
            if (section.empty()) throw InputError(where + ": a section without a name");
            continue;
        }
        const auto equals = line.find('=');
        if (equals == std::string_view::npos)
            throw InputError(where + ": neither [section] nor key = value: " + echoed(as_written));
        const std::string key(trimmed(line.substr(0, equals)));
        if (key.empty()) throw InputError(where + ": no key before '=': " + echoed(as_written));
        entries.push_back({section, key, std::string(trimmed(line.substr(equals + 1))), number});
    }
    return entries;
}

std::string read_config_file(const std::string& path, std::string_view what) {
    struct stat info {};
    if (stat(path.c_str(), &info) != 0)
        throw InputError(path + ": cannot open " + std::string(what) + " (" + std::strerror(errno) +
                         ")");
    if (S_ISDIR(info.st_mode)) throw InputError(path + ": is a folder, not a " + std::string(what));
    if (!S_ISREG(info.st_mode))
        throw InputError(path + ": is " + file_kind(info.st_mode) + ", not a regular file (a " +
                         std::string(what) + " is a text file)");
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) throw InputError(path + ": cannot read " + std::string(what));
    return text.str();
}

}  // namespace ssldyn
