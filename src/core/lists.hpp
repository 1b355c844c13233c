#pragma once
// Comma-separated lists of names ("loss, effective_rank"): blanks and empty items dropped.
#include <string>
#include <vector>

namespace ssldyn {

inline std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> out;
    std::string item;
    for (char ch : text + ",") {
        if (ch == ',') {
            if (!item.empty()) out.push_back(item);
            item.clear();
        } else if (ch != ' ') {
            item += ch;
        }
    }
    return out;
}

}  // namespace ssldyn
