#include "worker_processes.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace edgerig::bench {

WorkerProcesses::~WorkerProcesses() { killAll(); }

Status WorkerProcesses::spawn(const std::vector<std::string>& args) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return internalError(std::string("pipe for a worker process: ") + std::strerror(errno));
  }
  // The resolved path, so that ps shows the bench's name.
  std::error_code ec;
  std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  if (ec) self = "/proc/self/exe";
  std::vector<char*> argv;
  argv.push_back(self.data());
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = getpid();
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return internalError(std::string("fork for a worker process: ") + std::strerror(errno));
  }
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the parent died before prctl
    dup2(fds[1], STDOUT_FILENO);          // dup2 clears O_CLOEXEC on the copy
    execv(argv[0], argv.data());
    _exit(127);
  }
  ::close(fds[1]);
  children_.push_back({pid, fds[0], {}, false});
  lines_.emplace_back();
  return Status::ok();
}

Status WorkerProcesses::reap(size_t i) {
  Child& c = children_[i];
  int status = 0;
  while (waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
  }
  c.reaped = true;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::ok();
  const std::string how = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                            : "signal " + std::to_string(WTERMSIG(status));
  return internalError("worker process " + std::to_string(i) + " (pid " + std::to_string(c.pid) +
                       ") failed with " + how + "; its error is on stderr above");
}

Status WorkerProcesses::collect(std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t open = 0;
  for (const Child& c : children_) open += c.out >= 0 ? 1 : 0;
  while (open > 0) {
    std::vector<pollfd> fds;
    std::vector<size_t> which;
    for (size_t i = 0; i < children_.size(); ++i) {
      if (children_[i].out < 0) continue;
      fds.push_back({children_[i].out, POLLIN, 0});
      which.push_back(i);
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      killAll();
      return {StatusCode::kTimeout, "worker processes still running after " +
                                        std::to_string(timeout.count()) + " s; killed them"};
    }
    const int n = poll(fds.data(), fds.size(), static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      killAll();
      return internalError(std::string("poll on worker pipes: ") + std::strerror(errno));
    }
    for (size_t k = 0; k < fds.size(); ++k) {
      if (fds[k].revents == 0) continue;
      Child& c = children_[which[k]];
      char buf[4096];
      const ssize_t got = read(c.out, buf, sizeof buf);
      if (got < 0 && errno == EINTR) continue;
      if (got > 0) {
        c.partial.append(buf, static_cast<size_t>(got));
        for (size_t nl; (nl = c.partial.find('\n')) != std::string::npos;) {
          lines_[which[k]].push_back(c.partial.substr(0, nl));
          c.partial.erase(0, nl + 1);
        }
        continue;
      }
      // End of file: the child is exiting.
      ::close(c.out);
      c.out = -1;
      --open;
      if (auto st = reap(which[k]); !st) {
        killAll();
        return st;
      }
    }
  }
  return Status::ok();
}

void WorkerProcesses::killAll() {
  for (Child& c : children_) {
    if (!c.reaped && c.pid > 0) {
      kill(c.pid, SIGKILL);
      while (waitpid(c.pid, nullptr, 0) < 0 && errno == EINTR) {
      }
      c.reaped = true;
    }
    if (c.out >= 0) {
      ::close(c.out);
      c.out = -1;
    }
  }
}

}  // namespace edgerig::bench
