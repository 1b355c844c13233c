#pragma once
// The tree of a `--where` expression: comparisons of one column with values, under not, and, or;
// checked against the columns of a store, then evaluated run by run.
#include <functional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/names.hpp"
#include "query/columns.hpp"

namespace ssldyn {

// A value as written: a bare word or a quoted string, with the number it spells if any.
struct Literal {
    std::string text;
    std::size_t position = 0;  // of its first character in the expression, from 1
    std::optional<double> number;
};

enum class Relation { equal, not_equal, less, less_equal, greater, greater_equal, in };
// How each is written (`=` is read as `==` too).
inline constexpr NameTable<Relation, 7> relation_names{{
    {Relation::equal, "=="},
    {Relation::not_equal, "!="},
    {Relation::less, "<"},
    {Relation::less_equal, "<="},
    {Relation::greater, ">"},
    {Relation::greater_equal, ">="},
    {Relation::in, "in"},
}};

// `name relation value`, or `name in (values...)`.
struct Comparison {
    std::string name;
    std::size_t position = 0;
    Relation relation = Relation::equal;
    std::vector<Literal> values;  // one but for `in`
};

class Expression {
  public:
    using Lookup = std::function<Value(const std::string& name)>;

    static Expression comparison(Comparison comparison);
    static Expression negation(Expression operand);
    static Expression conjunction(Expression left, Expression right);
    static Expression disjunction(Expression left, Expression right);

    // The column names it uses, in order of appearance.
    std::vector<std::string> names() const;

    // InputError naming the token and its position in `source` (the expression's text) for an
    // unknown name, a value of another type than its column's, an ordering of text, or a value
    // that an equality or `in` names and no run has.
    void check(const StoreColumns& columns, const std::string& source) const;

    // Whether a run's values, given by name, satisfy it. A value the run lacks (nullopt) or NaN
    // (a result of a run not done) satisfies no comparison; `!=` and `not` negate that.
    bool matches(const Lookup& lookup) const;

  private:
    enum class Kind { comparison, negation, conjunction, disjunction };
    Kind kind_ = Kind::comparison;
    Comparison comparison_;             // Kind::comparison
    std::vector<Expression> operands_;  // the others: one or two

    void collect_names(std::vector<std::string>& out) const;
};

// The error of a `--where` expression: "--where 'SOURCE': WHAT".
InputError where_error(const std::string& source, const std::string& what);

}  // namespace ssldyn
