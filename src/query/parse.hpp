#pragma once
// `--where` expressions, read by recursive descent:
//
//   expression  := disjunction
//   disjunction := conjunction ('or' conjunction)*
//   conjunction := unary ('and' unary)*
//   unary       := 'not' unary | '(' expression ')' | comparison
//   comparison  := NAME relation value | NAME ['not'] 'in' '(' value (',' value)* ')'
//   relation    := '==' | '=' | '!=' | '<' | '<=' | '>' | '>='
//   value       := WORD | 'text' | "text"
//
// so `not` binds tighter than `and`, and `and` tighter than `or`. Keywords are read in any case.
// A word runs up to a blank or one of ( ) , = ! < > ' " (quote values holding those).
#include <string>

#include "query/expression.hpp"

namespace ssldyn {

struct WhereClause {
    std::string text;  // as given, for messages
    Expression expression;
};

// InputError naming the unexpected token (or the end) and its position, from 1.
WhereClause parse_where(const std::string& text);

}  // namespace ssldyn
