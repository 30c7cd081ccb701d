#include "core/controller/local_testbed.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include "device_bridge/auth.h"

namespace edgerig {
namespace fs = std::filesystem;

namespace {
constexpr std::chrono::hours kStaleTokenFileAge{24};

// $EDGERIG_AGENT_START_S, when set to more seconds than `given`: on a machine other jobs keep
// busy, agents started under `nice` can take longer than the default to load LibTorch.
std::chrono::milliseconds startTimeout(std::chrono::milliseconds given) {
  const char* env = std::getenv("EDGERIG_AGENT_START_S");
  if (env == nullptr || *env == '\0') return given;
  char* end = nullptr;
  const double s = std::strtod(env, &end);
  if (end == env || *end != '\0' || !(s > 0) || s > 3600) return given;
  return std::max(given, std::chrono::milliseconds(static_cast<int64_t>(s * 1000)));
}
}  // namespace

int removeStaleTokenFiles(const std::string& dir) {
  // Releases before protocol 2 wrote the token to /tmp/edgerig-token-XXXXXX (mkstemp) and
  // removed it only on a clean exit; this release never writes one. Such a file of ours that
  // nobody touched for a day is a leftover of a killed controller. A younger one may belong to
  // an older release's controller still running (it needs the file to restart an agent).
  const std::string prefix = "edgerig-token-";
  const auto now = std::chrono::system_clock::now();
  int removed = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0 || name.size() != prefix.size() + 6) continue;
    struct stat st {};
    if (::lstat(entry.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
        st.st_uid != ::geteuid()) {
      continue;
    }
    const auto modified = std::chrono::system_clock::from_time_t(st.st_mtime);
    if (now - modified < kStaleTokenFileAge) continue;
    if (::unlink(entry.path().c_str()) == 0) ++removed;
  }
  return removed;
}

std::string findAgentBinary() {
  std::error_code ec;
  auto self = fs::read_symlink("/proc/self/exe", ec);
  if (const char* env = std::getenv("EDGERIG_AGENT"); env && *env) return env;
  if (!ec) {
    // Installed side by side, or anywhere in a build tree (build/app/edgerig-agent).
    fs::path dir = self.parent_path();
    for (int up = 0; up < 4 && !dir.empty(); ++up, dir = dir.parent_path()) {
      for (const auto& candidate : {dir / "edgerig-agent", dir / "app" / "edgerig-agent"}) {
        if (fs::exists(candidate, ec)) return fs::weakly_canonical(candidate).string();
      }
    }
  }
  return "edgerig-agent";
}

Result<std::unique_ptr<LocalTestbed>> LocalTestbed::spawn(const std::string& agent_binary,
                                                          const std::vector<LocalAgentSpec>& agents,
                                                          const std::string& token,
                                                          const std::string& log_dir,
                                                          std::chrono::milliseconds start_timeout) {
  std::unique_ptr<LocalTestbed> tb(new LocalTestbed());
  tb->agent_binary_ = agent_binary;
  tb->log_dir_ = log_dir;
  tb->token_ = token;
  start_timeout = startTimeout(start_timeout);
  removeStaleTokenFiles();
  if (!log_dir.empty()) {
    std::error_code ec;
    fs::create_directories(log_dir, ec);
  }
  tb->agents_.resize(agents.size());
  // Start every process first, then wait for all of them: start-up overlaps.
  for (size_t i = 0; i < agents.size(); ++i) {
    tb->agents_[i].spec = agents[i];
    if (auto st = tb->start(tb->agents_[i]); !st) return st;
  }
  const auto deadline = std::chrono::steady_clock::now() + start_timeout;
  for (auto& a : tb->agents_) {
    if (auto st = tb->awaitListening(a, deadline, start_timeout); !st) return st;
  }
  return tb;
}

Status LocalTestbed::awaitListening(Agent& a, std::chrono::steady_clock::time_point deadline,
                                    std::chrono::milliseconds start_timeout) {
  std::string line;
  while (line.find('\n') == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    pollfd p{a.stdout_fd, POLLIN, 0};
    int r = left > 0 ? poll(&p, 1, static_cast<int>(left)) : 0;
    if (r <= 0) {
      return unavailable(
          "local agent '" + a.spec.name + "' (" + agent_binary_ +
          ") did not report its port within " + std::to_string(start_timeout.count() / 1000) +
          " s; see " +
          (log_dir_.empty() ? std::string("its stderr") : log_dir_ + "/" + a.spec.name + ".log"));
    }
    char buf[256];
    ssize_t n = read(a.stdout_fd, buf, sizeof buf);
    if (n <= 0) {
      return unavailable(
          "local agent '" + a.spec.name + "' exited before listening; see " +
          (log_dir_.empty() ? std::string("its stderr") : log_dir_ + "/" + a.spec.name + ".log"));
    }
    line.append(buf, static_cast<size_t>(n));
  }
  line = line.substr(0, line.find('\n'));
  const std::string prefix = "listening on ";
  if (line.rfind(prefix, 0) != 0) {
    return internalError("local agent '" + a.spec.name + "' printed '" + line +
                         "' instead of 'listening on HOST:PORT'");
  }
  a.address = line.substr(prefix.size());
  return Status::ok();
}

