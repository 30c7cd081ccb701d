// Writes the fuzzers' seed corpora from real traffic: a Listener and a dialer (protection
// NONE on both sides, so the recorded frames are plain) talk through a recording relay; every
// frame either side sent becomes a seed of fuzz_frame and fuzz_envelope, and handshake
// programs for fuzz_handshake are made around them. Usage: record_seeds OUT_DIR
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../tests/bridge/relay.h"
#include "device_bridge/frame.h"
#include "device_bridge/io_thread.h"
#include "device_bridge/session.h"
#include "device_bridge/traffic_kind.h"

using namespace edgerig;
using namespace edgerig::bridge;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> frames(const std::string& stream) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at + 4 <= stream.size()) {
    const uint32_t len = decodeLength(reinterpret_cast<const uint8_t*>(stream.data() + at));
    if (at + 4 + len > stream.size()) break;
    out.push_back(stream.substr(at + 4, len));
    at += 4 + len;
  }
  return out;
}

void save(const fs::path& dir, const std::string& name, const std::string& bytes) {
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << bytes;
}

void algoMessage(wire::AlgoMessage* m, TrafficKind kind, size_t floats) {
  m->set_kind(static_cast<uint32_t>(kind));
  m->set_from(0);
  m->set_generation(1);
  if (floats == 0) return;
  auto* t = m->add_tensors();
  t->add_shape(static_cast<int64_t>(floats));
  t->set_dtype(wire::DTYPE_FLOAT32);
  m->set_data(std::string(floats * 4, '\x3f'));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const fs::path out = argv[1];
  const std::string token = "seed-token-0123456789abcdef";
  IoThread io;
  SessionOptions o;
  o.local_name = "dev0";
  o.protection = wire::PROTECTION_NONE;
  o.heartbeat_interval = std::chrono::milliseconds(50);
  std::vector<std::shared_ptr<Session>> accepted;
  auto listener =
      Listener::create(io.context(), {"127.0.0.1", 0}, token, o, [&](std::shared_ptr<Session> s) {
        s->start([](wire::Envelope&&) {}, [](const Status&) {});
        accepted.push_back(s);
      });
  if (!listener) return 1;
  testing::Relay relay(listener.value()->port());
  o.local_name = "controller";
  auto dialed = connect(io.context(), {"127.0.0.1", relay.port()}, token, o);
  if (!dialed) return 1;
  auto s = dialed.value();
  s->start([](wire::Envelope&&) {}, [](const Status&) {});
  std::vector<wire::Envelope> sent;
  wire::Envelope e;
  // What a run sends: a worker start, algorithm messages with and without bulk tensors.
  auto* start = e.mutable_worker_start();
  start->set_run_id("seed");
  start->set_algorithm("gpipe");
  start->set_generation(1);
  start->set_device(1);
  for (int port : {7070, 7071, 7072}) start->add_peers("127.0.0.1:" + std::to_string(port));
  start->set_params_json(R"({"microBatches":4,"plan":"even"})");
  sent.push_back(e);
  e = wire::Envelope();
  algoMessage(e.mutable_algo(), TrafficKind::kControl, 0);
  sent.push_back(e);
  e = wire::Envelope();
  algoMessage(e.mutable_algo(), TrafficKind::kActivation, 512);
  sent.push_back(e);
  e = wire::Envelope();
  algoMessage(e.mutable_algo(), TrafficKind::kGradient, 256);
  sent.push_back(e);
  e = wire::Envelope();
  algoMessage(e.mutable_algo(), TrafficKind::kWeights, 1024);
  sent.push_back(e);
  e = wire::Envelope();
  e.mutable_fault()->set_kind(wire::FaultCommand::KIND_LINK);
  e.mutable_fault()->set_delay_ms(20);
  sent.push_back(e);
  for (auto& m : sent) s->send(m);
  wire::Envelope report;
  report.mutable_metrics()->set_samples_per_s(512);
  auto* t = report.mutable_metrics()->add_traffic();
  t->set_peer("dev1");
  t->set_kind("activation");
  t->set_bytes_sent(123456);
  accepted.size() > 0 ? (void)0 : std::this_thread::sleep_for(std::chrono::milliseconds(100));
  if (!accepted.empty()) accepted[0]->send(report);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a few heartbeats
  s->close();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  int n = 0;
  std::vector<std::string> all;
  for (const std::string& stream : {relay.dialerBytes(), relay.agentBytes()}) {
    for (const std::string& body : frames(stream)) all.push_back(body);
  }
  for (const std::string& body : all) {
    const std::string name = "real-" + std::to_string(n++);
    save(out / "frame", name, body);
    save(out / "envelope", name, body);
  }
  // Handshake programs: [side] then steps [op][len][arg] (fuzz_handshake.cpp).
  const auto step = [](uint8_t op, const std::string& arg) {
    return std::string(1, static_cast<char>(op)) + std::string(1, static_cast<char>(arg.size())) +
           arg;
  };
  std::string small_step;
  for (const auto& body : all) {
    if (body.size() < 200 && body.find("\xc2\x01") == std::string::npos) small_step = body;
  }
  save(out / "handshake", "dial-good",
       std::string(1, '\0') + step(2, "raw") + step(3, "") + step(5, small_step) + step(7, ""));
  save(out / "handshake", "dial-tls",
       std::string(1, '\0') + step(2, "\x01tls") + step(3, "") + step(7, ""));
  save(out / "handshake", "dial-bad-proof",
       std::string(1, '\0') + step(2, "raw") + step(4, std::string(32, 'x')));
  save(out / "handshake", "agent-good",
       std::string(1, '\1') + step(7, "") + step(2, "dev0") + step(7, "") + step(3, "") +
           step(5, small_step));
  save(out / "handshake", "agent-bad-proof",
       std::string(1, '\1') + step(7, "") + step(4, std::string(32, 'y')));
  for (size_t i = 0; i < all.size() && i < 4; ++i) {
    if (all[i].size() < 250) {
      save(out / "handshake", "raw-" + std::to_string(i),
           std::string(1, static_cast<char>(i & 1)) + step(0, all[i]));
    }
  }
  std::printf("%d frames recorded into %s\n", n, out.c_str());
  return 0;
}
