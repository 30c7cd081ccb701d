// The link bandwidth probe in real runs of local agents: an emulated cap on one device's links
// is measured within ±20 % (and an uncapped link far above it), as is a cap on some links only
// (two halves, the crossing links capped), a link fault applied mid-run is
// measured again at the next iteration boundary, the probe's bytes are their own traffic kind,
// and an agent refuses malformed or hostile probe bursts by closing that session, and keeps
// serving.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <map>
#include <mutex>

#include "core/controller/controller.h"
#include "core/controller/local_testbed.h"
#include "core/runlog/run_reader.h"
#include "device_bridge/address.h"
#include "device_bridge/auth.h"
#include "device_bridge/io_thread.h"
#include "device_bridge/session.h"
#include "tests/support/scratch_dir.h"

namespace edgerig {
namespace {

constexpr double kMbit = 1e6 / 8;  // bytes/s

ExperimentConfig smallRun(int devices, int iterations) {
  ExperimentConfig c;
  c.name = "probe";
  c.seed = 5;
  c.local_count = devices;
  c.model = "mlp";
  c.dataset = "synthetic";
  c.synthetic_size = 1024;
  c.batch_size = 32;
  c.max_iterations = iterations;
  c.eval_every = 0;
  c.eval_samples = 64;
  c.test_limit = 64;
  return c;
}

// links.csv as {probe time → {(from, to) → bytes/s}}, in the order the probes ran.
std::vector<std::map<std::pair<std::string, std::string>, double>> probes(const RunData& run) {
  std::vector<std::map<std::pair<std::string, std::string>, double>> out;
  double t = -1;
  for (const auto& l : run.links) {
    if (l.time_s != t) out.emplace_back();
    t = l.time_s;
    out.back()[{l.from, l.to}] = l.bytes_per_s;
  }
  return out;
}

TEST(LinkProbe, MeasuresAnEmulatedCapWithinTwentyPercentAndUncappedLinksFarAbove) {
  auto c = smallRun(4, 2);
  c.algorithm.name = "allreduce";  // any number of devices (mlp has 3 layers: 3 stages at most)
  c.profiles.resize(4);
  c.profiles[2].bandwidth_mbps = 50;  // dev2's outgoing links
  const auto dir = testsupport::runDir("cap");
  ControllerOptions opts;
  opts.run_dir = dir;
  Controller controller(c, opts);
  const auto summary = controller.run();
  ASSERT_TRUE(summary.ok) << summary.error;
  auto run = readRun(dir);
  ASSERT_TRUE(run.isOk()) << run.status().message();
  const auto sets = probes(*run);
  ASSERT_EQ(sets.size(), 1u) << "one probe at the start, none later (no link changed)";
  const auto& m = sets[0];
  ASSERT_EQ(m.size(), 12u) << "every ordered pair of 4 devices";
  for (const auto& [link, v] : m) {
    const auto& [from, to] = link;
    if (from == "dev2") {
      EXPECT_NEAR(v, 50 * kMbit, 0.2 * 50 * kMbit) << from << "->" << to;
    } else {
      EXPECT_GT(v, 4 * 50 * kMbit) << from << "->" << to << " is not capped";
    }
  }
  // The probe took well under a few seconds, and its bytes are their own kind.
  bool probed = false;
  for (const auto& e : run->events) {
    if (e.kind != "link_probe") continue;
    probed = true;
    EXPECT_LT(std::stod(e.field("seconds")), 3.0) << e.detail;
    EXPECT_EQ(e.field("links"), "12") << e.detail;
  }
  EXPECT_TRUE(probed);
  double probe_bytes = 0;
  for (const auto& s : run->metrics) {
    if (s.device == "dev2" && s.metric == "bytes_sent_probe") probe_bytes = s.value;
  }
  // Three bursts of 32 chunks of 32 KiB from dev2, counted as probe traffic, not control.
  EXPECT_GE(probe_bytes, 3 * 32 * 32768.0);
  EXPECT_LT(probe_bytes, 3 * 32 * 33000.0);
}

TEST(LinkProbe, ACapOnSomeLinksOnlyIsMeasuredOnThoseLinks) {
  // Two halves {dev0, dev1} and {dev2, dev3}: each device's links to the other half are capped
  // (devices.profiles[].peers), the links inside a half are not.
  auto c = smallRun(4, 2);
  c.algorithm.name = "allreduce";
  c.profiles.resize(4);
  for (int d = 0; d < 4; ++d) {
    c.profiles[d].bandwidth_mbps = 50;
    c.profiles[d].peers = d < 2 ? std::vector<int>{2, 3} : std::vector<int>{0, 1};
  }
  const auto dir = testsupport::runDir("peers");
  ControllerOptions opts;
  opts.run_dir = dir;
  Controller controller(c, opts);
  const auto summary = controller.run();
  ASSERT_TRUE(summary.ok) << summary.error;
  auto run = readRun(dir);
  ASSERT_TRUE(run.isOk()) << run.status().message();
  const auto sets = probes(*run);
  ASSERT_EQ(sets.size(), 1u);
  ASSERT_EQ(sets[0].size(), 12u);
  const auto half = [](const std::string& name) { return name == "dev0" || name == "dev1"; };
  for (const auto& [link, v] : sets[0]) {
    if (half(link.first) != half(link.second)) {
      EXPECT_NEAR(v, 50 * kMbit, 0.2 * 50 * kMbit) << link.first << "->" << link.second;
    } else {
      EXPECT_GT(v, 4 * 50 * kMbit) << link.first << "->" << link.second << " is not capped";
    }
  }
}

TEST(LinkProbe, ALinkFaultMidRunIsMeasuredAgainAtTheNextBoundary) {
  auto c = smallRun(3, 6);
  FaultConfig slow;
  slow.device = 0;
  slow.kind = "link";
  slow.bandwidth_mbps = 20;
  slow.at_iteration = 2;
  c.faults.push_back(slow);
  const auto dir = testsupport::runDir("fault");
  ControllerOptions opts;
  opts.run_dir = dir;
  std::mutex mu;
  std::vector<LinkBandwidthInfo> seen;
  RunObserver obs;
  obs.on_bandwidth = [&](const LinkBandwidthInfo& info) {
    std::lock_guard lock(mu);
    seen.push_back(info);
  };
  Controller controller(c, opts, obs);
  const auto summary = controller.run();
  ASSERT_TRUE(summary.ok) << summary.error;
  auto run = readRun(dir);
  ASSERT_TRUE(run.isOk()) << run.status().message();
  const auto sets = probes(*run);
  ASSERT_EQ(sets.size(), 2u) << "at the start, and after the fault";
  for (const auto& [link, v] : sets[0]) EXPECT_GT(v, 100 * kMbit) << link.first << link.second;
  for (const auto& [link, v] : sets[1]) {
    if (link.first == "dev0") {
      EXPECT_NEAR(v, 20 * kMbit, 0.2 * 20 * kMbit) << link.first << "->" << link.second;
    } else {
      EXPECT_GT(v, 100 * kMbit) << link.first << "->" << link.second;
    }
  }
  int64_t at = -1;
  bool changed = false;
  for (const auto& l : run->links) at = l.iteration;
  for (const auto& e : run->events) changed |= e.kind == "links_changed";
  EXPECT_EQ(at, 2) << "re-probed at the boundary after the fault";
  EXPECT_TRUE(changed) << "a links_changed event";
  std::lock_guard lock(mu);
  ASSERT_EQ(seen.size(), 2u) << "the observer hears of each probe";
  EXPECT_EQ(seen[1].devices.size(), 3u);
  EXPECT_NEAR(seen[1].bytes_per_s[0][1], 20 * kMbit, 0.2 * 20 * kMbit);
}

TEST(LinkProbe, AReprobeThatChangesALinkMakesFtpipehdCheckItsPlan) {
  // replanEvery is far beyond the run: only the re-probe after the link fault can make ftpipehd
  // check its plan (each check logs the predicted gain), and its bandwidth terms are measured.
  auto c = smallRun(2, 6);
  c.algorithm.name = "ftpipehd";
  c.algorithm.params.set("microBatches", int64_t{2});
  c.algorithm.params.set("replanEvery", int64_t{1000});
  FaultConfig slow;
  slow.device = 0;
  slow.kind = "link";
  slow.bandwidth_mbps = 20;
  slow.at_iteration = 3;
  c.faults.push_back(slow);
  const auto dir = testsupport::runDir("ftpipehd");
  ControllerOptions opts;
  opts.run_dir = dir;
  Controller controller(c, opts);
  const auto summary = controller.run();
  ASSERT_TRUE(summary.ok) << summary.error;
  auto run = readRun(dir);
  ASSERT_TRUE(run.isOk()) << run.status().message();
  std::vector<int64_t> checked;
  for (const auto& m : run->metrics) {
    if (m.metric == "predicted_gain") checked.push_back(m.iteration);
  }
  ASSERT_EQ(checked.size(), 1u) << "one plan check, after the re-probe";
  EXPECT_EQ(checked[0], 3);
  for (const auto& e : run->events) {
    if (e.kind == "replanned") {
      EXPECT_EQ(e.field("reason"), "links") << e.detail;
    }
  }
}

// An agent process, and a peer that dials it on the data plane with the run's token.
class HostileProbe : public testing::Test {
 protected:
  void SetUp() override {
    token_ = bridge::randomToken();
    auto tb = LocalTestbed::spawn(findAgentBinary(), {{"solo", 1, ""}}, token_, "");
    ASSERT_TRUE(tb.isOk()) << tb.status().message();
    testbed_ = std::move(tb).value();
    auto hp = bridge::parseHostPort(testbed_->address(0));
    ASSERT_TRUE(hp.isOk());
    addr_ = *hp;
  }

