// edgerig-agent: the device agent. One binary for a local testbed and for a real device.
#include <signal.h>
#include <unistd.h>

#include <malloc.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "core/agent/agent_runtime.h"
#include "device_bridge/address.h"
#include "device_bridge/auth.h"
#include "device_bridge/log.h"

int main(int argc, char** argv) {
  // Tensors arrive in multi-MiB messages: keep freed memory in the heap instead of trimming
  // and re-faulting it on every message (measured in bench/bridge).
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  CLI::App app{"edgerig-agent: runs pipeline stages for an edgerig controller on this device"};
  std::string listen = "0.0.0.0:7070";
  std::string name;
  std::string token_file;
  std::string data_dir;
  int threads = 1;
  int metrics_ms = 250;
  app.add_option("--listen", listen, "HOST:PORT to listen on (port 0: any free port)");
  app.add_option("--name", name, "device name shown by the controller (default: host name)");
  app.add_option("--token-file", token_file,
                 "file holding the pre-shared token (never pass a token on the command line)")
      ->required();
  app.add_option("--data-dir", data_dir,
                 "dataset folder on this device (default: the experiment's, else "
                 "/usr/share/datasets/fashion-mnist)");
  app.add_option("--threads", threads, "torch threads for compute")->check(CLI::Range(1, 256));
  app.add_option("--metrics-interval-ms", metrics_ms, "milliseconds between metrics reports")
      ->check(CLI::Range(20, 60000));
  CLI11_PARSE(app, argc, argv);

  auto log = edgerig::bridge::logger("edgerig.agent");
  auto where = edgerig::bridge::parseHostPort(listen);
  if (!where) {
    std::cerr << "edgerig-agent: --listen: " << where.status().message() << "\n";
    return 2;
  }
  auto token = edgerig::bridge::readTokenFile(token_file);
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
  agent->reset();
  return 0;
}
