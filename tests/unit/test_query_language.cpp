// The `--where` language on a small in-memory store: each expression against the runs it must
// match, worked out by hand from the table below, and each bad expression against the token its
// message must name.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "query/parse.hpp"

namespace ssldyn {
namespace {

// Two sweeps. grid: five runs over k, dynamics, loss and eta_rel at d = 16, one failed (its
// result NaN). other: two runs at d = 32 from an older schema without eta_rel.
//
//   run  sweep  k   dynamics    loss            eta_rel  d   status  final_effective_rank
//   r0   grid   2   naive       contrastive     0.1      16  done    1.5
//   r1   grid   4   orthogonal  contrastive     0.05     16  done    2
//   r2   grid   9   naive       noncontrastive  0.1      16  done    3.5
//   r3   grid   16  orthogonal  noncontrastive  0.05     16  failed  NaN   (failure: diverged)
//   r4   grid   16  naive       contrastive     0.1      16  done    4
//   r5   other  2   naive       contrastive     -        32  done    1
//   r6   other  4   penalty     noncontrastive  -        32  running NaN
std::vector<SweepIndex> small_store() {
    SweepIndex grid;
    grid.sweep = "grid";
    grid.run_ids = {"r0", "r1", "r2", "r3", "r4"};
    grid.status = {RunStatus::done, RunStatus::done, RunStatus::done, RunStatus::failed,
                   RunStatus::done};
    grid.config["k"] = {"2", "4", "9", "16", "16"};
    grid.config["dynamics"] = {"naive", "orthogonal", "naive", "orthogonal", "naive"};
    grid.config["loss"] = {"contrastive", "contrastive", "noncontrastive", "noncontrastive",
                           "contrastive"};
    grid.config["eta_rel"] = {"0.1", "0.05", "0.1", "0.05", "0.1"};
    grid.config["d"] = {"16", "16", "16", "16", "16"};
    grid.numbers["final_effective_rank"] = {1.5, 2.0, 3.5, NAN, 4.0};
    grid.texts["failure"] = {"", "", "", "diverged", ""};

    SweepIndex other;
    other.sweep = "other";
    other.run_ids = {"r5", "r6"};
    other.status = {RunStatus::done, RunStatus::running};
    other.config["k"] = {"2", "4"};
    other.config["dynamics"] = {"naive", "penalty"};
    other.config["loss"] = {"contrastive", "noncontrastive"};
    other.config["d"] = {"32", "32"};
    other.numbers["final_effective_rank"] = {1.0, NAN};
    other.texts["failure"] = {"", ""};
    return {grid, other};
}

std::set<std::string> matching(const std::string& text) {
    const auto store = small_store();
    const StoreColumns columns(store);
    const WhereClause where = parse_where(text);
    where.expression.check(columns, where.text);
    std::set<std::string> out;
    for (const auto& index : store)
        for (std::size_t row = 0; row < index.size(); ++row)
            if (where.expression.matches(
                    [&](const std::string& name) { return columns.value(index, row, name); }))
                out.insert(index.run_ids[row]);
    return out;
}

struct Case {
    const char* expression;
    std::set<std::string> runs;
};

TEST(QueryLanguage, ExpressionsMatchTheirRuns) {
    const std::vector<Case> cases{
        {"k==2 or k==4", {"r0", "r1", "r5", "r6"}},
        {"k == 2 OR k == 4", {"r0", "r1", "r5", "r6"}},
        {"k=2", {"r0", "r5"}},
        {"not (k == 2)", {"r1", "r2", "r3", "r4", "r6"}},
        {"not not k == 2", {"r0", "r5"}},
        {"k in (2, 4) and dynamics == 'naive'", {"r0", "r5"}},
        {"k not in (2, 4)", {"r2", "r3", "r4"}},
        {"loss == \"contrastive\"", {"r0", "r1", "r4", "r5"}},
        // Numbers compare as numbers: as text, "9" > "10" and "16" < "9".
        {"k > 10", {"r3", "r4"}},
        {"k > 9", {"r3", "r4"}},
        {"k >= 9", {"r2", "r3", "r4"}},
        {"k < 9", {"r0", "r1", "r5", "r6"}},
        {"k <= 4 and k != 2", {"r1", "r6"}},
        {"eta_rel == 1e-1", {"r0", "r2", "r4"}},
        {"k == '16'", {"r3", "r4"}},
        // Precedence: not binds tighter than and, and tighter than or.
        {"not k==2 and dynamics==naive", {"r2", "r4"}},
        {"not (k==2 and dynamics==naive)", {"r1", "r2", "r3", "r4", "r6"}},
        {"dynamics==naive or k==4 and dynamics==orthogonal", {"r0", "r1", "r2", "r4", "r5"}},
        {"(dynamics==naive or k==4) and dynamics==orthogonal", {"r1"}},
        // A run without the setting (older sweep) or with a NaN result matches only != / not.
        {"eta_rel == 0.1", {"r0", "r2", "r4"}},
        {"eta_rel != 0.1", {"r1", "r3", "r5", "r6"}},
        {"final_effective_rank < 3", {"r0", "r1", "r5"}},
        {"not final_effective_rank < 3", {"r2", "r3", "r4", "r6"}},
        {"final_effective_rank >= 2 and final_effective_rank <= 3.5", {"r1", "r2"}},
        {"d > 20", {"r5", "r6"}},
        {"failure == diverged", {"r3"}},
        {"status == failed or status == running", {"r3", "r6"}},
        {"status == pending", {}},
        {"sweep == other and dynamics in (naive, orthogonal)", {"r5"}},
        {"run_id in (r0, r4, r6)", {"r0", "r4", "r6"}},
        {"(((k == 16)))", {"r3", "r4"}},
    };
    for (const auto& c : cases) EXPECT_EQ(matching(c.expression), c.runs) << c.expression;
}

struct BadCase {
    const char* expression;
    std::vector<std::string> named;  // in the message, besides the expression itself
};

TEST(QueryLanguage, ErrorsNameTheToken) {
    const std::vector<BadCase> cases{
        {"k>>3", {"'>' at position 3", "after '>' at position 2"}},
        {"k=>3", {"'>' at position 3"}},
        {"k", {"after 'k'", "the end of the expression"}},
        {"k==", {"after '=='", "the end of the expression"}},
        {"k>=2 and", {"expected a name", "the end of the expression"}},
        {"", {"expected a name", "the end of the expression"}},
        {"k!3", {"'!' at position 2", "!="}},
        {"2 == k", {"expected a name", "'2' at position 1"}},
        {"k == 2 and or k == 4", {"expected a name", "'or' at position 12"}},
        {"k==2 k==4", {"'k' at position 6"}},
        {"(k==2", {"')'", "'(' at position 1", "the end of the expression"}},
        {"k==2)", {"')' at position 5"}},
        {"k in 2", {"'('", "'2' at position 6"}},
        {"k in (2,)", {"')' at position 9"}},
        {"k in (2 4)", {"',' or ')'", "'4' at position 9"}},
        {"dynamics == 'naive", {"not closed", "position 13"}},
        // Against the store: unknown names list the names, unknown values the store's values.
        {"kk==2",
         {"unknown name 'kk' at position 1", "settings: d, loss, dynamics, k, eta_rel;",
          "2 results (--columns all shows them)", "run_id"}},
        {"effective_rank > 1",
         {"unknown name 'effective_rank' at position 1",
          "results like it: final_effective_rank, of 2 results"}},
        {"k == 2 or dynamcs == naive", {"unknown name 'dynamcs' at position 11"}},
        {"dynamics==spher",
         {"no run has dynamics 'spher' (at position 11)", "naive, orthogonal, penalty"}},
        {"k==3", {"'3' (at position 4)", "k 2, 4, 9, 16"}},
        {"k in (2, 5)", {"'5' (at position 10)", "2, 4, 9, 16"}},
        {"status == fail", {"'fail'", "pending, running, done, failed"}},
        {"sweep == grd", {"'grd'", "grid, other"}},
        {"run_id == r9", {"'r9'", "r0, r1, r2, r3, r4, r5, r6"}},
        {"loss<abc", {"'loss < abc' at position 1 orders text"}},
        {"status >= done", {"'status >= done' at position 1 orders text"}},
        {"k == abc", {"'abc' at position 6 is not a number"}},
        {"final_effective_rank < high", {"'high' at position 24 is not a number"}},
    };
    for (const auto& c : cases) {
        try {
            matching(c.expression);
            ADD_FAILURE() << c.expression << ": accepted";
        } catch (const InputError& e) {
            const std::string message = e.what();
            EXPECT_EQ(message.rfind("--where '" + std::string(c.expression) + "': ", 0), 0u)
                << message;
            for (const auto& name : c.named)
                EXPECT_NE(message.find(name), std::string::npos) << c.expression << ": " << message;
        }
    }
}

TEST(QueryLanguage, ColumnsAreTypedFromTheStoresValues) {
    const auto store = small_store();
    const StoreColumns columns(store);
    const Column* k = columns.find("k");
    ASSERT_NE(k, nullptr);
    EXPECT_EQ(k->type, ColumnType::number);
    EXPECT_EQ(k->values, (std::vector<std::string>{"2", "4", "9", "16"}));  // by value
    EXPECT_EQ(columns.find("eta_rel")->type, ColumnType::number);
    EXPECT_EQ(columns.find("dynamics")->type, ColumnType::text);
    EXPECT_EQ(columns.find("failure")->type, ColumnType::text);
    EXPECT_EQ(columns.find("final_effective_rank")->kind, ColumnKind::result);
    EXPECT_EQ(columns.find("nosuch"), nullptr);
    // A run of a sweep without the setting has no value of it; values are typed.
    EXPECT_FALSE(columns.value(store[1], 0, "eta_rel").has_value());
    EXPECT_EQ(columns.value(store[0], 3, "k"), Value{Cell{16.0}});
    EXPECT_EQ(columns.value(store[0], 3, "status"), Value{Cell{std::string("failed")}});
    EXPECT_FALSE(as_number("inf").has_value());
    EXPECT_FALSE(as_number("0x10").has_value());
    EXPECT_FALSE(as_number("").has_value());
    EXPECT_EQ(as_number("-2.5e-1"), -0.25);
}

TEST(QueryLanguage, NamesInOrderOfAppearance) {
    const auto where = parse_where("(k == 2 or loss == contrastive) and not k in (4) and d > 3");
    EXPECT_EQ(where.expression.names(), (std::vector<std::string>{"k", "loss", "d"}));
}

}  // namespace
}  // namespace ssldyn
