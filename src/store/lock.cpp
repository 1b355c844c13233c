#include "store/lock.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "store/slurm_job.hpp"

namespace ssldyn {

namespace {

std::string host_name() {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    return host;
}

std::string environment(const char* name) {
    const char* value = std::getenv(name);
    return value ? value : "";
}

struct Holder {
    std::string host;
    long pid = 0;
    std::string job, restart, since;
    std::string text() const {
        return "process " + std::to_string(pid) + " on " + host +
               (job.empty() ? "" : ", SLURM job " + job) + ", since " + since;
    }
    // Only a holder on this host can be seen to be alive or gone.
    bool local() const { return host == host_name(); }
    bool is_this_process() const { return local() && pid == static_cast<long>(getpid()); }
    bool process_alive() const {
        if (kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return false;
        // A killed process whose parent has not reaped it yet is a zombie: gone all the same.
        std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
        std::string pid_field, name, state;
        return !(stat >> pid_field >> name >> state) || state != "Z";
    }
};

// What can be known of a holder from here, and why.
struct Verdict {
    enum class Kind { alive, stale, undecided };
    Kind kind;
    std::string why;
};

Verdict judge(const Holder& h) {
    using K = Verdict::Kind;
    if (h.local() && h.process_alive()) return {K::alive, "that process runs"};
    const std::string gone_here = "its process is gone from this host";
    if (h.job.empty())
        return h.local() ? Verdict{K::stale, gone_here}
                         : Verdict{K::undecided,
                                   "it names no SLURM job, and whether a process of another host "
                                   "runs cannot be seen from " +
                                       host_name()};
    if (h.job == environment("SLURM_JOB_ID")) {
        // SLURM says this job runs: it is us. Only the restart count tells incarnations apart.
        const std::string restart = environment("SLURM_RESTART_COUNT");
        if (!h.restart.empty() && h.restart != (restart.empty() ? "0" : restart))
            return {K::stale, "an earlier incarnation (restart " + h.restart +
                                  ") of this very job, which SLURM ended before restarting it"};
        return h.local() ? Verdict{K::stale, gone_here + ", and its job is this very job"}
                         : Verdict{K::undecided, "another process of this very job, on " + h.host};
    }
    const SlurmJobState job = slurm_job_state(h.job);
    switch (job.liveness) {
        case SlurmJobState::Liveness::running:
            return {K::alive, "SLURM says job " + h.job + " is " + job.said};
        case SlurmJobState::Liveness::gone:
            return {K::stale, "SLURM says job " + h.job + " is " + job.said};
        case SlurmJobState::Liveness::unknown:
            break;
    }
    return {K::undecided,
            "SLURM could not be asked whether job " + h.job + " runs (" + job.said + ")"};
}

std::string file_text(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// The holder a lock file's text names.
Holder holder_of(const std::string& text) {
    Holder h;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string key, value;
        fields >> key;
        std::getline(fields, value);
        if (!value.empty() && value.front() == ' ') value.erase(0, 1);
        if (key == "host") h.host = value;
        if (key == "pid") h.pid = std::atol(value.c_str());
        if (key == "job") h.job = value;
        if (key == "restart") h.restart = value;
        if (key == "since") h.since = value;
    }
    return h;
}

bool read_holder(const std::string& path, Holder& h) {
    if (access(path.c_str(), F_OK) != 0) return false;
    h = holder_of(file_text(path));
    return true;
}

std::string holder_record() {
    char since[32] = {};
    const std::time_t now = std::time(nullptr);
    std::strftime(since, sizeof since, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    const std::string job = environment("SLURM_JOB_ID");
    const std::string restart = environment("SLURM_RESTART_COUNT");
    return "host " + host_name() + "\npid " + std::to_string(getpid()) + "\njob " + job +
           "\nrestart " +
           (job.empty()       ? ""
            : restart.empty() ? "0"
                              : restart) +
           "\nsince " + since + "\n";
}

}  // namespace

void StoreLock::check_free(const std::string& store) {
    Holder h;
    if (!read_holder(store + ".lock", h) || h.is_this_process()) return;
    const Verdict v = judge(h);
    if (v.kind == Verdict::Kind::stale) return;
    throw InputError(store + ": in use by " + h.text() + " (" + v.why + ")");
}

StoreLock::StoreLock(const std::string& store, bool break_undecided) : path_(store + ".lock") {
    for (int attempt = 0; attempt < 20; ++attempt) {
        const int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
        if (fd >= 0) {
            const std::string text = holder_record();
            const bool written =
                write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
            close(fd);
            if (!written) {
                std::remove(path_.c_str());
                throw InputError(path_ + ": cannot write the lock file");
            }
            return;
        }
        if (errno != EEXIST)
            throw InputError(store + ": cannot create its lock file " + path_ + " (" +
                             std::strerror(errno) + ")");
        const std::string seen = file_text(path_);
        if (seen.empty()) {  // released meanwhile, or being written: look again
            usleep(10000);
            continue;
        }
        const Holder h = holder_of(seen);
        const Verdict v = judge(h);
        if (v.kind == Verdict::Kind::alive)
            throw InputError(store + ": in use by " + h.text() + " (" + v.why + ")");
        if (v.kind == Verdict::Kind::undecided && !break_undecided)
            throw InputError(store + ": locked by " + h.text() + "; " + v.why +
                             ". If that holder is gone, pass --break-lock");
        // Another job may have cleared it and taken the store meanwhile: judge that one anew.
        if (file_text(path_) != seen) continue;
        std::fprintf(stderr, "ssldyn: %s: cleared the %s lock of %s (%s)\n", store.c_str(),
                     v.kind == Verdict::Kind::stale ? "stale" : "undecided (--break-lock)",
                     h.text().c_str(), v.why.c_str());
        std::remove(path_.c_str());
    }
    throw InputError(path_ + ": cannot take the lock");
}

StoreLock::~StoreLock() {
    std::remove(path_.c_str());
}

}  // namespace ssldyn
