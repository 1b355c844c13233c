#pragma once
// One table per enumeration maps names to values and back, so that the config parser,
// the store and the help text can never disagree about a spelling.
#include <array>
#include <string>
#include <string_view>
#include <utility>

#include "core/error.hpp"

namespace ssldyn {

template <typename Enum, std::size_t N>
using NameTable = std::array<std::pair<Enum, std::string_view>, N>;

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

// `what` names the input (a config key) so the message says where the bad value came from.
template <typename Enum, std::size_t N>
Enum parse_name(const NameTable<Enum, N>& table, std::string_view text, std::string_view what) {
    for (const auto& [e, name] : table)
        if (name == text) return e;
    throw InputError(std::string(what) + ": unknown value '" + std::string(text) +
                     "' (choose one of: " + choices_of(table) + ")");
}

}  // namespace ssldyn
