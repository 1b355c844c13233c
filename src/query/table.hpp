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

// Numbers: shortest round-trip text in CSV and JSON (NaN as empty / null), 6 digits in tables.
std::string render(const Table& table, TableFormat format);

}  // namespace ssldyn
