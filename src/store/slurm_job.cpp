#include "store/slurm_job.hpp"

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <vector>

#include "core/command_output.hpp"

namespace ssldyn {

namespace {

// Job states whose processes may still run (squeue's long names).
bool holds_processes(const std::string& state) {
    static const std::vector<std::string> live = {"RUNNING",     "COMPLETING", "SUSPENDED",
                                                  "CONFIGURING", "STOPPED",    "SIGNALING",
                                                  "RESIZING",    "STAGE_OUT",  "REQUEUED"};
    return std::find(live.begin(), live.end(), state) != live.end();
}

// States of a job with no process left: ended, or waiting to start (again).
bool holds_none(const std::string& state) {
    static const std::vector<std::string> ended = {
        "PENDING",   "COMPLETED",    "CANCELLED",    "FAILED",     "TIMEOUT",
        "NODE_FAIL", "PREEMPTED",    "BOOT_FAIL",    "DEADLINE",   "OUT_OF_MEMORY",
        "REVOKED",   "SPECIAL_EXIT", "REQUEUE_HOLD", "REQUEUE_FED"};
    return std::find(ended.begin(), ended.end(), state) != ended.end();
}

double timeout_seconds() {
    const char* text = std::getenv("SSLDYN_SLURM_TIMEOUT");
    const double value = text ? std::atof(text) : 0.0;
    return value > 0 ? value : 10.0;
}

std::string first_line(const std::string& text) {
    const std::string line = text.substr(0, text.find('\n'));
    return line.empty() ? "(no output)" : line;
}

}  // namespace

SlurmJobState slurm_job_state(const std::string& job) {
    using L = SlurmJobState::Liveness;
    const char* program = std::getenv("SSLDYN_SQUEUE");
    const std::string squeue = program && *program ? program : "squeue";
    const double timeout = timeout_seconds();
    const CommandOutput answer =
        run_command({squeue, "-h", "-t", "all", "-j", job, "-o", "%T"}, timeout);
    if (!answer.started) return {L::unknown, squeue + " cannot be run"};
    if (answer.timed_out)
        return {L::unknown,
                squeue + " did not answer within " + std::to_string(int(timeout)) + " s"};
    if (answer.exit_code != 0) {
        // squeue's words for a job the controller has forgotten (past MinJobAge).
        if (answer.output.find("Invalid job id") != std::string::npos)
            return {L::gone, "unknown to SLURM"};
        return {L::unknown, squeue + " failed: " + first_line(answer.output)};
    }
    std::istringstream lines(answer.output);
    std::vector<std::string> states;
    for (std::string state; lines >> state;) states.push_back(state);
    if (states.empty()) return {L::gone, "unknown to SLURM"};
    // An array job lists a line a task: it runs while any task does.
    for (const std::string& s : states)
        if (holds_processes(s)) return {L::running, s};
    for (const std::string& s : states)
        if (!holds_none(s)) return {L::unknown, squeue + " said " + first_line(answer.output)};
    return {L::gone, states.front()};
}

}  // namespace ssldyn
