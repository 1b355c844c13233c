#include "sweep/runner.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <new>
#include <optional>

#include "core/error.hpp"
#include "core/invocation.hpp"
#include "core/progress.hpp"
#include "core/stop_signals.hpp"
#include "linalg/blacs.hpp"
#include "mpi/shared_counters.hpp"
#include "plan/estimate.hpp"
#include "run/driver.hpp"
#include "run/problem_cache.hpp"
#include "store/events.hpp"
#include "store/h5/file.hpp"
#include "store/lock.hpp"
#include "store/provenance.hpp"
#include "store/sweep_reader.hpp"
#include "store/sweep_store.hpp"
#include "store/sweep_writer.hpp"

namespace ssldyn {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

// The work of a sweep's runs, shared out in integers of this sum (2^40: far from overflowing a
// long, fine enough for any sweep's shares).
constexpr double work_scale = 1099511627776.0;

enum Counter {
    next_run = 0,
    runs_done = 1,
    runs_failed = 2,
    stop_requested = 3,  // a rank caught a stop signal: every rank saves and stops
    checkpoints_saved = 4,
    runs_continued = 5,
    work_done = 6,  // the work of the runs done or failed, in units of work_scale
    counter_count = 7
};

// Runs `work` on rank 0 and raises its error, if any, on every rank: the same exception type
// and message (a stop signal's Stopped too), so that all ranks leave together.
void on_root_for_all(const mpi::Communicator& world, const std::function<void()>& work) {
    int code = 0, signal = 0;
    std::string message;
    if (world.rank() == 0) {
        try {
            work();
        } catch (const Stopped& e) {
            code = 3;
            signal = e.signal();
        } catch (const InputError& e) {
            code = 2;
            message = e.what();
        } catch (const std::exception& e) {
            code = 1;
            message = e.what();
        }
    }
    world.broadcast(&code, 1, 0);
    if (code == 0) return;
    world.broadcast(message, 0);
    world.broadcast(&signal, 1, 0);
    if (code == 3) throw Stopped(signal);
    if (code == 2) throw InputError(message);
    throw RuntimeFailure(message);
}

}  // namespace

bool check_sweep_store(const SweepPlan& plan, const SweepOptions& options) {
    namespace fs = std::filesystem;
    const std::string& path = options.store;
    std::error_code ec;
    const bool exists = fs::exists(path, ec);
    if (!exists) {
        if (options.resume) throw InputError(path + ": no such store to resume");
        check_store_target(path, false);
        return false;
    }
    // Not a regular file, not writable, not HDF5, truncated, damaged or of another schema:
    // bad input.
    check_store_writable(path);
    const h5::File file = open_store(path);
    const bool present = read_store(path, [&] { return has_sweep(file, plan.name); });
    if (options.resume) {
        if (!present) throw InputError(path + ": holds no sweep '" + plan.name + "' to resume");
        if (read_store(path, [&] { return stored_signature(file, plan.name); }) != plan.signature())
            throw InputError(path + ": sweep '" + plan.name +
                             "' was started with another config; resume needs the same one");
    } else if (present) {
        throw InputError(path + ": already holds sweep '" + plan.name +
                         "' (pass --resume to continue it)");
    }
    return true;
}

