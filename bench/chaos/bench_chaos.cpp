// The chaos soak (issue 14): one long experiment of one fault-tolerant algorithm, run by the real
// CLI (`edgerig-run`) as a child process on a local testbed, with a fault every ~N seconds drawn
// from the seed (the experiment's faults[]), measured from outside: resident memory of the CLI and
// of each agent every second, then the run folder (faults injected and survived, end state,
// completeness), leaked processes and files. Prints `RESULT key=value` lines; exits 1 when a
// target is missed (a fault not survived, something lost, memory not flat, a leak), 2 on bad use.
// Usage: bench_chaos --algorithm allreduce [--minutes 30] [--seed 1] [--devices 4]
//                    [--every-s 10] [--out DIR] [--cli PATH]
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/chaos/chaos_check.h"
#include "bench/chaos/chaos_plan.h"
#include "core/runlog/run_reader.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace edgerig::chaos {
namespace {

std::string readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// VmRSS in MiB, or -1 when the process is gone.
double rssMib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // kB
  }
  return -1;
}

// /proc/PID/stat: state and parent pid (the command may hold spaces and parentheses).
bool statOf(pid_t pid, char* state, pid_t* ppid) {
  const std::string s = readText("/proc/" + std::to_string(pid) + "/stat");
  const auto close = s.rfind(')');
  if (close == std::string::npos || close + 4 > s.size()) return false;
  std::istringstream rest(s.substr(close + 2));
  long parent = 0;
  rest >> *state >> parent;
  *ppid = static_cast<pid_t>(parent);
  return true;
}

std::vector<std::string> cmdline(pid_t pid) {
  const std::string s = readText("/proc/" + std::to_string(pid) + "/cmdline");
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == '\0') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  return out;
}

std::vector<pid_t> childrenOf(pid_t parent) {
  std::vector<pid_t> out;
  DIR* dir = opendir("/proc");
  if (dir == nullptr) return out;
  while (dirent* e = readdir(dir)) {
    char* end = nullptr;
    const long pid = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0') continue;
    char state = 0;
    pid_t ppid = 0;
    if (statOf(static_cast<pid_t>(pid), &state, &ppid) && ppid == parent)
      out.push_back(static_cast<pid_t>(pid));
  }
  closedir(dir);
  return out;
}

// Alive as an agent: exists, not a zombie, still an edgerig-agent (not a reused pid).
bool agentAlive(pid_t pid) {
  char state = 0;
  pid_t ppid = 0;
  if (!statOf(pid, &state, &ppid) || state == 'Z' || state == 'X') return false;
  const auto args = cmdline(pid);
  return !args.empty() && args[0].find("edgerig-agent") != std::string::npos;
}

struct ProcSeries {
  std::string name;
  std::vector<double> t, mib;
};

// Files of ours that would not honour TMPDIR: the token file of older releases
// (/tmp/edgerig-token-XXXXXX) and shared memory (/dev/shm/edgerig*, torch_*), owned by us.
// Other /tmp/edgerig-* names belong to other checkouts' tests on this machine (their scratch
// folders), so they are not counted; everything the CLI and its agents put in TMPDIR is.
std::set<std::string> ourTempFiles() {
  std::set<std::string> out;
  for (const char* dir : {"/tmp", "/dev/shm"}) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      const std::string name = e.path().filename().string();
      const bool shm = std::string(dir) == "/dev/shm";
      const bool ours = name.rfind("edgerig-token-", 0) == 0 ||
                        (shm && (name.rfind("edgerig", 0) == 0 || name.rfind("torch", 0) == 0));
      if (!ours) continue;
      struct stat st {};
      if (::lstat(e.path().c_str(), &st) == 0 && st.st_uid == ::geteuid())
        out.insert(e.path().string());
    }
  }
  return out;
}

std::string defaultCli() {
#ifdef EDGERIG_RUN_BINARY
  return EDGERIG_RUN_BINARY;
#else
  return "edgerig-run";
#endif
}