Status LocalTestbed::restart(size_t i, std::chrono::milliseconds start_timeout) {
  Agent& a = agents_[i];
  reap(a, true);  // a device that reboots does not say goodbye
  if (auto st = start(a); !st) return st;
  start_timeout = startTimeout(start_timeout);
  return awaitListening(a, std::chrono::steady_clock::now() + start_timeout, start_timeout);
}

Status LocalTestbed::start(Agent& a) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0)
    return internalError(std::string("pipe: ") + std::strerror(errno));
  // The token goes through a pipe the agent inherits as fd 3: written in full before the fork
  // (it fits the pipe's buffer), so the agent reads it and then end of file.
  int tok[2];
  if (pipe2(tok, O_CLOEXEC) != 0) {
    close(out[0]);
    close(out[1]);
    return internalError(std::string("pipe: ") + std::strerror(errno));
  }
  const std::string line = token_ + "\n";
  const bool wrote = write(tok[1], line.data(), line.size()) == static_cast<ssize_t>(line.size());
  close(tok[1]);
  if (!wrote) {
    close(tok[0]);
    close(out[0]);
    close(out[1]);
    return internalError("cannot hand the token to local agent '" + a.spec.name + "'");
  }
  std::vector<std::string> args = {agent_binary_, "--listen",  "127.0.0.1:0",
                                   "--name",      a.spec.name, "--token-fd",
                                   "3",           "--threads", std::to_string(a.spec.threads)};
  if (a.spec.tls) args.push_back("--tls");
  if (!a.spec.data_dir.empty()) {
    args.push_back("--data-dir");
    args.push_back(a.spec.data_dir);
  }
  if (a.spec.metrics_interval_ms > 0) {
    // One string built first: GCC 12 warns falsely (-Warray-bounds) on push_back of a long
    // literal here.
    const std::string flag = "--metrics-interval-ms=" + std::to_string(a.spec.metrics_interval_ms);
    args.push_back(flag);
  }
  std::vector<char*> argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  const std::string log_path = log_dir_.empty() ? "" : log_dir_ + "/" + a.spec.name + ".log";
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    const std::string err = std::strerror(errno);
    close(tok[0]);
    close(out[0]);
    close(out[1]);
    return internalError("fork: " + err);
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);
    // A process group of its own: a terminal's Ctrl-C (SIGINT to the foreground group) reaches
    // the controller, which stops at an iteration boundary and then ends the agents; sent to
    // the agents as well it would kill them mid-step and turn a clean stop into a lost device.
    setpgid(0, 0);
    dup2(out[1], STDOUT_FILENO);
    if (tok[0] == 3) {
      fcntl(3, F_SETFD, 0);  // dup2 onto itself would keep close-on-exec
    } else {
      dup2(tok[0], 3);
    }
    if (!log_path.empty()) {
      int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      if (log_fd >= 0) dup2(log_fd, STDERR_FILENO);
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    execv(argv[0], argv.data());
    execvp(argv[0], argv.data());
    const char msg[] = "edgerig: cannot execute the agent binary: ";
    (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)!write(STDERR_FILENO, argv[0], std::strlen(argv[0]));
    (void)!write(STDERR_FILENO, "\n", 1);
    _exit(127);
  }
  close(out[1]);
  close(tok[0]);
  a.pid = pid;
  a.stdout_fd = out[0];
  return Status::ok();
}

bool LocalTestbed::alive(size_t i) {
  Agent& a = agents_[i];
  if (a.pid <= 0) return false;
  int status = 0;
  pid_t r = waitpid(a.pid, &status, WNOHANG);
  if (r == a.pid) {
    a.pid = -1;
    return false;
  }
  return true;
}

void LocalTestbed::kill(size_t i) {
  Agent& a = agents_[i];
  if (a.pid > 0) ::kill(a.pid, SIGKILL);
  reap(a, true);
}

int LocalTestbed::reap(Agent& a, bool force, std::chrono::milliseconds grace, bool* clean) {
  int status = 0;
  if (clean != nullptr) *clean = false;
  if (a.pid > 0) {
    if (!force) {
      ::kill(a.pid, SIGTERM);
      const auto end = std::chrono::steady_clock::now() + grace;
      for (;;) {
        if (waitpid(a.pid, &status, WNOHANG) == a.pid) {
          a.pid = -1;
          if (clean != nullptr) *clean = true;
          break;
        }
        if (std::chrono::steady_clock::now() >= end) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    if (a.pid > 0) {
      ::kill(a.pid, SIGKILL);
      waitpid(a.pid, &status, 0);
      a.pid = -1;
    }
  }
  if (a.stdout_fd >= 0) {
    close(a.stdout_fd);
    a.stdout_fd = -1;
  }
  return status;
}

Result<int> LocalTestbed::terminate(size_t i, std::chrono::milliseconds grace) {
  Agent& a = agents_.at(i);
  if (a.pid <= 0) return invalidArgument("agent " + a.spec.name + " is not running");
  bool clean = false;
  const int status = reap(a, /*force=*/false, grace, &clean);
  if (!clean) {
    return unavailable("agent " + a.spec.name + " did not exit within " +
                       std::to_string(grace.count()) + " ms of SIGTERM and was killed");
  }
  return status;
}

LocalTestbed::~LocalTestbed() {
  for (auto& a : agents_) {
    if (a.pid > 0) ::kill(a.pid, SIGTERM);
  }
  for (auto& a : agents_) reap(a, false);
}

}  // namespace edgerig