  // Sends `chunks` as a peer named `name`; true if the agent closed the session within 5 s.
  bool closedAfter(const std::vector<wire::ProbeData>& chunks, const std::string& name = "rogue") {
    bridge::SessionOptions so;
    so.local_name = name;
    so.role = wire::PEER_ROLE_AGENT;
    so.send_heartbeats = false;
    so.loss_timeout = std::chrono::milliseconds(0);
    auto s = bridge::connect(io_.context(), addr_, token_, so);
    EXPECT_TRUE(s.isOk()) << s.status().message();
    if (!s) return false;
    auto closed = std::make_shared<std::promise<void>>();
    auto once = std::make_shared<std::once_flag>();
    (*s)->start(
        [](wire::Envelope&&) {},
        [closed, once](const Status&) { std::call_once(*once, [&] { closed->set_value(); }); });
    auto fut = closed->get_future();
    for (const auto& c : chunks) {
      wire::Envelope env;
      *env.mutable_probe_data() = c;
      (*s)->send(std::move(env));
    }
    const bool was_closed = fut.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
    (*s)->close();
    return was_closed;
  }

  static wire::ProbeData chunk(uint32_t seq, uint32_t chunks, size_t bytes, uint64_t id = 1) {
    wire::ProbeData d;
    d.set_probe_id(id);
    d.set_from(0);
    d.set_to(1);
    d.set_seq(seq);
    d.set_chunks(chunks);
    d.mutable_payload()->assign(bytes, 'x');
    return d;
  }

