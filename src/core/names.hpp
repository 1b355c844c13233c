#pragma once
// One table per enumeration maps names to values and back, so that the config parser,
// the store and the help text can never disagree about a spelling.
#include <array>
#include <string>
#include <string_view>
#include <utility>

#include "core/error.hpp"
#include "core/format.hpp"

namespace ssldyn {

template <typename Enum, std::size_t N>
using NameTable = std::array<std::pair<Enum, std::string_view>, N>;

namespace detail {
template <typename Row, std::size_t N, std::size_t... I>
constexpr auto name_table(const std::array<Row, N>& rows, std::index_sequence<I...>) {
    using Enum = decltype(Row::value);
    return NameTable<Enum, N>{{std::pair<Enum, std::string_view>{rows[I].value, rows[I].name}...}};
}
}  // namespace detail

// The names of a table whose rows say more about each value (a `value` and a `name` member, and
// what the value can do), so that the names and the capabilities are one list.
template <typename Row, std::size_t N>
constexpr auto name_table(const std::array<Row, N>& rows) {
    return detail::name_table(rows, std::make_index_sequence<N>{});
}

// Whether a table's rows hold the values 0, 1, 2, ... in order, so that a value indexes its row.
template <typename Row, std::size_t N>
constexpr bool in_enumeration_order(const std::array<Row, N>& rows) {
    for (std::size_t i = 0; i < N; ++i)
        if (static_cast<std::size_t>(rows[i].value) != i) return false;
    return true;
}

template <typename Enum, std::size_t N>
std::string_view name_of(const NameTable<Enum, N>& table, Enum value) {
    for (const auto& [e, name] : table)
        if (e == value) return name;
    throw RuntimeFailure("enumeration value without a name");
}

template <typename Enum, std::size_t N>
std::string choices_of(const NameTable<Enum, N>& table) {
    std::string out;
    for (const auto& entry : table) {
        if (!out.empty()) out += ", ";
        out += entry.second;
    }
    return out;
}

// The names of the rows of a table with capabilities that `keep` accepts, as alternatives for a
// message: "a", "a or b", "a, b or c".
template <typename Row, std::size_t N, typename Keep>
std::string alternatives_of(const std::array<Row, N>& rows, Keep keep) {
    std::string out, last;
    for (const Row& row : rows) {
        if (!keep(row)) continue;
        if (!last.empty()) out += (out.empty() ? "" : ", ") + last;
        last = std::string(row.name);
    }
    return out.empty() ? last : out + " or " + last;
}

// `what` names the input (a config key) so the message says where the bad value came from.
template <typename Enum, std::size_t N>
Enum parse_name(const NameTable<Enum, N>& table, std::string_view text, std::string_view what) {
    for (const auto& [e, name] : table)
        if (name == text) return e;
    throw InputError(std::string(what) + ": unknown value " + echoed(text) +
                     " (choose one of: " + choices_of(table) + ")");
}

}  // namespace ssldyn
