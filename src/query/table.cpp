#include "query/table.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/format.hpp"

namespace ssldyn {

namespace {

// Integers in all their digits (1000000, not 1e+06): exact below 2^53, where doubles hold every
// integer.
bool is_integer(double v) {
    return std::fabs(v) < 9007199254740992.0 && v == std::trunc(v);
}

std::string integer_text(double v) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.0f", v);
    return buffer;
}

std::string short_number(double v) {
    if (std::isnan(v)) return "-";
    if (is_integer(v)) return integer_text(v);
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.6g", v);
    return buffer;
}

std::string exact_number(double v) {
    return is_integer(v) ? integer_text(v) : shortest_text(v);
}

std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string out = "\"";
    for (char ch : s) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    return out + "\"";
}

std::string json_string(const std::string& s) {
    std::string out = "\"";
    for (char ch : s) {
        if (ch == '"' || ch == '\\') {
            out += '\\';
            out += ch;
        } else if (static_cast<unsigned char>(ch) < 0x20) {
            char buffer[8];
            std::snprintf(buffer, sizeof buffer, "\\u%04x", ch);
            out += buffer;
        } else {
            out += ch;
        }
    }
    return out + "\"";
}

}  // namespace

std::string json_object(const Table& table, std::size_t row) {
    std::string out = "{";
    for (std::size_t c = 0; c < table.columns.size(); ++c) {
        out += (c ? ", " : "") + json_string(table.columns[c]) + ": ";
        const Cell& cell = table.rows[row][c];
        if (const auto* s = std::get_if<std::string>(&cell))
            out += json_string(*s);
        else if (std::isfinite(std::get<double>(cell)))
            out += exact_number(std::get<double>(cell));
        else
            out += "null";
    }
    return out + "}";
}

std::string render(const Table& table, TableFormat format) {
    std::string out;
    if (format == TableFormat::json) {
        out += "[";
        for (std::size_t r = 0; r < table.rows.size(); ++r) {
            out += r ? ",\n " : "\n ";
            out += json_object(table, r);
        }
        return out + (table.rows.empty() ? "]\n" : "\n]\n");
    }
    if (format == TableFormat::csv) {
        for (std::size_t c = 0; c < table.columns.size(); ++c)
            out += (c ? "," : "") + csv_field(table.columns[c]);
        out += "\n";
        for (const auto& row : table.rows) {
            for (std::size_t c = 0; c < row.size(); ++c) {
                out += c ? "," : "";
                if (const auto* s = std::get_if<std::string>(&row[c]))
                    out += csv_field(*s);
                else if (!std::isnan(std::get<double>(row[c])))
                    out += exact_number(std::get<double>(row[c]));
            }
            out += "\n";
        }
        return out;
    }
    std::vector<std::vector<std::string>> text;
    std::vector<std::size_t> width;
    for (const auto& c : table.columns) width.push_back(c.size());
    for (const auto& row : table.rows) {
        text.emplace_back();
        for (std::size_t c = 0; c < row.size(); ++c) {
            const auto* s = std::get_if<std::string>(&row[c]);
            text.back().push_back(s ? *s : short_number(std::get<double>(row[c])));
            width[c] = std::max(width[c], text.back().back().size());
        }
    }
    auto line = [&](const std::vector<std::string>& cells) {
        std::string l;
        for (std::size_t c = 0; c < cells.size(); ++c) {
            std::string cell = cells[c];
            cell.resize(width[c], ' ');
            l += (c ? "  " : "") + cell;
        }
        while (!l.empty() && l.back() == ' ') l.pop_back();
        return l + "\n";
    };
    out += line(table.columns);
    for (const auto& row : text) out += line(row);
    return out;
}

}  // namespace ssldyn