  std::string token_;
  bridge::HostPort addr_;
  bridge::IoThread io_;
  std::unique_ptr<LocalTestbed> testbed_;
};

TEST_F(HostileProbe, MalformedBurstsCloseTheSessionAndTheAgentKeepsServing) {
  // A well-formed burst is taken without complaint (its report goes to a controller; there is
  // none here), so a closed session below is the refusal, not the probe itself.
  EXPECT_FALSE(closedAfter({chunk(0, 2, 1024), chunk(1, 2, 1024)}));
  // A chunk far larger than any probe sends (the bridge's frame limit would allow it).
  EXPECT_TRUE(closedAfter({chunk(0, 4, 8u << 20)}));
  // A burst that declares four billion chunks, to make the receiver keep state forever.
  EXPECT_TRUE(closedAfter({chunk(0, 4000000000u, 16)}));
  // A chunk with no burst begun, and one out of order.
  EXPECT_TRUE(closedAfter({chunk(5, 8, 16)}));
  EXPECT_TRUE(closedAfter({chunk(0, 8, 16), chunk(3, 8, 16)}));
  // A burst that switches probe mid-way (a second sender's chunks on this session).
  EXPECT_TRUE(closedAfter({chunk(0, 8, 16, 1), chunk(1, 8, 16, 2)}));
  EXPECT_TRUE(testbed_->alive(0));
  EXPECT_FALSE(closedAfter({chunk(0, 3, 16), chunk(1, 3, 16), chunk(2, 3, 16)}))
      << "the agent still takes a good burst";
}

}  // namespace
}  // namespace edgerig
