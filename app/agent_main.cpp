// edgerig-agent: the device agent. One binary for a local testbed and for a real device.
#include <signal.h>
#include <unistd.h>

#include <malloc.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>

#include "core/agent/agent_runtime.h"
#include "device_bridge/address.h"
#include "device_bridge/auth.h"
#include "device_bridge/log.h"
#include "device_bridge/memory_budget.h"

namespace {

// The token from an inherited descriptor (a local testbed's pipe): read to its end, then closed.
edgerig::Result<std::string> readTokenFd(int fd) {
  std::string token;
  char buf[512];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return edgerig::invalidArgument("--token-fd " + std::to_string(fd) +
                                      ": cannot read: " + std::strerror(errno));
    }
    if (n == 0) break;
    token.append(buf, static_cast<size_t>(n));
    if (token.size() > 4096) return edgerig::invalidArgument("--token-fd: token too long");
  }
  close(fd);
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) {
    token.pop_back();
  }
  if (token.empty()) return edgerig::invalidArgument("--token-fd: no token in it");
  return token;
}

}  // namespace

int main(int argc, char** argv) {
  // Tensors arrive in multi-MiB messages: keep freed memory in the heap instead of trimming
  // and re-faulting it on every message (measured in bench/bridge).
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  // One arena: the thresholds above do not hold for the arenas glibc gives other threads, whose
  // heaps were created and deleted over and over (mmap, page faults). A stage that took another
  // over then ran its steps 2-3x slower in about a third of the runs (20 runs: 6 slow; none of 15
  // with one arena; docs/benchmarks.md respipe-curve).
  mallopt(M_ARENA_MAX, 1);
  CLI::App app{"edgerig-agent: runs pipeline stages for an edgerig controller on this device"};
  std::string listen = "0.0.0.0:7070";
  std::string name;
  std::string token_file;
  std::string data_dir;
  int token_fd = -1;
  int threads = 1;
  int metrics_ms = 250;
  bool new_token = false;
  bool tls = false;
  edgerig::bridge::SessionOptions session;
  const edgerig::bridge::BridgeLimits defaults;
  uint32_t preauth_kib = defaults.preauth_max_frame_bytes >> 10;
  size_t max_unauthenticated = defaults.max_unauthenticated;
  int handshake_ms = static_cast<int>(session.handshake_timeout.count());
  uint32_t max_frame_mib = session.max_frame_bytes >> 20;
  size_t connection_budget_mib = defaults.connection_budget_bytes >> 20;
  size_t memory_budget_mib = defaults.memory_budget_bytes >> 20;
  app.add_option("--listen", listen, "HOST:PORT to listen on (port 0: any free port)");
  app.add_option("--name", name, "device name shown by the controller (default: host name)");
  auto* file_opt =
      app.add_option("--token-file", token_file,
                     "file holding the pre-shared token (never pass a token on the command line)");
  auto* fd_opt = app.add_option("--token-fd", token_fd,
                                "read the token from this inherited descriptor (how a local "
                                "testbed hands it over: nothing on disk)");
  file_opt->excludes(fd_opt);
  app.add_flag("--new-token", new_token,
               "print a fresh random token (64 hex digits) and exit; save it to a file, mode 0600");
  app.add_flag("--tls", tls,
               "ask for TLS 1.3 on every connection (pre-shared key from the token; the stronger "
               "side's choice wins); without it every frame still carries a MAC");
  app.add_option("--preauth-max-frame-kib", preauth_kib,
                 "largest frame from a peer that has not authenticated yet")
      ->check(CLI::Range(1u, 1024u));
  app.add_option("--handshake-timeout-ms", handshake_ms,
                 "a peer must finish the handshake within this")
      ->check(CLI::Range(100, 600000));
  app.add_option("--max-unauthenticated", max_unauthenticated,
                 "connections waiting to authenticate at once; the oldest is dropped for a new one")
      ->check(CLI::Range(size_t{1}, size_t{100000}));
  app.add_option("--max-frame-mib", max_frame_mib, "largest frame after authentication")
      ->check(CLI::Range(1u, 4095u));
  app.add_option("--connection-budget-mib", connection_budget_mib,
                 "received bytes one connection may hold at once")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20));
  app.add_option("--memory-budget-mib", memory_budget_mib,
                 "received bytes all connections together may hold; larger frames wait for it")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20));
  app.add_option("--data-dir", data_dir,
                 "dataset folder on this device (default: the experiment's, else "
                 "/usr/share/datasets/fashion-mnist)");
  app.add_option("--threads", threads, "torch threads for compute")->check(CLI::Range(1, 256));
  app.add_option("--metrics-interval-ms", metrics_ms, "milliseconds between metrics reports")
      ->check(CLI::Range(20, 60000));
  CLI11_PARSE(app, argc, argv);
  if (new_token) {
    std::printf("%s\n", edgerig::bridge::randomToken().c_str());
    return 0;
  }
  if (token_file.empty() && token_fd < 0) {
    std::cerr << "edgerig-agent: give the token with --token-file FILE (or --token-fd N)\n";
    return 2;
  }

  auto log = edgerig::bridge::logger("edgerig.agent");
  auto where = edgerig::bridge::parseHostPort(listen);
  if (!where) {
    std::cerr << "edgerig-agent: --listen: " << where.status().message() << "\n";
    return 2;
  }
  auto token = token_fd >= 0 ? readTokenFd(token_fd) : edgerig::bridge::readTokenFile(token_file);
  if (!token) {
    std::cerr << "edgerig-agent: " << token.status().message() << "\n";
    return 2;
  }
  if (name.empty()) {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    name = host;
  }

  // Signals are taken by this thread alone (sigwait), so block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  edgerig::AgentOptions options;
  options.listen = *where;
  options.name = name;
  options.token = *token;
  options.data_dir = data_dir;
  options.threads = threads;
  options.metrics_interval = std::chrono::milliseconds(metrics_ms);
  session.protection = tls ? edgerig::wire::PROTECTION_TLS : edgerig::wire::PROTECTION_MAC;
  session.handshake_timeout = std::chrono::milliseconds(handshake_ms);
  session.max_frame_bytes = max_frame_mib << 20;
  session.limits.preauth_max_frame_bytes = preauth_kib << 10;
  session.limits.max_unauthenticated = max_unauthenticated;
  session.limits.connection_budget_bytes = connection_budget_mib << 20;
  session.limits.memory_budget_bytes = memory_budget_mib << 20;
  // One budget for the listener's sessions and those this agent dials.
  session.memory_budget =
      std::make_shared<edgerig::bridge::MemoryBudget>(session.limits.memory_budget_bytes);
  options.session = session;
  auto agent = edgerig::AgentRuntime::start(options);
  if (!agent) {
    std::cerr << "edgerig-agent: " << agent.status().message() << "\n";
    return 1;
  }
  std::printf("listening on %s:%u\n", options.listen.host.c_str(),
              static_cast<unsigned>((*agent)->port()));
  std::fflush(stdout);
  log->info("agent '{}' listening on {}:{}", name, options.listen.host, (*agent)->port());

  int sig = 0;
  sigwait(&signals, &sig);
  log->info("signal {} received; shutting down", sig);
  // A clean stop must not hang: a trainer waiting on a peer that died with the controller
  // (PR_SET_PDEATHSIG) would keep this process, and the run's memory, alive. SIGALRM is not
  // blocked, so it ends the process if the shutdown takes longer.
  alarm(5);
  agent->reset();
  return 0;
}
