#pragma once
// A result table and its three renderings: aligned text, CSV and JSON.
#include <string>
#include <variant>
#include <vector>

namespace ssldyn {

using Cell = std::variant<std::string, double>;

struct Table {
    std::vector<std::string> columns;
    std::vector<std::vector<Cell>> rows;
};

enum class TableFormat { table, csv, json };

// Numbers: integers in all their digits; others as the shortest text that reads back the same
// double in CSV and JSON (NaN as empty / null), 6 digits in tables (NaN as -). Text: JSON strings.
std::string render(const Table& table, TableFormat format);
// One row as a JSON object, the columns its keys.
std::string json_object(const Table& table, std::size_t row);

}  // namespace ssldyn