namespace {

// Creates the sweep's metadata (or checks it, on resume), appends the event of this job to its
// history (its number in `event`) and returns the rows still to run. Gives up at a stop signal,
// the store as it was.
std::vector<long> prepare_store(const SweepPlan& plan, const SweepOptions& options,
                                const Provenance& provenance, const Event& job, long long& event,
                                SweepOutcome& outcome) {
    const std::string& path = options.store;
    stop_point();
    remove_stale_partials(path);
    const bool exists = check_sweep_store(plan, options);
    std::vector<long> todo;
    if (options.resume) {
        {
            const h5::File file = open_store(path);
            const auto status = read_store(path, [&] { return read_statuses(file, plan.name); });
            for (std::size_t i = 0; i < status.size(); ++i) {
                if (status[i] == RunStatus::done)
                    ++outcome.skipped;
                else
                    todo.push_back(static_cast<long>(i));
            }
        }
        stop_point();
        // A sweep of an earlier build gains its history here, this resume its first event.
        grow_in_place(path, std::uintmax_t{1} << 20, [&](const h5::File& file) {
            add_provenance_tables(file, plan.name);
            event = append_event(file, plan.name, job);
        });
        return todo;
    }
    // New sweep: built out of sight in the store (or in a new file renamed into place) and made
    // visible last, so a kill here leaves the store as it was.
    const SweepLayout layout = sweep_layout(plan);
    const auto make = [&](const h5::File& file) {
        create_sweep(file, plan, layout, provenance);
        event = append_event(file, plan.name, job);
    };
    if (exists)
        grow_in_place(path, sweep_bytes(plan, layout), make);
    else
        create_atomically(path, sweep_bytes(plan, layout), make);
    for (std::size_t i = 0; i < plan.runs.size(); ++i) todo.push_back(static_cast<long>(i));
    return todo;
}

// The hosts of the ranks, each once, in rank order: "node1,node2".
std::string distinct_hosts(const mpi::Communicator& world, const std::string& host) {
    std::vector<std::string> seen;
    for (const auto& h : world.all_gather(host))
        if (std::find(seen.begin(), seen.end(), h) == seen.end()) seen.push_back(h);
    std::string out;
    for (const auto& h : seen) out += (out.empty() ? "" : ",") + h;
    return out;
}

// --grid: {0, 0} for auto, else {P, Q} with P·Q ranks in a group.
std::pair<int, int> grid_shape(const std::string& text, int group_size) {
    if (text == "auto") return {0, 0};
    int p = 0, q = 0;
    char tail = 0;
    if (std::sscanf(text.c_str(), "%dx%d%c", &p, &q, &tail) != 2 || p < 1 || q < 1)
        throw InputError("--grid: '" + text + "' is neither auto nor PxQ (such as 2x1)");
    if (static_cast<long>(p) * q != group_size)
        throw InputError("--grid: " + text + " is " + std::to_string(static_cast<long>(p) * q) +
                         " ranks, a run group has " + std::to_string(group_size));
    return {p, q};
}

}  // namespace

void check_sweep_options(const SweepOptions& options, int ranks) {
    if (options.group_size < 1)
        throw InputError("--group-size: must be at least 1, got " +
                         std::to_string(options.group_size));
    grid_shape(options.grid, options.group_size);
    if (ranks % options.group_size != 0)
        throw InputError("--group-size: " + std::to_string(options.group_size) +
                         " does not divide the " + std::to_string(ranks) + " ranks");
}

RunPlacement placement_of(const SweepOptions& options) {
    return {options.group_size, options.distribute_above};
}

