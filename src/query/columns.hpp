#pragma once
// The columns a query sees in a store's index tables: the run's identity (sweep, run_id, status),
// its settings and its result columns, each typed (number or text), with the values the store's
// runs have where an equality may name one.
//
// The index keeps settings as text. A setting is a number when every value of it in the store
// reads as one (as_number), so that k = 16 orders after k = 9 and JSON writes 16, not "16".
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "query/table.hpp"
#include "store/index_reader.hpp"

namespace ssldyn {

// The number a text spells when all of it is one finite decimal ("16", "-0.5", "1e-3"); words
// such as "inf" or "nan" are text.
std::optional<double> as_number(const std::string& text);

enum class ColumnKind { identity, setting, result };
enum class ColumnType { number, text };

struct Column {
    std::string name;
    ColumnKind kind = ColumnKind::setting;
    ColumnType type = ColumnType::text;
    // What an equality on the column may name: the values the store's runs have (numbers in
    // ascending order, text alphabetically), every status for `status`; empty for results,
    // which are not checked.
    std::vector<std::string> values;
};

// A run's value of a column: nullopt when its sweep has no such column (an older schema).
using Value = std::optional<Cell>;

class StoreColumns {
  public:
    // The columns of every sweep of a store, read from their index tables.
    explicit StoreColumns(const std::vector<SweepIndex>& indexes);

    const Column* find(const std::string& name) const;  // nullptr when unknown
    // Settings in the order of the config table (others after, alphabetically), then results.
    const std::vector<Column>& columns() const { return columns_; }
    // For the message about an unknown name: every setting, the results that resemble it (a
    // store has some sixty result columns, too many for one line), and run_id, status, sweep.
    std::string known_names(const std::string& unknown) const;

    Value value(const SweepIndex& index, std::size_t row, const Column& column) const;
    // nullopt also for a name that is no column.
    Value value(const SweepIndex& index, std::size_t row, const std::string& name) const;

  private:
    std::vector<Column> columns_;
    std::map<std::string, std::size_t> position_;  // name -> index in columns_
};

// "a, b, c" with at most `shown` values and how many there are in all.
std::string listed(const std::vector<std::string>& values, std::size_t shown = 20);

}  // namespace ssldyn
