#include "query/expression.hpp"

#include <algorithm>

namespace ssldyn {

namespace {

bool is_ordering(Relation relation) {
    return relation != Relation::equal && relation != Relation::not_equal &&
           relation != Relation::in;
}

std::string at(std::size_t position) {
    return "at position " + std::to_string(position);
}

bool equal(const Cell& cell, const Literal& literal) {
    if (const auto* x = std::get_if<double>(&cell)) return literal.number && *x == *literal.number;
    return std::get<std::string>(cell) == literal.text;
}

// Orderings of numbers only: check() refuses those of text. NaN orders with nothing.
bool ordered(double x, Relation relation, double y) {
    switch (relation) {
        case Relation::less:
            return x < y;
        case Relation::less_equal:
            return x <= y;
        case Relation::greater:
            return x > y;
        case Relation::greater_equal:
            return x >= y;
        default:
            return false;
    }
}

bool holds(const Comparison& c, const Value& value) {
    const auto equals = [&](const Literal& literal) { return value && equal(*value, literal); };
    switch (c.relation) {
        case Relation::equal:
            return equals(c.values.front());
        case Relation::not_equal:
            return !equals(c.values.front());
        case Relation::in:
            return std::any_of(c.values.begin(), c.values.end(), equals);
        default: {
            const double* x = value ? std::get_if<double>(&*value) : nullptr;
            const auto& y = c.values.front().number;
            return x && y && ordered(*x, c.relation, *y);
        }
    }
}

// Whether some run has the value: numbers compare as numbers (2.0 names k = 2).
bool is_known(const Column& column, const Literal& literal) {
    return std::any_of(column.values.begin(), column.values.end(), [&](const std::string& v) {
        if (column.type == ColumnType::number) return as_number(v) == literal.number;
        return v == literal.text;
    });
}

void check_comparison(const Comparison& c, const StoreColumns& columns, const std::string& source) {
    const Column* column = columns.find(c.name);
    if (!column)
        throw where_error(source, "unknown name '" + c.name + "' " + at(c.position) + " (" +
                                      columns.known_names(c.name) + ")");
    if (is_ordering(c.relation) && column->type == ColumnType::text)
        throw where_error(source, "'" + c.name + " " +
                                      std::string(name_of(relation_names, c.relation)) + " " +
                                      c.values.front().text + "' " + at(c.position) +
                                      " orders text; " + c.name + " takes ==, != or in");
    for (const auto& literal : c.values) {
        if (column->type == ColumnType::number && !literal.number)
            throw where_error(source, "'" + literal.text + "' " + at(literal.position) +
                                          " is not a number, and " + c.name + " is one");
        if (!is_ordering(c.relation) && !column->values.empty() && !is_known(*column, literal))
            throw where_error(source, "no run has " + c.name + " '" + literal.text + "' (" +
                                          at(literal.position) + "); the store's runs have " +
                                          c.name + " " + listed(column->values));
    }
}

}  // namespace

Expression Expression::comparison(Comparison comparison) {
    Expression e;
    e.kind_ = Kind::comparison;
    e.comparison_ = std::move(comparison);
    return e;
}

Expression Expression::negation(Expression operand) {
    Expression e;
    e.kind_ = Kind::negation;
    e.operands_.push_back(std::move(operand));
    return e;
}

Expression Expression::conjunction(Expression left, Expression right) {
    Expression e;
    e.kind_ = Kind::conjunction;
    e.operands_.push_back(std::move(left));
    e.operands_.push_back(std::move(right));
    return e;
}

Expression Expression::disjunction(Expression left, Expression right) {
    Expression e = conjunction(std::move(left), std::move(right));
    e.kind_ = Kind::disjunction;
    return e;
}

void Expression::collect_names(std::vector<std::string>& out) const {
    if (kind_ == Kind::comparison) {
        if (std::find(out.begin(), out.end(), comparison_.name) == out.end())
            out.push_back(comparison_.name);
        return;
    }
    for (const auto& operand : operands_) operand.collect_names(out);
}

std::vector<std::string> Expression::names() const {
    std::vector<std::string> out;
    collect_names(out);
    return out;
}

void Expression::check(const StoreColumns& columns, const std::string& source) const {
    if (kind_ == Kind::comparison) return check_comparison(comparison_, columns, source);
    for (const auto& operand : operands_) operand.check(columns, source);
}

bool Expression::matches(const Lookup& lookup) const {
    switch (kind_) {
        case Kind::comparison:
            return holds(comparison_, lookup(comparison_.name));
        case Kind::negation:
            return !operands_.front().matches(lookup);
        case Kind::conjunction:
            return operands_[0].matches(lookup) && operands_[1].matches(lookup);
        case Kind::disjunction:
            return operands_[0].matches(lookup) || operands_[1].matches(lookup);
    }
    return false;
}

InputError where_error(const std::string& source, const std::string& what) {
    return InputError("--where '" + source + "': " + what);
}

}  // namespace ssldyn
