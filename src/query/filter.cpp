#include "query/filter.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "core/error.hpp"

namespace ssldyn {

namespace {

std::string trim(const std::string& s) {
    const auto first = s.find_first_not_of(" \t");
    if (first == std::string::npos) return {};
    return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

std::optional<double> number(const std::string& s) {
    if (s.empty()) return std::nullopt;
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size()) return std::nullopt;
    return v;
}

// Splits on the word "and" between terms.
std::vector<std::string> terms_of(const std::string& expression) {
    std::vector<std::string> out;
    std::string rest = " " + expression + " ";
    while (true) {
        const auto at = rest.find(" and ");
        if (at == std::string::npos) break;
        out.push_back(trim(rest.substr(0, at)));
        rest = rest.substr(at + 4);
    }
    out.push_back(trim(rest));
    return out;
}

}  // namespace

Filter::Filter(const std::string& expression) {
    for (const auto& term : terms_of(expression)) {
        if (term.empty())
            throw InputError("--where: '" + expression + "' has an empty comparison around 'and'");
        const auto at = term.find_first_of("=!<>");
        if (at == std::string::npos || at == 0)
            throw InputError("--where: '" + term + "' is not a comparison like k>=16");
        std::size_t length = 1;
        if (at + 1 < term.size() && term[at + 1] == '=') length = 2;
        std::string op = term.substr(at, length);
        if (op == "=") op = "==";
        if (op == "!") throw InputError("--where: '" + term + "': use != for 'not equal'");
        const std::string value = trim(term.substr(at + length));
        if (value.empty()) throw InputError("--where: '" + term + "' has no value");
        terms_.push_back({trim(term.substr(0, at)), op, value});
    }
}

std::vector<std::string> Filter::names() const {
    std::vector<std::string> out;
    for (const auto& t : terms_) out.push_back(t.name);
    return out;
}

bool Filter::matches(const Lookup& lookup) const {
    for (const auto& t : terms_) {
        const auto found = lookup(t.name);
        if (!found) throw InputError("--where: unknown name '" + t.name + "'");
        const auto a = number(*found), b = number(t.value);
        bool ok = false;
        if (a && b) {
            // NaN (a run not done) matches no comparison but !=.
            if (t.op == "==")
                ok = *a == *b;
            else if (t.op == "!=")
                ok = !(*a == *b);
            else if (t.op == "<")
                ok = *a < *b;
            else if (t.op == "<=")
                ok = *a <= *b;
            else if (t.op == ">")
                ok = *a > *b;
            else if (t.op == ">=")
                ok = *a >= *b;
        } else {
            if (t.op != "==" && t.op != "!=")
                throw InputError("--where: '" + t.name + " " + t.op + " " + t.value +
                                 "' compares text; use == or !=");
            ok = (*found == t.value) == (t.op == "==");
        }
        if (!ok) return false;
    }
    return true;
}

}  // namespace ssldyn