int run(int argc, char** argv) {
  ChaosOptions o;
  std::string out_dir, cli = defaultCli();
  CLI::App app{"bench_chaos: a long run of one fault-tolerant algorithm under random faults"};
  std::string names;
  for (const auto& n : algorithmNames()) names += (names.empty() ? "" : ", ") + n;
  app.add_option("--algorithm", o.algorithm, "one of: " + names)->required();
  app.add_option("--minutes", o.minutes, "training time (training.maxSeconds)")
      ->check(CLI::Range(0.5, 24 * 60.0));
  app.add_option("--seed", o.seed, "the fault schedule's and the run's seed");
  app.add_option("--devices", o.devices, "local agents")->check(CLI::Range(2, 16));
  app.add_option("--every-s", o.every_s, "mean seconds between faults")
      ->check(CLI::Range(2.0, 3600.0));
  app.add_option("--out", out_dir, "folder for the experiment, the run folder, logs (new)");
  app.add_option("--cli", cli, "the edgerig-run binary");
  app.add_flag("--crash-during-restart", o.crash_during_restart,
               "also crash devices while another one restarts");
  CLI11_PARSE(app, argc, argv);

  const AlgorithmChaos* a = findAlgorithm(o.algorithm);
  if (a == nullptr) {
    std::fprintf(stderr, "bench_chaos: unknown --algorithm '%s': choose one of %s\n",
                 o.algorithm.c_str(), names.c_str());
    return 2;
  }
  auto plan = drawPlan(o, *a);
  if (!plan) {
    std::fprintf(stderr, "bench_chaos: %s\n", plan.status().message().c_str());
    return 2;
  }
  if (out_dir.empty()) {
    out_dir = "chaos-" + o.algorithm + "-seed" + std::to_string(o.seed) + "-" +
              std::to_string(static_cast<long long>(::time(nullptr)));
  }
  std::error_code ec;
  if (fs::exists(out_dir) && !fs::is_empty(out_dir, ec)) {
    std::fprintf(stderr, "bench_chaos: --out %s exists and is not empty: give a new folder\n",
                 out_dir.c_str());
    return 2;
  }
  const std::string tmp_dir = out_dir + "/tmp", run_dir = out_dir + "/run";
  fs::create_directories(tmp_dir, ec);
  if (ec) {
    std::fprintf(stderr, "bench_chaos: cannot create %s: %s\n", tmp_dir.c_str(),
                 ec.message().c_str());
    return 2;
  }
  const std::string experiment = out_dir + "/experiment.json";
  std::ofstream(experiment) << experimentJson(o, *a, *plan);

  std::printf("bench_chaos: %s on %d local agents for %g min, seed %llu, a fault every ~%g s%s\n",
              o.algorithm.c_str(), o.devices, o.minutes, static_cast<unsigned long long>(o.seed),
              o.every_s, o.crash_during_restart ? ", crashes also during restarts" : "");
  std::printf("schedule drawn (%zu faults, run time):\n%s", plan->size(),
              describePlan(*plan).c_str());
  std::fflush(stdout);

  const auto temp_before = ourTempFiles();
  const std::string log_path = out_dir + "/cli.log";
  const pid_t cli_pid = fork();
  if (cli_pid < 0) {
    std::perror("bench_chaos: fork");
    return 2;
  }
  if (cli_pid == 0) {
    const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::setenv("TMPDIR", tmp_dir.c_str(), 1);
    std::vector<std::string> args = {cli, experiment, "--out", run_dir, "--quiet"};
    std::vector<char*> argv2;
    for (auto& s : args) argv2.push_back(s.data());
    argv2.push_back(nullptr);
    ::execvp(argv2[0], argv2.data());
    std::perror("bench_chaos: exec edgerig-run");
    ::_exit(127);
  }

  // Sample every second until the CLI exits, or a watchdog of 1.5 × the run plus 2 minutes (a
  // run's wall time is its training time plus bring-up, evaluations and restarts: 5-8 % more
  // when it went well on a loaded 2-core machine) finds it hung: SIGINT, then SIGKILL.
  const auto start = Clock::now();
  const double deadline_s = o.minutes * 60 * 1.5 + 120;
  std::map<pid_t, ProcSeries> series;
  series[cli_pid].name = "edgerig-run";
  std::set<pid_t> agents;
  int status = 0;
  bool exited = false, hung = false;
  int signals_sent = 0;
  double next_report = 60;
  while (!exited) {
    const double t = std::chrono::duration<double>(Clock::now() - start).count();
    const pid_t w = ::waitpid(cli_pid, &status, WNOHANG);
    if (w == cli_pid) {
      exited = true;
      break;
    }
    if (const double m = rssMib(cli_pid); m >= 0) {
      series[cli_pid].t.push_back(t);
      series[cli_pid].mib.push_back(m);
    }
    for (pid_t c : childrenOf(cli_pid)) {
      const double m = rssMib(c);
      if (m < 0) continue;
      auto& s = series[c];
      if (!agents.count(c)) {
        // Until it has exec'd, a child forked by the CLI still shows the CLI's command line.
        const auto args = cmdline(c);
        s.name = "child";
        if (!args.empty() && args[0].find("edgerig-agent") != std::string::npos) {
          agents.insert(c);
          for (size_t i = 0; i + 1 < args.size(); ++i)
            if (args[i] == "--name") s.name = args[i + 1];
        }
      }
      s.t.push_back(t);
      s.mib.push_back(m);
    }
    if (t >= next_report) {
      next_report += 60;
      std::printf("  %5.0f s: edgerig-run %.0f MiB, %zu agent processes seen\n", t,
                  series[cli_pid].mib.empty() ? 0.0 : series[cli_pid].mib.back(), agents.size());
      std::fflush(stdout);
    }
    if (t > deadline_s && signals_sent == 0) {
      hung = true;
      std::printf("bench_chaos: edgerig-run still running after %.0f s: SIGINT\n", t);
      ::kill(cli_pid, SIGINT);
      ++signals_sent;
    } else if (t > deadline_s + 60 && signals_sent == 1) {
      ::kill(cli_pid, SIGKILL);
      ++signals_sent;
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  const double wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  const int cli_exit = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

  // Leaks: agents still alive a moment after the CLI exited; our files left behind.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  std::vector<pid_t> leaked;
  for (pid_t p : agents)
    if (agentAlive(p)) leaked.push_back(p);
  for (pid_t p : leaked) ::kill(p, SIGKILL);  // ours (the CLI's children): end them
  std::vector<std::string> leaked_files;
  for (const auto& e : fs::directory_iterator(tmp_dir, ec))
    leaked_files.push_back(e.path().string());
  for (const auto& f : ourTempFiles())
    if (!temp_before.count(f)) leaked_files.push_back(f);

  // The memory series, for plots.
  {
    std::ofstream csv(out_dir + "/rss.csv");
    csv << "time_s,pid,process,rss_mib\n";
    for (const auto& [pid, s] : series)
      for (size_t i = 0; i < s.t.size(); ++i)
        csv << s.t[i] << "," << pid << "," << s.name << "," << s.mib[i] << "\n";
  }

  std::vector<std::string> missed;
  std::printf("RESULT algorithm=%s minutes=%g seed=%llu devices=%d every_s=%g wall_s=%.0f\n",
              o.algorithm.c_str(), o.minutes, static_cast<unsigned long long>(o.seed), o.devices,
              o.every_s, wall_s);
  std::printf("RESULT cli_exit=%d hung=%s out=%s\n", cli_exit, hung ? "yes" : "no",
              out_dir.c_str());
  if (hung) missed.push_back("hung");

  auto data = readRun(run_dir);
  if (!data) {
    std::printf("RESULT csv_parse=failed error=\"%s\"\n", data.status().message().c_str());
    missed.push_back("csv_parse");
  } else {
    std::printf("RESULT csv_parse=ok metrics_rows=%zu events_rows=%zu\n", data->metrics.size(),
                data->events.size());
    const EndState end = endState(*data);
    std::printf("RESULT end_state=%s detail=\"%s\"\n", end.kind.c_str(), end.detail.c_str());
    if (!end.finished()) missed.push_back("end_state");
    const Completeness c = checkCompleteness(*data);
    std::printf(
        "RESULT completeness=%s iterations=%lld missing=%lld duplicated=%lld "
        "events_out_of_order=%lld%s%s%s\n",
        c.ok() ? "ok" : "incomplete", static_cast<long long>(c.iterations),
        static_cast<long long>(c.missing), static_cast<long long>(c.duplicated),
        static_cast<long long>(c.events_out_of_order), c.ok() ? "" : " first=\"",
        c.first_problem.c_str(), c.ok() ? "" : "\"");
    if (!c.ok()) missed.push_back("completeness");
    const FaultReport r = judgeFaults(*plan, *a, *data);
    int injected = 0, survived = 0;
    for (const auto& f : r.faults) {
      injected += f.injected ? 1 : 0;
      survived += f.survived ? 1 : 0;
    }
    std::printf("RESULT faults_planned=%zu faults_injected=%d faults_survived=%d\n",
                r.faults.size(), injected, survived);
    for (const auto& [kind, n] : r.byKind()) {
      std::printf("RESULT fault_kind=%s planned=%d injected=%d survived=%d\n", kind.c_str(),
                  n.planned, n.injected, n.survived);
    }
    for (const auto& f : r.faults) {
      if (f.injected && f.survived) continue;
      std::printf("RESULT fault_missed at_s=%.1f device=dev%d kind=%s applied_s=%.1f why=\"%s\"\n",
                  f.planned.at_s, f.planned.device, f.planned.kind.c_str(), f.applied_s,
                  f.why.c_str());
    }
    std::printf("RESULT unexpected_losses=%zu\n", r.unexpected_losses.size());
    for (const auto& l : r.unexpected_losses)
      std::printf("RESULT unexpected_loss=\"%s\"\n", l.c_str());
    if (!r.ok()) missed.push_back("faults");
  }

  bool all_flat = true;
  for (const auto& [pid, s] : series) {
    const RssVerdict v = judgeRss(s.t, s.mib);
    std::printf(
        "RESULT rss process=%s pid=%d samples=%zu start_mib=%.1f peak_mib=%.1f end_mib=%.1f "
        "first_third_mib=%.1f last_third_mib=%.1f slope_mib_per_min=%.2f flat=%s\n",
        s.name.c_str(), pid, s.t.size(), v.start_mib, v.peak_mib, v.end_mib, v.first_third_mib,
        v.last_third_mib, v.slope_mib_per_min,
        !v.judged ? "n/a"
        : v.flat  ? "yes"
                  : "no");
    if (v.judged && !v.flat) all_flat = false;
  }
  std::printf(
      "RESULT rss_margin=\"last third median <= first third median + max(%.0f%%, %.0f MiB), "
      "after a %.0f s warm-up, for processes sampled >= %zu s after it\"\n",
      kRssMarginFraction * 100, kRssMarginMib, kRssWarmupS, kRssMinSamples);
  if (!all_flat) missed.push_back("rss_flat");
  std::printf("RESULT leaked_processes=%zu leaked_files=%zu\n", leaked.size(), leaked_files.size());
  for (pid_t p : leaked) std::printf("RESULT leaked_process=%d\n", p);
  for (const auto& f : leaked_files) std::printf("RESULT leaked_file=%s\n", f.c_str());
  if (!leaked.empty() || !leaked_files.empty()) missed.push_back("leaks");
  std::string m;
  for (const auto& s : missed) m += (m.empty() ? "" : ",") + s;
  std::printf("RESULT targets=%s%s%s\n", missed.empty() ? "met" : "missed",
              m.empty() ? "" : " missed=", m.c_str());
  return missed.empty() ? 0 : 1;
}

}  // namespace
}  // namespace edgerig::chaos

int main(int argc, char** argv) { return edgerig::chaos::run(argc, argv); }
