#include "plan/plan.hpp"

#include <map>
#include <set>
#include <unordered_set>
#include <utility>

#include "config/data_files.hpp"
#include "config/ini.hpp"
#include "core/error.hpp"
#include "core/format.hpp"
#include "data/idx.hpp"
#include "run/problem.hpp"

namespace ssldyn {

namespace {

std::string trim(const std::string& s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return {};
    return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

// "a, b, [1,2], c" -> {"a", "b", "1,2", "c"}: commas inside brackets belong to one value.
std::vector<std::string> split_values(const std::string& text, const std::string& where) {
    std::vector<std::string> out;
    std::string current;
    int depth = 0;
    for (char ch : text) {
        if (ch == '[') {
            if (depth++ > 0) throw InputError(where + ": nested brackets in " + echoed(text));
            continue;
        }
        if (ch == ']') {
            if (--depth < 0) throw InputError(where + ": unmatched ']' in " + echoed(text));
            continue;
        }
        if (ch == ',' && depth == 0) {
            out.push_back(trim(current));
            current.clear();
            continue;
        }
        current += ch;
    }
    if (depth != 0) throw InputError(where + ": unmatched '[' in " + echoed(text));
    out.push_back(trim(current));
    for (const auto& v : out)
        if (v.empty()) throw InputError(where + ": empty value in " + echoed(text));
    return out;
}

struct Axis {
    std::vector<std::string> keys;                 // one key, or the keys of a zip section
    std::vector<std::vector<std::string>> values;  // values[i][j]: value j of key i
    std::vector<int> lines;                        // the line of each key
    std::string section;
    Index length() const { return static_cast<Index>(values.front().size()); }
};

}  // namespace

void check_sweep_name(const std::string& name, const std::string& origin) {
    if (name.empty() || name.size() > 64)
        throw InputError(origin + ": sweep name must have 1 to 64 characters");
    // Job scripts make folders and files from the name: no hidden names, no "." or "..".
    if (name.front() == '.')
        throw InputError(origin + ": sweep name " + echoed(name) + " may not start with '.'");
    for (char ch : name)
        if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.'))
            throw InputError(origin + ": sweep name " + echoed(name) +
                             " may hold only letters, digits, '-', '_' and '.'");
}

std::string SweepPlan::signature() const {
    std::string out;
    for (const std::uint64_t id : ids) out += run_id_text(id) + "\n";
    return out;
}

SweepPlan parse_sweep_plan(const std::string& text, const std::string& origin,
                           const DimensionOf& dimension_of) {
    const std::vector<IniEntry> entries = parse_ini(text, origin);
    SweepPlan plan;
    plan.source = text;
    RunConfig fixed;
    std::vector<Axis> axes;
    std::map<std::string, std::size_t> zip_axis;              // zip section -> axis
    std::map<std::pair<std::string, std::string>, int> seen;  // (section, key) -> line
    for (const IniEntry& entry : entries) {
        const std::string &section = entry.section, &key = entry.key, &value = entry.value;
        const std::string place = ini_place(origin, entry.line);
        const std::string where = place + ": [" + section + "] " + key;
        if (const auto [it, first] = seen.emplace(std::pair(section, key), entry.line); !first)
            throw InputError(where + ": given twice (first on line " + std::to_string(it->second) +
                             ")");
        if (section == "sweep") {
            if (key != "name") throw InputError(where + ": unknown key (the section has: name)");
            plan.name = trim(value);
            check_sweep_name(plan.name, where);
            continue;
        }
        if (section.empty())
            throw InputError(place + ": " + key +
                             ": set before any section (sections: sweep, fixed, axes, zip, "
                             "zip.NAME)");
        const bool zipped = section == "zip" || section.rfind("zip.", 0) == 0;
        if (section != "fixed" && section != "axes" && !zipped)
            throw InputError(place + ": unknown section [" + section +
                             "] (sections: sweep, fixed, axes, zip, zip.NAME)");
        try {
            config_key(key);
        } catch (const InputError&) {
            throw InputError(where + ": unknown setting (see ssldyn run --help)");
        }
        for (const auto& axis : axes)
            for (const auto& k : axis.keys)
                if (k == key)
                    throw InputError(where + ": already varies in [" + axis.section + "]");
        if (section == "fixed") {
            try {
                set_value(fixed, key, value);
            } catch (const InputError& e) {
                throw InputError(place + ": [fixed] " + e.what());
            }
            continue;
        }
        auto values = split_values(value, where);
        if (zipped && zip_axis.count(section)) {
            Axis& axis = axes[zip_axis[section]];
            if (static_cast<Index>(values.size()) != axis.length())
                throw InputError(where + ": " + std::to_string(values.size()) + " values, but [" +
                                 section + "] " + axis.keys.front() + " has " +
                                 std::to_string(axis.length()));
            axis.keys.push_back(key);
            axis.values.push_back(std::move(values));
            axis.lines.push_back(entry.line);
            continue;
        }
        if (zipped) zip_axis[section] = axes.size();
        axes.push_back({{key}, {std::move(values)}, {entry.line}, section});
    }
    if (plan.name.empty()) throw InputError(origin + ": [sweep] name is missing");
    for (const auto& axis : axes)
        for (std::size_t i = 0; i < axis.keys.size(); ++i) {
            // A key set in [fixed] and varied in an axis is ambiguous.
            for (const IniEntry& entry : entries)
                if (entry.section == "fixed" && entry.key == axis.keys[i])
                    throw InputError(ini_place(origin, axis.lines[i]) + ": " + axis.keys[i] +
                                     " is both fixed and varied in [" + axis.section +
                                     "] (fixed on line " + std::to_string(entry.line) + ")");
            plan.axes.push_back(axis.keys[i]);
        }

    // Cartesian product, the last axis fastest. Every value is parsed and every run checked.
    constexpr Index run_limit = 10'000'000;
    Index total = 1;
    for (const auto& axis : axes) {
        if (axis.length() > run_limit / total)  // checked before multiplying: no overflow
            throw InputError(origin + ": the axes expand to more than 10^7 runs");
        total *= axis.length();
    }
    std::set<std::string> checked_files;
    std::unordered_set<std::uint64_t> ids;
    for (Index r = 0; r < total; ++r) {
        RunConfig config = fixed;
        Index rest = r;
        for (auto axis = axes.rbegin(); axis != axes.rend(); ++axis) {
            const Index j = rest % axis->length();
            rest /= axis->length();
            for (std::size_t i = 0; i < axis->keys.size(); ++i) {
                const std::string& v = axis->values[i][static_cast<std::size_t>(j)];
                try {
                    set_value(config, axis->keys[i], v);
                } catch (const InputError& e) {
                    throw InputError(ini_place(origin, axis->lines[i]) + ": [" + axis->section +
                                     "] " + e.what());
                }
            }
        }
        Index d = 0;
        try {
            d = dimension_of ? dimension_of(config) : input_dimension(config);
            // Each data file read through once (length, gzip trailer), before any store is touched
            // (not at all when d is given).
            if (!dimension_of && config.data != DataSource::spiked) {
                const std::string images = images_file(config);
                if (checked_files.insert(images).second) read_idx_images(images, 1);
            }
        } catch (const InputError& e) {
            std::string values;
            for (const auto& key : plan.axes) values += " " + key + "=" + get_value(config, key);
            throw InputError(origin + ": run " + std::to_string(r + 1) + " (" +
                             (values.empty() ? " fixed settings" : values.substr(1)) +
                             "): " + e.what());
        }
        const std::uint64_t id = run_hash(config);
        if (!ids.insert(id).second)
            throw InputError(origin + ": run " + std::to_string(r + 1) +
                             " repeats an earlier run (the same settings twice)");
        plan.ids.push_back(id);
        plan.runs.push_back(std::move(config));
        plan.dimensions.push_back(d);
        plan.rows.push_back(static_cast<Index>(r));
    }
    return plan;
}

SweepShard parse_shard(const std::string& text, const std::string& origin) {
    const auto slash = text.find('/');
    auto number = [&](const std::string& part) {
        if (part.empty() || part.size() > 9 ||
            part.find_first_not_of("0123456789") != std::string::npos)
            throw InputError(origin + ": '" + text + "' is not a shard I/N (0 <= I < N)");
        return std::stol(part);
    };
    if (slash == std::string::npos)
        throw InputError(origin + ": '" + text + "' is not a shard I/N (0 <= I < N)");
    SweepShard shard{number(text.substr(0, slash)), number(text.substr(slash + 1))};
    if (shard.count < 1 || shard.index >= shard.count)
        throw InputError(origin + ": '" + text + "' is not a shard I/N (0 <= I < N)");
    return shard;
}

SweepPlan shard_of(const SweepPlan& whole, SweepShard shard) {
    SweepPlan part = whole;
    part.runs.clear();
    part.ids.clear();
    part.dimensions.clear();
    part.rows.clear();
    part.shard = shard;
    for (std::size_t i = 0; i < whole.runs.size(); ++i) {
        if (whole.rows[i] % shard.count != shard.index) continue;
        part.runs.push_back(whole.runs[i]);
        part.ids.push_back(whole.ids[i]);
        part.dimensions.push_back(whole.dimensions[i]);
        part.rows.push_back(whole.rows[i]);
    }
    return part;
}

SweepPlan read_sweep_plan(const std::string& path) {
    return parse_sweep_plan(read_config_file(path, "sweep config"), path);
}

SweepPlan single_run_plan(const std::string& name, const RunConfig& config) {
    check_sweep_name(name, "--sweep");
    SweepPlan plan;
    plan.name = name;
    plan.source = canonical_text(config);
    plan.runs.push_back(config);
    plan.ids.push_back(run_hash(config));
    plan.dimensions.push_back(input_dimension(config));
    plan.rows.push_back(0);
    return plan;
}

}  // namespace ssldyn
