// Memory under attack: a real edgerig-agent process, then 100 connections that each declare a
// maximal frame and send only its first part, and hold. Two attackers: strangers (no token:
// they get the pre-authentication limit) and insiders (they hold the token, authenticate, then
// declare frames at the agent's max frame size, as the review's attack did with ~200 MiB).
// Reports the agent's idle and peak resident memory (/proc/PID/status: VmRSS, VmHWM) against
// its memory budget. Usage: bench_attack_memory [AGENT_BINARY] [--budget-mib N]
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "device_bridge/auth.h"
#include "device_bridge/frame.h"
#include "device_bridge/session_crypto.h"
#include "device_bridge/traffic_kind.h"

namespace {

using namespace edgerig;
using namespace edgerig::bridge;

constexpr int kConnections = 100;
// What each insider actually sends: past the agent's 64 KiB probe, so that the agent commits
// to the tensor frame and makes room for all of it (the review's attack).
constexpr size_t kSentPerConnection = 128u << 10;
const std::string kToken = randomToken();

struct Agent {
  pid_t pid = -1;
  uint16_t port = 0;
};

Agent spawnAgent(const std::string& binary, const std::vector<std::string>& extra) {
  int out[2], tok[2];
  if (pipe(out) != 0 || pipe(tok) != 0) std::exit(1);
  const std::string line = kToken + "\n";
  if (write(tok[1], line.data(), line.size()) != static_cast<ssize_t>(line.size())) std::exit(1);
  close(tok[1]);
  std::vector<std::string> args = {binary,       "--listen", "127.0.0.1:0", "--name", "victim",
                                   "--token-fd", "3"};
  args.insert(args.end(), extra.begin(), extra.end());
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(tok[0], 3);
    const int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 2);  // its refusals are logged once per address; not our concern here
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  close(tok[0]);
  std::string text;
  char buf[256];
  while (text.find('\n') == std::string::npos) {
    const ssize_t n = read(out[0], buf, sizeof buf);
    if (n <= 0) {
      std::fprintf(stderr, "agent %s did not start\n", binary.c_str());
      std::exit(1);
    }
    text.append(buf, static_cast<size_t>(n));
  }
  close(out[0]);
  return {pid, static_cast<uint16_t>(std::stoi(text.substr(text.rfind(':') + 1)))};
}

size_t statusKiB(pid_t pid, const char* field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::stoul(line.substr(std::string(field).size()));
  }
  return 0;
}

std::string header(uint32_t n) {
  return {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
          static_cast<char>(n)};
}

std::string readFrameBody(asio::ip::tcp::socket& s) {
  uint8_t h[4];
  asio::read(s, asio::buffer(h));
  std::string body(decodeLength(h), '\0');
  asio::read(s, asio::buffer(body));
  return body;
}

// A stranger: a frame header at the pre-authentication limit, then all of it but one byte.
void stranger(asio::ip::tcp::socket& s, uint32_t preauth_max) {
  const std::string partial = header(preauth_max) + std::string(preauth_max - 1, 'x');
  asio::write(s, asio::buffer(partial));
}

