#pragma once
// Reading a sweep's index table: what ls, query and the sweep summary need, without opening
// any run.
#include <map>
#include <string>
#include <vector>

#include "run/run_result.hpp"
#include "store/h5/file.hpp"

namespace ssldyn {

struct SweepIndex {
    std::string sweep;
    std::vector<std::string> run_ids;
    std::vector<RunStatus> status;
    std::map<std::string, std::vector<std::string>> config;  // setting -> value per run
    std::map<std::string, std::vector<double>> numbers;      // result column -> value per run
    std::map<std::string, std::vector<std::string>> texts;   // text result columns

    std::size_t size() const { return run_ids.size(); }
};

std::vector<std::string> list_sweeps(const h5::File& file);
// only: the settings and result columns to read (all of them when null): a summary of a million
// runs needs a few.
SweepIndex read_index(const h5::File& file, const std::string& sweep,
                      const std::vector<std::string>* only = nullptr);

}  // namespace ssldyn
