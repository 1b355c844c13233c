#pragma once
// `--where` expressions: comparisons joined by `and`, e.g. "k>=16 and loss==contrastive".
// Values compare as numbers when both sides are numbers, else as text (== and != only).
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ssldyn {

class Filter {
  public:
    // Looks a name up in one row; nullopt when the name is unknown.
    using Lookup = std::function<std::optional<std::string>(const std::string& name)>;

    Filter() = default;
    explicit Filter(const std::string& expression);  // InputError on bad syntax

    // Names the expression uses (so that callers can check them and show them).
    std::vector<std::string> names() const;
    // InputError when a name is unknown.
    bool matches(const Lookup& lookup) const;

  private:
    struct Comparison {
        std::string name, op, value;
    };
    std::vector<Comparison> terms_;
};

}  // namespace ssldyn