// An insider: a full handshake with the token, then a tensor frame header declaring
// `declared` bytes, then the first kSentPerConnection bytes of it.
void insider(asio::ip::tcp::socket& s, uint32_t declared) {
  HandshakeTranscript t;
  t.dialer_nonce = randomBytes(kNonceBytes);
  t.dialer_role = wire::PEER_ROLE_TOOL;
  t.dialer_name = "insider";
  wire::Envelope hello;
  hello.mutable_hello()->set_name(t.dialer_name);
  hello.mutable_hello()->set_role(t.dialer_role);
  hello.mutable_hello()->set_nonce(t.dialer_nonce);
  asio::write(s, asio::buffer(encodeFrame(hello)));
  auto challenge = decodeBody(readFrameBody(s));
  t.agent_nonce = challenge->challenge().nonce();
  t.agent_name = challenge->challenge().agent_name();
  t.agent_protection = challenge->challenge().protection();
  wire::Envelope auth;
  auth.mutable_auth()->set_proof(dialerProof(kToken, t));
  asio::write(s, asio::buffer(encodeFrame(auth)));
  readFrameBody(s);  // Welcome
  // An algorithm message (a weights tensor) whose bulk bytes run to the end of the declared
  // frame: Envelope field 40 (algo) holding kind, one TensorMeta (field 5) and data (field 15).
  const auto varint = [](uint64_t v) {
    std::string out;
    while (v >= 0x80) {
      out.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out.push_back(static_cast<char>(v));
    return out;
  };
  const std::string meta = '\x08' + varint(declared / 4) + '\x10' + varint(1);  // shape, dtype
  const std::string algo_fields = '\x08' + varint(static_cast<uint32_t>(TrafficKind::kWeights)) +
                                  '\x2a' + varint(meta.size()) + meta;
  std::string prefix = std::string("\x08") + varint(200);  // protocol_version
  // Solve for the data length so that the whole body is `declared` bytes.
  for (uint64_t data = declared - 64; data < declared; ++data) {
    const std::string algo = algo_fields + '\x7a' + varint(data);
    const uint64_t algo_len = algo.size() + data;
    const std::string env_field = std::string("\xc2\x02") + varint(algo_len);
    const std::string first = prefix + env_field + algo;
    if (first.size() + data == declared) {
      std::string bytes = header(declared) + first;
      bytes.resize(kSentPerConnection, 'x');
      asio::write(s, asio::buffer(bytes));
      return;
    }
  }
  std::fprintf(stderr, "could not lay out a frame of %u bytes\n", declared);
  std::exit(1);
}

struct AttackResult {
  size_t idle_kib, peak_kib, connected;
};

AttackResult attack(const std::string& binary, const std::vector<std::string>& flags,
                    bool with_token, uint32_t declared) {
  Agent agent = spawnAgent(binary, flags);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const size_t idle = statusKiB(agent.pid, "VmRSS:");
  asio::io_context io;
  std::vector<std::unique_ptr<asio::ip::tcp::socket>> sockets;
  size_t connected = 0;
  for (int i = 0; i < kConnections; ++i) {
    auto s = std::make_unique<asio::ip::tcp::socket>(io);
    std::error_code ec;
    s->connect({asio::ip::make_address("127.0.0.1"), agent.port}, ec);
    if (ec) continue;
    try {
      if (with_token) {
        insider(*s, declared);
      } else {
        stranger(*s, declared);
      }
      ++connected;
    } catch (const std::exception&) {
      // Dropped by the agent (the oldest stranger goes when the cap is reached).
    }
    sockets.push_back(std::move(s));
  }
  // Give the agent time to take in what it will take, then read its high-water mark.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const size_t peak = statusKiB(agent.pid, "VmHWM:");
  const bool alive = kill(agent.pid, 0) == 0;
  sockets.clear();
  kill(agent.pid, SIGTERM);
  waitpid(agent.pid, nullptr, 0);
  if (!alive) std::printf("the agent died under attack\n");
  return {idle, peak, connected};
}

}  // namespace

int main(int argc, char** argv) {
  std::string binary = std::getenv("EDGERIG_AGENT") ? std::getenv("EDGERIG_AGENT") : "";
  size_t budget_mib = 512;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--budget-mib" && i + 1 < argc) {
      budget_mib = std::stoul(argv[++i]);
    } else {
      binary = a;
    }
  }
  if (binary.empty()) binary = "build/app/edgerig-agent";
  const std::vector<std::string> flags = {"--memory-budget-mib", std::to_string(budget_mib)};
  const uint32_t declared = 200u << 20;  // as in the review: ~200 MiB tensor frames
  std::printf("agent %s, memory budget %zu MiB, %d connections\n", binary.c_str(), budget_mib,
              kConnections);
  const AttackResult strangers = attack(binary, flags, /*with_token=*/false, 64u << 10);
  const AttackResult insiders = attack(binary, flags, /*with_token=*/true, declared);
  std::printf("%-44s %10s %10s %10s %12s\n", "attacker", "idle MiB", "peak MiB", "growth",
              "connections");
  const auto row = [&](const char* name, const AttackResult& r) {
    std::printf("%-44s %10.1f %10.1f %10.1f %12zu\n", name, r.idle_kib / 1024.0,
                r.peak_kib / 1024.0, (r.peak_kib - r.idle_kib) / 1024.0, r.connected);
  };
  row("strangers: 64 KiB frame (pre-auth max), held", strangers);
  row("insiders: 200 MiB frames, first 128 KiB, held", insiders);
  const double budget_kib = static_cast<double>(budget_mib) * 1024;
  std::printf("RATIO attack_memory_strangers_growth_over_budget %.3f\n",
              (strangers.peak_kib - strangers.idle_kib) / budget_kib);
  std::printf("RATIO attack_memory_insiders_growth_over_budget %.3f\n",
              (insiders.peak_kib - insiders.idle_kib) / budget_kib);
  return 0;
}
