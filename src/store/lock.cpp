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

namespace ssldyn {

namespace {

std::string host_name() {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    return host;
}

struct Holder {
    std::string host;
    long pid = 0;
    std::string job, since;
    std::string text() const {
        return "process " + std::to_string(pid) + " on " + host +
               (job.empty() ? "" : ", SLURM job " + job) + ", since " + since;
    }
    // Only a holder on this host can be seen to be alive or gone.
    bool local() const { return host == host_name(); }
    bool alive() const {
        if (!local()) return false;
        if (kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return false;
        // A killed process whose parent has not reaped it yet is a zombie: gone all the same.
        std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
        std::string pid_field, name, state;
        return !(stat >> pid_field >> name >> state) || state != "Z";
    }
};

bool read_holder(const std::string& path, Holder& h) {
    std::ifstream in(path);
    if (!in) return false;
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
        if (key == "since") h.since = value;
    }
    return true;
}

}  // namespace

void StoreLock::check_free(const std::string& store) {
    Holder h;
    if (!read_holder(store + ".lock", h)) return;
    if (h.local() && h.pid == static_cast<long>(getpid())) return;  // held by this very job
    throw InputError(store + ": in use by " + h.text() +
                     (h.local() && !h.alive()
                          ? " (stale: that process is gone; a sweep with --break-lock clears it)"
                          : ""));
}

StoreLock::StoreLock(const std::string& store, bool break_stale) : path_(store + ".lock") {
    for (int attempt = 0; attempt < 2; ++attempt) {
        const int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
        if (fd >= 0) {
            const char* job = std::getenv("SLURM_JOB_ID");
            char since[32] = {};
            const std::time_t now = std::time(nullptr);
            std::strftime(since, sizeof since, "%Y-%m-%dT%H:%M:%S", std::gmtime(&now));
            const std::string text = "host " + host_name() + "\npid " + std::to_string(getpid()) +
                                     "\njob " + (job ? job : "") + "\nsince " + since + "Z\n";
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
        Holder h;
        read_holder(path_, h);
        // A live holder on this host is never overruled; elsewhere liveness cannot be seen.
        if (h.alive()) throw InputError(store + ": in use by " + h.text());
        if (!break_stale)
            throw InputError(store + (h.local() ? ": stale lock from " : ": locked by ") +
                             h.text() +
                             (h.local() ? ", which is gone; pass --break-lock to clear it"
                                        : "; if that job is gone, pass --break-lock"));
        std::remove(path_.c_str());
    }
    throw InputError(path_ + ": cannot take the lock");
}

StoreLock::~StoreLock() {
    std::remove(path_.c_str());
}

}  // namespace ssldyn
