// Driving edgerig's executables as a user does from a terminal: spawned in a process group of
// their own (as a shell runs a foreground job, so a Ctrl-C reaches the whole group), stdout and
// stderr to files, waited for with a time limit. Shared by the system tests of the CLIs.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/scratch_dir.h"

extern char** environ;

namespace edgerig::testsupport {

using namespace std::chrono_literals;

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The executable named by `env_var` (EDGERIG_RUN, EDGERIG_GUI: ctest sets them) with `args`,
// stdout and stderr to files in `dir`, in a process group of its own as a shell runs a
// foreground job (the group's id is the pid).
inline pid_t spawn(const char* env_var, const std::vector<std::string>& args,
                   const testsupport::ScratchDir& dir) {
  const char* exe = std::getenv(env_var);
  EXPECT_NE(exe, nullptr) << env_var << " is not set (ctest sets it)";
  if (!exe) return -1;
  std::vector<std::string> argv_s{exe};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  const std::string out = dir.path("stdout"), err = dir.path("stderr");
  posix_spawn_file_actions_addopen(&files, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&files, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, exe, &files, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&files);
  EXPECT_EQ(rc, 0) << "posix_spawn " << exe;
  return rc == 0 ? pid : -1;
}

// The exit status, or -1 if it did not exit within `limit` (then it is killed).
inline int waitExit(pid_t pid, std::chrono::seconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (std::chrono::steady_clock::now() < until) {
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::this_thread::sleep_for(50ms);
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return -1;
}

// Waits (up to 60 s) until a loss is in <run_dir>/metrics.csv: the run is training.
inline bool waitForTraining(const std::string& run_dir) {
  const auto until = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < until) {
    if (slurp(run_dir + "/metrics.csv").find("train_loss") != std::string::npos) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

}  // namespace edgerig::testsupport
