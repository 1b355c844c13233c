#pragma once
// A run as the store holds it: its rows of the sweep's datasets, its weights and spectrum, its
// result columns (README "The HDF5 store").
#include <string>
#include <vector>

#include "linalg/matrix.hpp"
#include "run/record.hpp"
#include "run/run_result.hpp"

namespace ssldyn {

// Everything the store holds of one run, row by row as the sweep's datasets do: what a finished
// run writes, and what an upgrade of an older store copies.
struct StoredRun {
    Index row = 0;
    RunStatus status = RunStatus::pending;
    std::vector<Record> records;
    Matrix w0;                     // empty: none (a run that failed before its first step)
    Matrix w;                      // the weights after checkpoint_step steps
    Index checkpoint_step = -1;    // -1: w holds nothing
    std::vector<double> spectrum;  // empty: none
    // The index's result columns, in the order of schema::result_columns().
    std::vector<double> numbers;
    std::vector<long long> integers;
    std::vector<std::string> texts;
    // The (run, component) results, in the order of schema::component_columns() (empty: NaN).
    std::vector<std::vector<double>> components;

    StoredRun();  // results NaN, -1 and empty
    void set(const std::string& column, double value);
    void set(const std::string& column, long long value);
    void set(const std::string& column, const std::string& value);
    void set_components(const std::string& column, std::vector<double> values);
    long long integer(const std::string& column) const;
    // When it ran (UTC seconds) and the event of its sweep that ran it.
    void set_ran(double started, double ended, long long event);
};

// A finished run as the store holds it.
StoredRun stored_run(Index row, const RunResult& result, const std::string& host);

}  // namespace ssldyn
