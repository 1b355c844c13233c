#include "query/parse.hpp"

#include <algorithm>
#include <cctype>

namespace ssldyn {

namespace {

struct Token {
    enum class Kind { word, quoted, relation, open, close, comma, end };
    Kind kind = Kind::end;
    std::string spelling;  // as written
    std::string text;      // a quoted value without its quotes; else the spelling
    std::size_t position = 0;
    Relation relation = Relation::equal;
};

bool ends_word(char ch) {
    return std::isspace(static_cast<unsigned char>(ch)) ||
           std::string_view("(),=!<>'\"").find(ch) != std::string_view::npos;
}

std::string lower(std::string s) {
    for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
}

std::vector<Token> tokens_of(const std::string& source) {
    std::vector<Token> tokens;
    auto add = [&](Token::Kind kind, std::size_t from, std::size_t length) {
        const std::string spelling = source.substr(from, length);
        tokens.push_back({kind, spelling, spelling, from + 1});
    };
    std::size_t i = 0;
    while (i < source.size()) {
        const char ch = source[i];
        if (std::isspace(static_cast<unsigned char>(ch))) {
            ++i;
        } else if (ch == '(' || ch == ')' || ch == ',') {
            add(ch == '('   ? Token::Kind::open
                : ch == ')' ? Token::Kind::close
                            : Token::Kind::comma,
                i, 1);
            ++i;
        } else if (ch == '\'' || ch == '"') {
            const auto close = source.find(ch, i + 1);
            if (close == std::string::npos)
                throw where_error(source, "the string opened by " + std::string(1, ch) +
                                              " at position " + std::to_string(i + 1) +
                                              " is not closed");
            add(Token::Kind::quoted, i, close - i + 1);
            tokens.back().text = source.substr(i + 1, close - i - 1);
            i = close + 1;
        } else if (std::string_view("=!<>").find(ch) != std::string_view::npos) {
            const bool two = i + 1 < source.size() && source[i + 1] == '=';
            if (ch == '!' && !two)
                throw where_error(source, "'!' at position " + std::to_string(i + 1) +
                                              " is no relation; 'not equal' is !=");
            add(Token::Kind::relation, i, two ? 2 : 1);
            const std::string op = ch == '=' ? "==" : tokens.back().spelling;
            tokens.back().relation = parse_name(relation_names, op, "--where");
            i += two ? 2 : 1;
        } else {
            std::size_t end = i;
            while (end < source.size() && !ends_word(source[end])) ++end;
            add(Token::Kind::word, i, end - i);
            i = end;
        }
    }
    tokens.push_back({Token::Kind::end, "", "", source.size() + 1});
    return tokens;
}

class Parser {
  public:
    explicit Parser(const std::string& source) : source_(source), tokens_(tokens_of(source)) {}

    Expression expression() {
        Expression e = disjunction();
        if (peek().kind != Token::Kind::end)
            fail("expected and, or or the end after a comparison, found " + found(peek()));
        return e;
    }

  private:
    const std::string& source_;
    std::vector<Token> tokens_;
    std::size_t next_ = 0;

    const Token& peek(std::size_t ahead = 0) const {
        return tokens_[std::min(next_ + ahead, tokens_.size() - 1)];
    }
    const Token& take() {
        const Token& t = peek();
        if (next_ + 1 < tokens_.size()) ++next_;
        return t;
    }
    static bool is_keyword(const Token& t, const char* keyword) {
        return t.kind == Token::Kind::word && lower(t.text) == keyword;
    }
    static std::string found(const Token& t) {
        if (t.kind == Token::Kind::end) return "the end of the expression";
        return "'" + t.spelling + "' at position " + std::to_string(t.position);
    }
    [[noreturn]] void fail(const std::string& what) const { throw where_error(source_, what); }

    Expression disjunction() {
        Expression e = conjunction();
        while (is_keyword(peek(), "or")) {
            take();
            e = Expression::disjunction(std::move(e), conjunction());
        }
        return e;
    }

    Expression conjunction() {
        Expression e = unary();
        while (is_keyword(peek(), "and")) {
            take();
            e = Expression::conjunction(std::move(e), unary());
        }
        return e;
    }

    Expression unary() {
        if (is_keyword(peek(), "not")) {
            take();
            return Expression::negation(unary());
        }
        if (peek().kind == Token::Kind::open) {
            const Token& open = take();
            Expression e = disjunction();
            if (peek().kind != Token::Kind::close)
                fail("expected ')' to close the '(' at position " + std::to_string(open.position) +
                     ", found " + found(peek()));
            take();
            return e;
        }
        return comparison();
    }

    Expression comparison() {
        const Token& name = take();
        const bool is_name =
            name.kind == Token::Kind::word &&
            (std::isalpha(static_cast<unsigned char>(name.text[0])) || name.text[0] == '_') &&
            !is_keyword(name, "and") && !is_keyword(name, "or") && !is_keyword(name, "in") &&
            !is_keyword(name, "not");
        if (!is_name)
            fail("expected a name (a setting, a result column, sweep, run_id or status), found " +
                 found(name));
        Comparison c{name.text, name.position, Relation::equal, {}};
        if (peek().kind == Token::Kind::relation) {
            const Token& relation = take();
            c.relation = relation.relation;
            c.values.push_back(value(relation));
            return Expression::comparison(std::move(c));
        }
        const bool negated = is_keyword(peek(), "not") && is_keyword(peek(1), "in");
        if (negated) take();
        if (!is_keyword(peek(), "in"))
            fail("expected ==, !=, <, <=, >, >= or in after '" + name.text + "', found " +
                 found(peek()));
        c.relation = Relation::in;
        c.values = list(take());
        Expression e = Expression::comparison(std::move(c));
        return negated ? Expression::negation(std::move(e)) : e;
    }

    Literal value(const Token& after) {
        const Token& t = take();
        if (t.kind != Token::Kind::word && t.kind != Token::Kind::quoted)
            fail("expected a value (a number, a word or a quoted string) after '" + after.spelling +
                 "' at position " + std::to_string(after.position) + ", found " + found(t));
        return {t.text, t.position, as_number(t.text)};
    }

    std::vector<Literal> list(const Token& in) {
        if (peek().kind != Token::Kind::open)
            fail("expected '(' after '" + in.spelling + "' at position " +
                 std::to_string(in.position) + ", found " + found(peek()));
        const Token& open = take();
        std::vector<Literal> values{value(open)};
        while (peek().kind == Token::Kind::comma) values.push_back(value(take()));
        if (peek().kind != Token::Kind::close)
            fail("expected ',' or ')' in the list opened at position " +
                 std::to_string(open.position) + ", found " + found(peek()));
        take();
        return values;
    }
};

}  // namespace

WhereClause parse_where(const std::string& text) {
    return {text, Parser(text).expression()};
}

}  // namespace ssldyn
