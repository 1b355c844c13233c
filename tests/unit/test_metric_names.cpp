// The metrics of `ssldyn query`: every recorded series of the schema's tables by one name, its
// final value an index column the writer creates, unknown names bad input listing them all.
#include <gtest/gtest.h>

#include <set>

#include "core/error.hpp"
#include "query/metric.hpp"
#include "store/schema.hpp"

using namespace ssldyn;

TEST(MetricNames, EverySeriesHasOneNameAndAnIndexColumn) {
    std::set<std::string> columns;
    for (const auto& c : schema::result_columns()) columns.insert(c.name);
    std::set<std::string> names;
    for (const auto& series : recorded_series()) {
        const std::string name = metric_name(series);
        EXPECT_TRUE(names.insert(name).second) << name << " names two series";
        EXPECT_EQ(&metric_series(name), &series) << name;
        EXPECT_TRUE(columns.count(series.final_column)) << series.final_column;
    }
    // Gradient descent and its theory for each metric, the distance, each network value.
    EXPECT_EQ(names.size(), 2 * schema::metrics().size() + 1 + schema::network_metrics().size());
    EXPECT_EQ(metric_series("theory_loss").path(), "theory/loss");
    EXPECT_EQ(metric_series("theory_distance").path(), "trajectory/theory_distance");
    const Series& kernel = metric_series("kernel_change");
    EXPECT_EQ(kernel.path(), "network/kernel_change");
    EXPECT_EQ(kernel.final_column, "final_kernel_change");
    EXPECT_TRUE(kernel.recorded_by(Model::supervised));
    EXPECT_FALSE(kernel.recorded_by(Model::linear));
    EXPECT_TRUE(metric_series("loss").recorded_by(Model::linear));
}

TEST(MetricNames, UnknownNamesListTheKnownOnes) {
    try {
        metric_series("theory_kernel_change");
        FAIL() << "no error";
    } catch (const InputError& e) {
        const std::string message = e.what();
        EXPECT_EQ(message.rfind("--metric: unknown metric 'theory_kernel_change'", 0), 0u);
        for (const auto& series : recorded_series()) {
            if (series.group == "theory") continue;  // named once, with "the prefix theory_"
            EXPECT_NE(message.find(series.name), std::string::npos) << series.name;
        }
    }
}
