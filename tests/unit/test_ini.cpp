// INI text (config/ini.hpp) and values echoed in messages (core/format.hpp echoed): entries with
// their lines, a byte-order mark skipped, errors naming file and line; values cut and escaped.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/ini.hpp"
#include "core/error.hpp"
#include "core/format.hpp"

using namespace ssldyn;

namespace {

std::string error_of(const std::string& text) {
    try {
        parse_ini(text, "c.ini");
    } catch (const InputError& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST(Ini, EntriesKeepTheirSectionAndLine) {
    const std::string text =
        "\xEF\xBB\xBF# a comment\n"
        "top = 1\n"
        "\n"
        "[sweep]\n"
        "name = grid   # the name\n"
        "[ zip.a ]\r\n"
        "  k   =  2, 3 \r\n"
        "empty =\n"
        "path = a=b\n"
        "last = no newline";
    const std::vector<IniEntry> entries = parse_ini(text, "c.ini");
    ASSERT_EQ(entries.size(), 6u);
    const std::vector<IniEntry> expected{
        {"", "top", "1", 2},         {"sweep", "name", "grid", 5},
        {"zip.a", "k", "2, 3", 7},   {"zip.a", "empty", "", 8},
        {"zip.a", "path", "a=b", 9}, {"zip.a", "last", "no newline", 10}};
    for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ(entries[i].section, expected[i].section) << i;
        EXPECT_EQ(entries[i].key, expected[i].key) << i;
        EXPECT_EQ(entries[i].value, expected[i].value) << i;
        EXPECT_EQ(entries[i].line, expected[i].line) << i;
    }
}

// A byte-order mark counts only at the very start; Boost took it for part of the first key.
TEST(Ini, ByteOrderMarkOnlyAtTheStart) {
    EXPECT_EQ(parse_ini("\xEF\xBB\xBFk = 1\n", "c.ini").front().key, "k");
    EXPECT_EQ(parse_ini("k = 1\n\xEF\xBB\xBFj = 2\n", "c.ini").back().key, "\xEF\xBB\xBFj");
}

TEST(Ini, BadLinesNameFileAndLine) {
    EXPECT_EQ(error_of("a = 1\nthis line has no equals sign\n"),
              "c.ini:2: neither [section] nor key = value: 'this line has no equals sign'");
    EXPECT_EQ(error_of("[fixed]\n= 4\n"), "c.ini:2: no key before '=': '= 4'");
    EXPECT_EQ(error_of("\n\n[ ]\n"), "c.ini:3: a section without a name");
    EXPECT_EQ(error_of(std::string("a = 1\nnul\0here\n", 15)),
              "c.ini:2: neither [section] nor key = value: 'nul\\0here'");
}

TEST(Format, EchoedValuesAreCutAndEscaped) {
    EXPECT_EQ(echoed("abc"), "'abc'");
    EXPECT_EQ(echoed(""), "''");
    EXPECT_EQ(echoed(std::string("2\0junk", 6)), "'2\\0junk'");
    EXPECT_EQ(echoed("a\tb\nc\rd\x1b[0m\x7f"), "'a\\tb\\nc\\rd\\x1b[0m\\x7f'");
    EXPECT_EQ(echoed(std::string(80, 'x')), "'" + std::string(80, 'x') + "'");
    EXPECT_EQ(echoed(std::string(10'000'000, 'x')),
              "'" + std::string(80, 'x') + "…' (10000000 bytes)");
    // Cut before a character rather than inside it: 79 bytes, then a 2-byte 'é' at 79-80.
    const std::string accented = std::string(79, 'a') + "\xC3\xA9" + std::string(10, 'b');
    EXPECT_EQ(echoed(accented), "'" + std::string(79, 'a') + "…' (91 bytes)");
    EXPECT_EQ(echoed("abcdef", 3), "'abc…' (6 bytes)");
    EXPECT_EQ(escaped("line\nbreak"), "line\\nbreak");
}
