// The store lock's staleness policy (store/lock.hpp): which holders are cleared on sight, which
// refused, which only with --break-lock. SLURM is stood in for by a script named by
// SSLDYN_SQUEUE that answers as squeue would and records how it was asked.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

#include "core/error.hpp"
#include "store/lock.hpp"
#include "test_files.hpp"

namespace ssldyn {
namespace {

std::string this_host() {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    return host;
}

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// A pid above Linux's largest (2^22): no process has it.
constexpr long gone_pid = 4194305;

// Sets an environment variable for one test, restoring the earlier value.
class ScopedEnv {
  public:
    ScopedEnv(const char* name, const std::string& value) : name_(name) {
        const char* old = std::getenv(name);
        had_ = old != nullptr;
        if (had_) old_ = old;
        setenv(name, value.c_str(), 1);
    }
    ~ScopedEnv() {
        if (had_)
            setenv(name_, old_.c_str(), 1);
        else
            unsetenv(name_);
    }

  private:
    const char* name_;
    bool had_ = false;
    std::string old_;
};

class StoreLockTest : public ::testing::Test {
  protected:
    test::TempFolder dir{"ssldyn-lock"};
    std::string store = dir.path("s.h5");
    std::string lock = store + ".lock";
    std::string asked = dir.path("asked");
    // No SLURM of the machine's is asked by mistake, and this process is in no job.
    ScopedEnv no_job{"SLURM_JOB_ID", ""};
    ScopedEnv no_squeue{"SSLDYN_SQUEUE", dir.path("no-such-squeue")};

