#include "core/format.hpp"

#include <cstdio>
#include <cstdlib>

namespace ssldyn {

std::string shortest_text(double value) {
    char buffer[32];
    for (int precision = 6; precision <= 17; ++precision) {
        std::snprintf(buffer, sizeof buffer, "%.*g", precision, value);
        if (std::strtod(buffer, nullptr) == value) break;
    }
    return buffer;
}

std::string escaped(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char ch : text) {
        const auto byte = static_cast<unsigned char>(ch);
        if (byte >= 0x20 && byte != 0x7f) {
            out += ch;
            continue;
        }
        switch (ch) {
            case '\t':
                out += "\\t";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\0':
                out += "\\0";
                break;
            default: {
                char code[5];
                std::snprintf(code, sizeof code, "\\x%02x", byte);
                out += code;
            }
        }
    }
    return out;
}

std::string echoed(std::string_view text, std::size_t shown) {
    if (text.size() <= shown) return "'" + escaped(text) + "'";
    // Not inside a UTF-8 character: back up over its continuation bytes (10xxxxxx).
    std::size_t cut = shown;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) --cut;
    return "'" + escaped(text.substr(0, cut)) + "…' (" + std::to_string(text.size()) + " bytes)";
}

}  // namespace ssldyn
