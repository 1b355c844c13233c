#pragma once
// Reading stores of schema 1, which only `ssldyn upgrade` opens (README "`ssldyn upgrade`"): each
// sweep's plan, attributes and runs, as the schema-2 writer takes them (StoredRun). Schema 1 is
// a group per run: /sweeps/<sweep>/ holds status (int64 per run), index/run_id,
// index/config/<key>, index/result/<column> and runs/<id>/ with trajectory/, theory/ and (network
// models) network/, one entry per record (step -1 where not reached; singular_values records x
// k), init/W0, checkpoint/W and checkpoint/step (-1: none), spectrum/eigenvalues (d).
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "plan/plan.hpp"
#include "store/h5/file.hpp"
#include "store/sweep_store.hpp"

namespace ssldyn::schema1 {

inline constexpr long long version = 1;

// The store at path, read-only: InputError naming path when it is missing, not a regular file,
// not HDF5, truncated, not a store, or of another schema (schema 2: nothing to upgrade).
h5::File open_store(const std::string& path);

// A sweep attribute as stored: text or int64.
using AttributeValue = std::variant<std::string, long long>;

class Sweep {
  public:
    // Reads the sweep's config, index and attributes; InputError naming path when they are
    // unreadable or the runs stored are not those its config expands to.
    Sweep(const h5::File& file, const std::string& path, const std::string& name);

    const std::string& name() const { return name_; }
    // The stored config expanded (a shard's runs only), each run's d as stored, so that the
    // data files need not be at hand.
    const SweepPlan& plan() const { return plan_; }
    // The attributes a schema-2 sweep copies (provenance, merged_from), by name: the stored
    // value, or none when this store has not got it.
    const std::vector<std::pair<std::string, std::optional<AttributeValue>>>& attributes() const {
        return attributes_;
    }
    // Everything stored of the run of that row; InputError naming path when unreadable.
    StoredRun run(Index row) const;

  private:
    std::string path_, name_;
    h5::Group group_;
    SweepPlan plan_;
    std::vector<std::string> ids_;
    std::vector<RunStatus> status_;
    std::vector<std::pair<std::string, std::optional<AttributeValue>>> attributes_;
    // The index's result columns, in schema::result_columns() order (empty: not stored).
    std::vector<std::vector<double>> numbers_;
    std::vector<std::vector<long long>> integers_;
    std::vector<std::vector<std::string>> texts_;
};

}  // namespace ssldyn::schema1