    void hold(const std::string& host, long pid, const std::string& job,
              const std::string& restart = "") {
        std::ofstream(lock) << "host " << host << "\npid " << pid << "\njob " << job
                            << (restart.empty() ? "" : "\nrestart " + restart)
                            << "\nsince 2026-01-01T00:00:00Z\n";
    }
    // squeue as SLURM would answer: prints `output`, exits with `code` (after `delay` s).
    ScopedEnv squeue_answering(const std::string& output, int code, double delay = 0) {
        const std::string script = dir.path("squeue");
        std::ofstream(script) << "#!/bin/sh\necho \"$@\" > " << asked << "\nsleep " << delay
                              << "\nprintf '%s' '" << output << "'\nexit " << code << "\n";
        chmod(script.c_str(), 0755);
        return ScopedEnv("SSLDYN_SQUEUE", script);
    }
    // The error of taking the lock ("" when taken), and whether this process holds it after.
    std::string take(bool break_undecided = false) {
        try {
            StoreLock taken(store, break_undecided);
            EXPECT_NE(read_text(lock).find("pid " + std::to_string(getpid()) + "\n"),
                      std::string::npos);
            return "";
        } catch (const InputError& e) {
            return e.what();
        }
    }
};

TEST_F(StoreLockTest, AHolderOfThisHostWithoutJobIsStaleOnceItsProcessIsGone) {
    hold(this_host(), gone_pid, "");
    EXPECT_EQ(take(), "");
    EXPECT_NO_THROW(StoreLock::check_free(store));  // the lock is gone with the holder above
    hold(this_host(), gone_pid, "");
    EXPECT_NO_THROW(StoreLock::check_free(store));  // stale: free, though still there
}

TEST_F(StoreLockTest, AHolderWhoseProcessRunsHereIsNeverOverruled) {
    hold(this_host(), getppid(), "");
    for (bool force : {false, true}) {
        const std::string error = take(force);
        EXPECT_NE(error.find("in use by process " + std::to_string(getppid())), std::string::npos)
            << error;
        EXPECT_NE(error.find("that process runs"), std::string::npos) << error;
    }
    EXPECT_THROW(StoreLock::check_free(store), InputError);
}

TEST_F(StoreLockTest, AHolderOfAnotherHostWithoutJobNeedsBreakLock) {
    hold("elsewhere", gone_pid, "");
    const std::string error = take();
    EXPECT_NE(error.find("locked by process 4194305 on elsewhere"), std::string::npos) << error;
    EXPECT_NE(error.find("names no SLURM job"), std::string::npos) << error;
    EXPECT_NE(error.find("--break-lock"), std::string::npos) << error;
    EXPECT_THROW(StoreLock::check_free(store), InputError);
    EXPECT_EQ(take(true), "");
}

TEST_F(StoreLockTest, AJobSlurmSaysRunsHoldsTheLockFromAnyHost) {
    for (const std::string& host : {this_host(), std::string("elsewhere")}) {
        hold(host, gone_pid, "77");
        ScopedEnv squeue = squeue_answering("RUNNING\n", 0);
        for (bool force : {false, true}) {
            const std::string error = take(force);
            EXPECT_NE(error.find("in use by process 4194305 on " + host + ", SLURM job 77"),
                      std::string::npos)
                << error;
            EXPECT_NE(error.find("SLURM says job 77 is RUNNING"), std::string::npos) << error;
        }
        EXPECT_EQ(read_text(asked), "-h -t all -j 77 -o %T\n");
        EXPECT_THROW(StoreLock::check_free(store), InputError);
    }
}

TEST_F(StoreLockTest, AJobSlurmSaysEndedOrForgotIsStaleFromAnyHost) {
    struct Answer {
        std::string output;
        int code;
    };
    for (const Answer& answer :
         {Answer{"COMPLETED\n", 0}, Answer{"NODE_FAIL\n", 0}, Answer{"PENDING\n", 0}, Answer{"", 0},
          Answer{"slurm_load_jobs error: Invalid job id specified\n", 1}}) {
        hold("elsewhere", 123, "77");
        ScopedEnv squeue = squeue_answering(answer.output, answer.code);
        EXPECT_NO_THROW(StoreLock::check_free(store)) << answer.output;
        EXPECT_EQ(take(), "") << answer.output;
    }
}

TEST_F(StoreLockTest, AJobSlurmCannotTellAboutNeedsBreakLock) {
    struct Answer {
        std::string output;
        int code;
        std::string said;
    };
    for (const Answer& answer :
         {Answer{"slurm_load_jobs error: Unable to contact slurm controller\n", 1,
                 "failed: slurm_load_jobs error: Unable to contact slurm controller"},
          Answer{"WHATEVER\n", 0, "said WHATEVER"}}) {
        hold("elsewhere", 123, "77");
        ScopedEnv squeue = squeue_answering(answer.output, answer.code);
        const std::string error = take();
        EXPECT_NE(error.find("SLURM could not be asked whether job 77 runs"), std::string::npos)
            << error;
        EXPECT_NE(error.find(answer.said), std::string::npos) << error;
        EXPECT_NE(error.find("--break-lock"), std::string::npos) << error;
        EXPECT_EQ(take(true), "");
    }
    hold("elsewhere", 123, "77");  // no squeue at all (the fixture's SSLDYN_SQUEUE)
    const std::string error = take();
    EXPECT_NE(error.find("no-such-squeue cannot be run"), std::string::npos) << error;
}

TEST_F(StoreLockTest, ASlurmThatHangsIsGivenUpOnInTime) {
    hold("elsewhere", 123, "77");
    ScopedEnv timeout{"SSLDYN_SLURM_TIMEOUT", "0.5"};
    ScopedEnv squeue = squeue_answering("COMPLETED\n", 0, 30);
    const auto start = std::chrono::steady_clock::now();
    const std::string error = take();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_NE(error.find("did not answer within"), std::string::npos) << error;
    EXPECT_LT(seconds, 5.0);  // 0.5 s asked; the rest is the shell's start and the kill
}

TEST_F(StoreLockTest, AnEarlierIncarnationOfThisJobIsStaleWhateverSlurmSays) {
    ScopedEnv job{"SLURM_JOB_ID", "77"};
    ScopedEnv restart{"SLURM_RESTART_COUNT", "1"};
    ScopedEnv squeue = squeue_answering("RUNNING\n", 0);  // this very job
    hold("elsewhere", 123, "77", "0");
    EXPECT_EQ(take(), "");
    // The same incarnation on another host: another step of this job, perhaps running.
    hold("elsewhere", 123, "77", "1");
    EXPECT_NE(take().find("another process of this very job, on elsewhere"), std::string::npos);
    // ... and on this host, with its process gone: stale.
    hold(this_host(), gone_pid, "77", "1");
    EXPECT_EQ(take(), "");
}

TEST_F(StoreLockTest, TheLockNamesItsHolder) {
    ScopedEnv job{"SLURM_JOB_ID", "91"};
    ScopedEnv restart{"SLURM_RESTART_COUNT", "2"};
    {
        StoreLock taken(store, false);
        const std::string text = read_text(lock);
        EXPECT_NE(text.find("host " + this_host() + "\npid " + std::to_string(getpid()) +
                            "\njob 91\nrestart 2\nsince "),
                  std::string::npos)
            << text;
        EXPECT_NO_THROW(StoreLock::check_free(store));  // held by this very process
    }
    EXPECT_NE(access(lock.c_str(), F_OK), 0);  // released
}

}  // namespace
}  // namespace ssldyn
