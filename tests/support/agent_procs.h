// The agent processes a test's controller spawned, as the kernel sees them (/proc): their PIDs,
// names and thread counts, measured from outside the agents rather than taken from what they
// report about themselves.
#pragma once

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace edgerig::testsupport {

// The process's command line, its arguments split at the NULs.
inline std::vector<std::string> procCmdline(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::vector<std::string> args;
  std::string arg;
  while (std::getline(in, arg, '\0')) args.push_back(arg);
  return args;
}

// The parent PID and the state letter from /proc/PID/stat (comm may hold spaces and parens,
// so the fields are read after its last ')').
inline bool procStat(pid_t pid, pid_t& ppid, char& state) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return false;
  const auto close = line.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream rest(line.substr(close + 1));
  long parent = 0;
  if (!(rest >> state >> parent)) return false;
  ppid = static_cast<pid_t>(parent);
  return true;
}

// The live `edgerig-agent` children of this process, by their --name.
inline std::map<std::string, pid_t> agentChildren() {
  std::map<std::string, pid_t> out;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return out;
  const pid_t self = getpid();
  while (dirent* e = readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0') continue;
    pid_t ppid = 0;
    char state = 0;
    if (!procStat(static_cast<pid_t>(pid), ppid, state) || ppid != self || state == 'Z') continue;
    const auto args = procCmdline(static_cast<pid_t>(pid));
    if (args.empty() || args[0].find("edgerig-agent") == std::string::npos) continue;
    for (size_t i = 0; i + 1 < args.size(); ++i) {
      if (args[i] == "--name") out[args[i + 1]] = static_cast<pid_t>(pid);
    }
  }
  closedir(proc);
  return out;
}

// "Threads:" of /proc/PID/status; -1 when the process is gone.
inline int procThreads(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::atoi(line.c_str() + 8);
  }
  return -1;
}

// CPU time (user + system, in clock ticks) of each thread of a process, by thread id, from
// /proc/PID/task/TID/stat.
inline std::map<long, long> threadTicks(pid_t pid) {
  std::map<long, long> out;
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* tasks = opendir(dir.c_str());
  if (tasks == nullptr) return out;
  while (dirent* e = readdir(tasks)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream in(dir + "/" + e->d_name + "/stat");
    std::string line;
    if (!std::getline(in, line)) continue;
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    // After comm: state (field 3) ... utime (14), stime (15).
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    long utime = 0, stime = 0;
    for (int f = 3; f <= 15 && rest >> field; ++f) {
      if (f == 14) utime = std::atol(field.c_str());
      if (f == 15) stime = std::atol(field.c_str());
    }
    out[std::atol(e->d_name)] = utime + stime;
  }
  closedir(tasks);
  return out;
}

}  // namespace edgerig::testsupport
