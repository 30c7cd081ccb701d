// Remote devices on a real (virtual) network: three agents, each in its own network namespace,
// and the controller — `edgerig-run` as a process — in a namespace of its own, all joined by
// veth pairs to a bridge (tests/support/netns_testbed.h); the controller reaches the agents as
// `devices.remote` with a `tokenFile`. Everything is judged from the run folder (metrics.csv,
// events.csv, links.csv):
//   - the same allreduce run across namespaces and on loopback gives the same losses;
//   - a kernel rate limit (tc tbf) on one agent's interface shows in its links' measured rate;
//   - an agent's link down for less than the loss timeout loses no device;
//   - down for longer, the device is lost and allreduce finishes over the survivors;
//   - a data link reset while its peer is unreachable for a while is dialled again with backoff,
//     resumes, and the run goes on, nothing lost.
// Needs root and `ip netns` (CI has both); skips with the reason otherwise. The namespaces,
// links and processes go with the test, failed or not.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "cli_process.h"
#include "core/runlog/event_kinds.h"
#include "core/runlog/run_reader.h"
#include "tests/support/netns_testbed.h"
#include "tests/support/scratch_dir.h"

namespace edgerig {
namespace {

using namespace std::chrono_literals;

constexpr int kAgents = 3;
// ControllerOptions' defaults, which edgerig-run uses: a heartbeat a second, lost after 3.5 s
// without a frame.
constexpr auto kLossTimeout = 3500ms;

// edgerig-run as a process, in network namespace `ns` (through `ip netns exec`, which execs it
// in place: the pid is edgerig-run's) or in this one (`ns` empty), in a process group of its
// own, stdout and stderr to files of `files`. Killed, group and all, if it is still running
// when this goes.
class RunProcess {
 public:
  RunProcess(const std::string& ns, const std::string& experiment, const std::string& run_dir,
             const testsupport::ScratchDir& files)
      : files_(files) {
    const char* exe = std::getenv("EDGERIG_RUN");
    EXPECT_NE(exe, nullptr) << "EDGERIG_RUN is not set (ctest sets it)";
    if (!exe) return;
    std::vector<std::string> args;
    if (!ns.empty()) args = {"ip", "netns", "exec", ns};
    for (const std::string& a :
         {std::string(exe), experiment, std::string("--out"), run_dir, std::string("--quiet")}) {
      args.push_back(a);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    const std::string out = files.path("stdout"), err = files.path("stderr");
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    const int rc = posix_spawnp(&pid_, argv[0], &fa, &attr, argv.data(), environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    EXPECT_EQ(rc, 0) << "posix_spawnp " << argv[0];
    if (rc != 0) pid_ = -1;
  }
  bool started() const { return pid_ > 0; }
  ~RunProcess() {
    if (pid_ <= 0 || done_) return;
    ::kill(-pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  RunProcess(const RunProcess&) = delete;
  RunProcess& operator=(const RunProcess&) = delete;

  // The exit code, or -1 if it did not exit within `limit` (then it is killed).
  int wait(std::chrono::seconds limit) {
    if (pid_ <= 0) return -1;
    const int code = testsupport::waitExit(pid_, limit);
    done_ = true;
    if (code != 0) {
      ADD_FAILURE() << "edgerig-run exited with " << code << "; stderr:\n"
                    << testsupport::slurp(files_.path("stderr")) << "\nstdout:\n"
                    << testsupport::slurp(files_.path("stdout"));
    }
    return code;
  }

 private:
  const testsupport::ScratchDir& files_;
  pid_t pid_ = -1;
  bool done_ = false;
};

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

// An allreduce experiment of an MLP on synthetic data, seed 7, momentum 0: on `remote` with
// `token_file`, or on `local` agents of a local testbed. `training` adds to the training block,
// `more` to the experiment (", \"faults\": [...]").
std::string experiment(const std::vector<std::string>& remote, const std::string& token_file,
                       int local, const std::string& training, const std::string& more = "") {
  std::string devices = "\"localCount\": " + std::to_string(local);
  if (!remote.empty()) {
    devices += ", \"remote\": [";
    for (size_t i = 0; i < remote.size(); ++i) devices += (i ? ", " : "") + quoted(remote[i]);
    devices += "], \"tokenFile\": " + quoted(token_file);
  }
  return "{\"name\": \"remote-netns\", \"seed\": 7, \"devices\": {" + devices +
         "}, \"model\": {\"name\": \"mlp\"}, \"dataset\": {\"name\": \"synthetic\", "
         "\"syntheticSize\": 4096, \"testLimit\": 64}, \"algorithm\": {\"name\": \"allreduce\"}, "
         "\"training\": {\"batchSize\": 32, \"learningRate\": 0.05, \"momentum\": 0, "
         "\"epochs\": 0, \"evalEvery\": 0, \"evalSamples\": 64" +
         training + "}" + more + "}";
}

std::string writeFile(const testsupport::ScratchDir& dir, const std::string& name,
                      const std::string& text) {
  const std::string path = dir.path(name);
  std::ofstream(path) << text;
  return path;
}

// The run's train_loss by iteration (the run's own rows, not a device's).
std::map<int64_t, double> losses(const RunData& run) {
  std::map<int64_t, double> out;
  for (const auto& m : run.metrics) {
    if (m.metric == "train_loss" && m.device.empty()) out[m.iteration] = m.value;
  }
  return out;
}

// When each iteration's loss was written (s since the run started), in iteration order.
std::vector<double> lossTimes(const RunData& run) {
  std::vector<double> out;
  for (const auto& m : run.metrics) {
    if (m.metric == "train_loss" && m.device.empty()) out.push_back(m.time_s);
  }
  return out;
}

int count(const RunData& run, std::string_view kind) {
  return static_cast<int>(std::count_if(run.events.begin(), run.events.end(),
                                        [&](const RunEvent& e) { return e.kind == kind; }));
}

class RemoteNetns : public testing::Test {
 protected:
  void SetUp() override {
    if (const std::string why = testsupport::NetnsTestbed::skip(); !why.empty()) {
      GTEST_SKIP() << why;
    }
    ASSERT_NO_FATAL_FAILURE(bed_.make(std::vector<int>(kAgents, 0)));
    ASSERT_NO_FATAL_FAILURE(bed_.makeController());
  }

  // Runs `exp` with the controller in its namespace to its end; the run folder, read back.
  RunData runRemote(const std::string& exp,
                    const std::function<void(const std::string&)>& during = {}) {
    const std::string dir = files_.path("run-remote");
    RunProcess run(bed_.controllerNs(), writeFile(files_, "remote.json", exp), dir, files_);
    if (!run.started()) return {};
    if (during) {
      EXPECT_TRUE(testsupport::waitForTraining(dir)) << "no loss in " << dir << " within 60 s";
      during(dir);
    }
    EXPECT_EQ(run.wait(120s), 0);
    auto data = readRun(dir);
    EXPECT_TRUE(data.isOk()) << data.status().message();
    return data.isOk() ? std::move(data).value() : RunData{};
  }

  testsupport::NetnsTestbed bed_;
  testsupport::ScratchDir files_{"remote-netns"};
};

TEST_F(RemoteNetns, AcrossNamespacesTheLossesAreThoseOfTheSameRunOnLoopback) {
  ASSERT_NO_FATAL_FAILURE(bed_.startAgents());
  const std::string training = ", \"maxIterations\": 30";
  const RunData remote = runRemote(experiment(bed_.remote(), bed_.tokenFile(), 0, training));
  const std::string local_dir = files_.path("run-local");
  {
    RunProcess local("", writeFile(files_, "local.json", experiment({}, "", kAgents, training)),
                     local_dir, files_);
    ASSERT_EQ(local.wait(120s), 0);
  }
  auto local = readRun(local_dir);
  ASSERT_TRUE(local.isOk()) << local.status().message();
  const auto a = losses(remote), b = losses(*local);
  ASSERT_EQ(a.size(), 30u);
  ASSERT_EQ(b.size(), 30u);
  double worst = 0;
  for (const auto& [it, loss] : a) {
    ASSERT_TRUE(b.count(it)) << "iteration " << it << " is not in the loopback run";
    worst = std::max(worst, std::abs(loss - b.at(it)));
  }
  std::printf("30 iterations, largest loss difference across namespaces vs loopback: %.3g\n",
              worst);
  // Measured: 0 (the same arithmetic in the same order; only the wires differ).
  EXPECT_LE(worst, 1e-6);
  // And the run is not trivially flat: the losses move.
  EXPECT_GT(std::abs(a.begin()->second - a.rbegin()->second), 1e-3);
}

TEST_F(RemoteNetns, AKernelTbfLimitOnOneAgentShowsInItsLinksMeasuredRate) {
  constexpr int kCapped = 2;
  constexpr double kCapMbit = 50, kMbit = 1e6 / 8;
  ASSERT_NO_FATAL_FAILURE(bed_.capAgent(kCapped, kCapMbit));
  ASSERT_NO_FATAL_FAILURE(bed_.startAgents());
  const RunData run =
      runRemote(experiment(bed_.remote(), bed_.tokenFile(), 0, ", \"maxIterations\": 3"));
  std::map<std::pair<std::string, std::string>, double> rate;
  for (const auto& l : run.links) rate[{l.from, l.to}] = l.bytes_per_s;
  ASSERT_EQ(rate.size(), static_cast<size_t>(kAgents * (kAgents - 1)));
  const std::string capped = "dev" + std::to_string(kCapped);
  for (const auto& [link, v] : rate) {
    std::printf("%s -> %s: %.1f Mbit/s\n", link.first.c_str(), link.second.c_str(), v / kMbit);
    if (link.first == capped) {
      EXPECT_NEAR(v, kCapMbit * kMbit, 0.2 * kCapMbit * kMbit) << link.first << "->" << link.second;
    } else {
      EXPECT_GT(v, 4 * kCapMbit * kMbit) << link.first << "->" << link.second << " has no qdisc";
    }
  }
}

TEST_F(RemoteNetns, ALinkDownForLessThanTheLossTimeoutLosesNoDevice) {
  ASSERT_NO_FATAL_FAILURE(bed_.startAgents());
  constexpr auto kDown = 1000ms;
  static_assert(kDown < kLossTimeout / 2);
  const RunData run = runRemote(experiment(bed_.remote(), bed_.tokenFile(), 0,
                                           ", \"maxIterations\": 100000, \"maxSeconds\": 8"),
                                [&](const std::string&) {
                                  std::this_thread::sleep_for(1s);
                                  bed_.setAgentLink(1, false);
                                  std::this_thread::sleep_for(kDown);
                                  bed_.setAgentLink(1, true);
                                });
  EXPECT_EQ(count(run, events::kDeviceLost), 0);
  EXPECT_EQ(count(run, events::kRunFinished), 1);
  // The cut was real: the ring stood still for about as long as the link was down.
  const auto t = lossTimes(run);
  ASSERT_GE(t.size(), 10u);
  double gap = 0;
  for (size_t i = 1; i < t.size(); ++i) gap = std::max(gap, t[i] - t[i - 1]);
  std::printf("%zu iterations; the longest between two: %.2f s (link down %.1f s)\n", t.size(), gap,
              std::chrono::duration<double>(kDown).count());
  EXPECT_GE(gap, 0.8 * std::chrono::duration<double>(kDown).count());
}

TEST_F(RemoteNetns, ALinkDownForLongerLosesTheDeviceAndAllreduceFinishesOverTheSurvivors) {
  ASSERT_NO_FATAL_FAILURE(bed_.startAgents());
  constexpr auto kDown = 8s;
  static_assert(kDown > 2 * kLossTimeout);
  const RunData run = runRemote(experiment(bed_.remote(), bed_.tokenFile(), 0,
                                           ", \"maxIterations\": 100000, \"maxSeconds\": 12"),
                                [&](const std::string&) {
                                  std::this_thread::sleep_for(1s);
                                  bed_.setAgentLink(1, false);
                                  std::this_thread::sleep_for(kDown);
                                  bed_.setAgentLink(1, true);
                                });
  const RunEvent* lost = nullptr;
  const RunEvent* recovered = nullptr;
  for (const auto& e : run.events) {
    if (e.kind == events::kDeviceLost && !lost) lost = &e;
    if (e.kind == events::kRecovered && !recovered) recovered = &e;
  }
  ASSERT_NE(lost, nullptr) << "no device_lost";
  EXPECT_EQ(lost->device, "dev1");
  EXPECT_EQ(count(run, events::kDeviceLost), 1);
  ASSERT_NE(recovered, nullptr) << "no recovered event";
  EXPECT_EQ(recovered->field(events::fields::kDevices), "dev0, dev2");
  EXPECT_EQ(count(run, events::kRunFinished), 1);
  // Lost by the controller's heartbeats, a loss timeout after the cut (the ring stopped then: the
  // last loss before the loss), not when the link came back.
  int after = 0;
  double cut = 0;
  for (const auto& m : run.metrics) {
    if (m.metric != "train_loss" || !m.device.empty()) continue;
    if (m.time_s > lost->time_s) ++after;
    if (m.time_s < lost->time_s) cut = m.time_s;
  }
  std::printf("the ring stopped at %.2f s; dev1 lost at %.2f s; %d iterations after it\n", cut,
              lost->time_s, after);
  const double timeout_s = std::chrono::duration<double>(kLossTimeout).count();
  EXPECT_GE(lost->time_s - cut, timeout_s - 0.5);
  EXPECT_LE(lost->time_s - cut, timeout_s + 2.0);
  // Training went on after the loss, over the two survivors.
  EXPECT_GE(after, 5);
}

// A data link reset while both ends live, the peers unreachable for a while after (so the first
// dials again fail): dev0's outgoing data links are killed (`ss -K`) while routes in dev0's
// namespace make its peers unreachable for 1.5 s (< the 3.5 s loss timeout). The devices are
// slowed so that an iteration is mostly compute. The reset comes whenever it comes, a burst of
// the ring in flight or not: what the broken sessions had accepted (their queues, both kernels'
// buffers) is lost with them, and the resume protocol (peer_links.h, inbound_links.h) sends
// again what the peers had not acknowledged once the links are dialled again with backoff. The
// run finishes with no device lost and the losses of the same run on loopback.
TEST_F(RemoteNetns, ADataLinkResetWhileThePeersAreUnreachableIsDialledAgainAndNothingIsLost) {
  ASSERT_NO_FATAL_FAILURE(bed_.startAgents());
  const std::string training = ", \"maxIterations\": 14";
  std::string faults = ", \"faults\": [";
  for (int i = 0; i < kAgents; ++i) {
    faults += std::string(i ? ", " : "") + "{\"atIteration\": 0, \"device\": " + std::to_string(i) +
              ", \"kind\": \"slowdown\", \"slowdown\": 300}";
  }
  faults += "]";
  constexpr auto kUnreachable = 1500ms;
  static_assert(kUnreachable < kLossTimeout / 2);
  int killed = -1;
  const RunData remote = runRemote(
      experiment(bed_.remote(), bed_.tokenFile(), 0, training, faults), [&](const std::string&) {
        std::this_thread::sleep_for(1500ms);
        for (int peer : {1, 2}) {
          EXPECT_EQ(bed_.inAgentNs(0, "ip route add unreachable " + bed_.agentIp(peer) + "/32"), 0);
        }
        // Outgoing data links only: dev0 dials its peers' port; the controller dialled dev0's.
        killed = bed_.inAgentNs(0, "ss -K dport = :7411");
        std::this_thread::sleep_for(kUnreachable);
        for (int peer : {1, 2}) {
          EXPECT_EQ(bed_.inAgentNs(0, "ip route del unreachable " + bed_.agentIp(peer) + "/32"), 0);
        }
      });
  EXPECT_EQ(killed, 0) << "ss -K failed (a kernel without CONFIG_INET_DIAG_DESTROY?)";
  EXPECT_EQ(count(remote, events::kDeviceLost), 0);
  EXPECT_EQ(count(remote, events::kRunFinished), 1);
  const std::string local_dir = files_.path("run-local");
  {
    RunProcess local("",
                     writeFile(files_, "local.json", experiment({}, "", kAgents, training, faults)),
                     local_dir, files_);
    ASSERT_EQ(local.wait(120s), 0);
  }
  auto local = readRun(local_dir);
  ASSERT_TRUE(local.isOk()) << local.status().message();
  const auto a = losses(remote), b = losses(*local);
  ASSERT_EQ(a.size(), 14u);
  EXPECT_EQ(a, b);
  // The break was real: one iteration waited for the peers to be reachable again.
  const auto t = lossTimes(remote);
  double gap = 0, typical = 1e9;
  for (size_t i = 1; i < t.size(); ++i) {
    gap = std::max(gap, t[i] - t[i - 1]);
    typical = std::min(typical, t[i] - t[i - 1]);
  }
  std::printf("14 iterations; the longest between two %.2f s, the shortest %.2f s\n", gap, typical);
  EXPECT_GE(gap, typical + 0.5 * std::chrono::duration<double>(kUnreachable).count());
}

}  // namespace
}  // namespace edgerig