SweepOutcome run_sweep(const SweepPlan& plan, const SweepOptions& options,
                       const mpi::Communicator& world) {
    const auto start = Clock::now();
    check_sweep_options(options, world.size());
    const auto [grid_rows, grid_cols] = grid_shape(options.grid, options.group_size);
    // Refused before the store is touched and anything is allocated: a run that cannot fit in
    // a rank's memory (every rank decides on the least any rank has).
    const SweepEstimate estimate = estimate_sweep(plan, placement_of(options));
    MemoryLimit limit = memory_per_rank(world.split_by_node().size());
    limit.bytes = world.min(limit.bytes);
    check_memory(plan, estimate, limit);
    Provenance provenance = current_provenance();
    provenance.group_size = options.group_size;
    provenance.distribute_above = options.distribute_above;
    provenance.block_size = options.block_size;
    provenance.grid = options.grid;
    SweepOutcome outcome;
    outcome.runs = static_cast<long>(plan.runs.size());
    std::vector<long> todo;
    double hdf5_seconds = 0.0;
    auto timed_io = [&](const std::function<void()>& io) {
        const auto t = Clock::now();
        io();
        hdf5_seconds += since(t);
    };
    // A store that cannot take a run's status or results: nothing sensible is left for anyone.
    auto store_or_abort = [&](const std::function<void()>& io) {
        try {
            timed_io(io);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "ssldyn: failure on rank %d: %s\n", world.rank(), e.what());
            world.abort(1);
        }
    };
    Event job = event_of(options.resume ? "resume" : "start", provenance);
    job.hosts = distinct_hosts(world, provenance.host);
    long long event = -1;
    std::unique_ptr<StoreLock> lock;  // rank 0 holds the store for the whole sweep
    try {
        timed_io([&] {
            on_root_for_all(world, [&] {
                lock = std::make_unique<StoreLock>(options.store, options.break_lock);
                todo = prepare_store(plan, options, provenance, job, event, outcome);
            });
        });
    } catch (const Stopped&) {
        // Stopped before any run: the store is as it was, the lock freed on the way out.
        lock.reset();
        outcome.interrupted = true;
        outcome.seconds = since(start);
        return outcome;
    }
    outcome.prepare_seconds = hdf5_seconds;
    world.broadcast(todo, 0);
    world.broadcast(&outcome.skipped, 1, 0);
    long shared_event = static_cast<long>(event);
    world.broadcast(&shared_event, 1, 0);
    event = shared_event;

    // Run groups: consecutive ranks, each with its own communicator and BLACS grid.
    const mpi::Communicator group = world.split(world.rank() / options.group_size, world.rank());
    const BlacsGrid grid =
        grid_rows > 0 ? BlacsGrid(group, grid_rows, grid_cols) : BlacsGrid::square(group);
    const BlacsGrid tall = BlacsGrid::tall(group);
    const Distribution where{&group, &grid, &tall, options.distribute_above, options.block_size};
    const bool leader = group.rank() == 0;
    mpi::SharedCounters counters(world, counter_count);

    std::unique_ptr<h5::File> file;
    std::unique_ptr<SweepWriter> writer;
    timed_io([&] {
        file =
            std::make_unique<h5::File>(h5::File::open(options.store, h5::Mode::read_write, &world));
        writer = std::make_unique<SweepWriter>(*file, plan.name);
    });

    ProgressStyle style = options.progress;
    if (world.rank() != 0) style.mode = ProgressMode::none;
    ProgressLine progress("sweep " + plan.name, style);
    const long total = static_cast<long>(todo.size());
    // Each run's share of the work left (its steps times the flops of its step), as an integer
    // the shared counters add: the time left is the rate so far applied to the work left.
    std::vector<long> work(todo.size());
    double todo_flops = 0;
    for (long row : todo) todo_flops += estimate.runs[static_cast<std::size_t>(row)].flops;
    long work_total = 0;
    for (std::size_t i = 0; i < todo.size(); ++i) {
        const double share =
            todo_flops > 0 ? estimate.runs[static_cast<std::size_t>(todo[i])].flops / todo_flops
                           : 1.0 / static_cast<double>(todo.size());
        work[i] = std::max(1L, std::lround(share * work_scale));
        work_total += work[i];
    }
    auto show = [&] {
        if (world.rank() != 0) return;
        const long done = counters.read(runs_done), failed = counters.read(runs_failed);
        progress.update(done + failed, total, failed ? std::to_string(failed) + " failed" : "",
                        static_cast<double>(counters.read(work_done)),
                        static_cast<double>(work_total));
    };
    // Finished runs wait in the writer until a flush; they count as done or failed once written.
    std::vector<RunStatus> staged;
    long staged_work = 0;
    const std::function<void()> flush = [&] {
        writer->flush();
        long done = 0;
        for (RunStatus s : staged) done += s == RunStatus::done;
        if (done > 0) counters.fetch_add(runs_done, done);
        if (static_cast<long>(staged.size()) > done)
            counters.fetch_add(runs_failed, static_cast<long>(staged.size()) - done);
        if (staged_work > 0) counters.fetch_add(work_done, staged_work);
        staged.clear();
        staged_work = 0;
        show();
    };
    ProblemCache cache(where);
    auto last_shown = Clock::now();
    // Whether to stop: a signal here (told to every rank through the shared counter), or one
    // caught elsewhere (looked up at most every 0.2 s: a remote atomic read is not free).
    bool stopping = false, told = false;
    auto last_asked = Clock::now();
    auto should_stop = [&] {
        if (stopping) return true;
        if (StopSignals::received() != 0) {
            if (!told) counters.fetch_add(stop_requested, 1);
            told = stopping = true;
        } else if (since(last_asked) > 0.2) {
            last_asked = Clock::now();
            stopping = counters.read(stop_requested) > 0;
        }
        return stopping;
    };
    // Runs are handed out in chunks of consecutive rows, a quarter of what is left per group
    // (at most 256): a leader's finished runs then sit in consecutive rows, written together.
    const long groups = world.size() / options.group_size;
    long chunk_next = 0, chunk_end = 0;
    while (true) {
        long slot = total;  // total: no more work for this group
        if (leader && !should_stop()) {
            if (chunk_next >= chunk_end) {
                const long left = std::max(0L, total - chunk_end);
                const long size = std::clamp(left / (4 * groups), 1L, 256L);
                chunk_next = counters.fetch_add(next_run, size);
                chunk_end = chunk_next + size;
            }
            slot = chunk_next++;
        }
        group.broadcast(&slot, 1, 0);
        if (slot >= total) break;
        // Every rank of the group runs it (the distributed parts are collective over the group;
        // the replicated ones are computed alike everywhere); the leader decides when to stop or
        // save, and alone writes.
        const long row = todo[static_cast<std::size_t>(slot)];
        const RunConfig& config = plan.runs[static_cast<std::size_t>(row)];
        // A run's status says running once it has run a while (a status write per run would
        // cost cheap runs more than they compute) or once it saved its state.
        const auto run_start = Clock::now();
        const double run_started = utc_seconds();
        bool marked = false;
        RunResult result;
        result.config = config;
        // Input errors of this run alone (a data file gone bad): the run fails and the sweep
        // goes on. Its steps are collective over the group, so a run that cannot start on one
        // rank starts on none; once started, its failures are those of every rank alike (the
        // same replicated values), but for running out of memory on one rank.
        auto fail = [&](const std::string& why) {
            result.status = RunStatus::failed;
            result.failure = why;
        };
        std::shared_ptr<const Problem> problem;
        std::optional<Checkpoint> checkpoint;
        try {
            problem = cache.get(config);
            if (options.resume)
                timed_io([&] { checkpoint = read_checkpoint(*file, plan.name, config, row); });
        } catch (const std::exception& e) {
            fail(e.what());
        }
        if (group.size() > 1 && group.max(result.failure.empty() ? 0 : 1) != 0 &&
            result.failure.empty())
            fail("failed on another rank of its run group");
        if (result.failure.empty()) {
            try {
                auto last_saved = Clock::now();
                RunControl control;
                control.resume_from = checkpoint ? &*checkpoint : nullptr;
                if (checkpoint && leader) counters.fetch_add(runs_continued, 1);
                control.progress = [&](Index, Index) {
                    if (leader && since(last_shown) > 0.5) {
                        show();
                        last_shown = Clock::now();
                    }
                };
                control.poll = [&](Index) {
                    if (leader && writer->flush_due()) store_or_abort(flush);
                    if (leader && !marked && since(run_start) > 1.0) {
                        store_or_abort([&] { writer->write_status(row, RunStatus::running); });
                        marked = true;
                    }
                    int action = static_cast<int>(StepAction::proceed);
                    if (leader && should_stop())
                        action = static_cast<int>(StepAction::save_and_stop);
                    else if (leader && options.checkpoint_every > 0 &&
                             since(last_saved) > options.checkpoint_every)
                        action = static_cast<int>(StepAction::save);
                    if (group.size() > 1) group.broadcast(&action, 1, 0);
                    return static_cast<StepAction>(action);
                };
                control.save = [&](const RunState& state) {
                    if (!leader) return;
                    store_or_abort(
                        [&] { writer->write_checkpoint(row, config, state, run_started, event); });
                    marked = true;
                    counters.fetch_add(checkpoints_saved, 1);
                    last_saved = Clock::now();
                };
                result = simulate(config, *problem, control);
            } catch (const std::bad_alloc&) {
                if (group.size() > 1) {
                    // The rest of the group waits in a collective for this rank: nobody can go on.
                    std::fprintf(stderr, "ssldyn: rank %d ran out of memory in run %s of a group\n",
                                 world.rank(), run_id(config).c_str());
                    world.abort(1);
                }
                fail("out of memory");
            } catch (const std::exception& e) {
                fail(e.what());
            }
        }
        if (result.status == RunStatus::running) break;  // stopped (the whole group); state saved
        if (!leader) continue;
        store_or_abort([&] {
            StoredRun stored = stored_run(row, result, provenance.host);
            stored.set_ran(run_started, utc_seconds(), event);
            writer->add(stored);
            staged.push_back(result.status);
            staged_work += work[static_cast<std::size_t>(slot)];
            if (writer->flush_due()) flush();
        });
    }
    if (leader) store_or_abort(flush);
    // The close is collective: the ranks that finished first wait here for the others, which is
    // not time spent in HDF5.
    world.barrier();
    timed_io([&] {
        writer.reset();
        file.reset();
    });
    show();
    progress.finish();
    outcome.done = counters.read(runs_done);
    outcome.failed = counters.read(runs_failed);
    outcome.checkpoints = counters.read(checkpoints_saved);
    outcome.continued = counters.read(runs_continued);
    outcome.interrupted = counters.read(stop_requested) > 0 &&
                          outcome.done + outcome.failed < static_cast<long>(todo.size());
    // The signal a rank caught (the others were told through the counter).
    const int signal = world.max(StopSignals::received());
    timed_io([&] {
        on_root_for_all(world, [&] {
            const h5::File closing = h5::File::open(options.store, h5::Mode::read_write);
            end_event(closing, plan.name, event,
                      outcome.interrupted ? "stopped by " + signal_name(signal) : "finished");
        });
    });
    lock.reset();  // the store is free once its history says so
    double seconds[2] = {hdf5_seconds, since(start)};
    world.sum_to(0, seconds, 2);
    outcome.hdf5_seconds = seconds[0];
    outcome.rank_seconds = seconds[1];
    outcome.seconds = since(start);
    return outcome;
}

}  // namespace ssldyn
