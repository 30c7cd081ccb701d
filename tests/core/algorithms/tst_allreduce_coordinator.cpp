// The allreduce coordinator's protocol around lost devices, against scripted devices whose
// replies the test orders: races that a run meets once in minutes (both found by the chaos soak,
// docs/benchmarks.md "Chaos soak (issue 14)") happen here every time.
// - A StepDone of the attempt a lost device interrupted arrives after the ring re-formed: it
//   must not count for the re-run (else Commit reaches a device that has not reduced it).
// - A device lost while a restarted one rejoins (while the model is gathered, while the ring
//   starts): the rejoin goes on over the survivors instead of failing the run.
// Each scripted device keeps the rule the real AllreduceWorker keeps: it refuses a Step of
// another ring epoch and a Commit of an iteration it has not reduced in its epoch.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <utility>

#include "core/algorithms/algo_message.h"
#include "core/algorithms/decentralized/allreduce/allreduce_coordinator.h"
#include "core/model/tensor_codec.h"
#include "core/runlog/event_kinds.h"
#include "decentralized.pb.h"

namespace edgerig {
namespace {

struct ScriptedDevice {
  bool alive = true;
  uint32_t epoch = 0;
  int64_t reduced = -1;  // the iteration it has reduced in `epoch`, not yet committed
  int64_t committed = -1;
  std::vector<std::string> refusals;  // what the real worker would have answered RunError to
};

class ScriptedRing : public RunContext {
 public:
  explicit ScriptedRing(int devices) : devices_(static_cast<size_t>(devices)) {
    config_.name = "allreduce-protocol";
    config_.batch_size = 16;
    config_.algorithm.name = "allreduce";
    config_.algorithm.params.set("bucketMiB", 1.0);
  }

  // What a device does with each message the coordinator sends it (after the scripted device
  // has taken it): by default it answers at once.
  std::function<void(int device, const wire::AlgoMessage&)> on_algo;
  std::function<void(int device, const wire::Envelope&)> on_control;
  // Called with the launches of each startWorkers; return false to fail it as a lost device.
  std::function<bool(const std::vector<WorkerLaunch>&)> on_start;

  ScriptedDevice& dev(int d) { return devices_[static_cast<size_t>(d)]; }
  // A reply on the wire: it reaches the controller when the coordinator next waits and nothing
  // earlier matches.
  void reply(int device, const google::protobuf::Message& body) {
    DeviceMessage m;
    m.device = device;
    *m.env.mutable_algo() = algoMessage(bridge::TrafficKind::kControl, body);
    wire_.push_back(std::move(m));
  }
  void replyEnvelope(int device, wire::Envelope env) {
    wire_.push_back(DeviceMessage{device, std::move(env)});
  }
  void lose(int device) {
    dev(device).alive = false;
    untaken_lost_.push_back(device);
  }
  std::vector<std::string> events(const std::string& kind) const {
    std::vector<std::string> out;
    for (const auto& [k, detail] : events_) {
      if (k == kind) out.push_back(detail);
    }
    return out;
  }
  std::vector<int> commitsTo(int device) const {
    auto it = commits_.find(device);
    return it == commits_.end() ? std::vector<int>{} : it->second;
  }

  // The scripted device's own rules (those of AllreduceWorker).
  void deviceTakes(int d, const wire::AlgoMessage& m) {
    ScriptedDevice& s = dev(d);
    if (auto setup = bodyAs<decentralized::RingSetup>(m); setup) {
      s.epoch = setup->ring_epoch();
      s.reduced = -1;  // the uncommitted iteration of the old ring is dropped
    } else if (auto step = bodyAs<decentralized::Step>(m); step) {
      if (step->ring_epoch() != s.epoch) s.refusals.push_back("step of another epoch");
    } else if (auto commit = bodyAs<decentralized::Commit>(m); commit) {
      commits_[d].push_back(static_cast<int>(commit->iteration()));
      if (s.reduced != commit->iteration()) {
        s.refusals.push_back("commit of iteration " + std::to_string(commit->iteration()) +
                             ", which this device has not reduced");
      } else {
        s.committed = s.reduced;
        s.reduced = -1;
      }
    }
  }
  // The device finished the ring's exchange of `iteration` in its epoch: it reports.
  void reduced(int d, int64_t iteration) {
    dev(d).reduced = iteration;
    decentralized::StepDone done;
    done.set_iteration(iteration);
    done.set_ring_epoch(dev(d).epoch);
    done.set_samples(16);
    done.set_loss_sum(16 * 2.0);
    done.set_compute_s(0.01);
    reply(d, done);
  }
  // The default answers: RingReady, StepDone at once; a state reply with a model.
  void answerAtOnce(int d, const wire::AlgoMessage& m) {
    if (auto setup = bodyAs<decentralized::RingSetup>(m); setup) {
      decentralized::RingReady ready;
      ready.set_ring_epoch(setup->ring_epoch());
      reply(d, ready);
    } else if (auto step = bodyAs<decentralized::Step>(m); step) {
      reduced(d, step->iteration());
    }
  }
  void answerState(int d) {
    wire::Envelope env;
    ModelState weights{{"w", torch::full({4}, static_cast<float>(d))}};
    ModelState momentum{{"w", torch::full({4}, 0.5f)}};
    *env.mutable_state_reply()->mutable_state() = toBlob(weights);
    *env.mutable_state_reply()->mutable_optimizer() = toBlob(momentum);
    replyEnvelope(d, std::move(env));
  }

  // RunContext
  const ExperimentConfig& config() const override { return config_; }
  int numDevices() const override { return static_cast<int>(devices_.size()); }
  std::string deviceName(int i) const override { return "dev" + std::to_string(i); }
  std::string deviceAddress(int i) const override { return "127.0.0.1:" + std::to_string(i); }
  bool alive(int i) const override { return devices_[static_cast<size_t>(i)].alive; }
  std::vector<int> takeLost() override { return std::exchange(untaken_lost_, {}); }
  double linkBandwidth(int, int) const override { return 1e9; }
  std::vector<std::vector<double>> linkBandwidths() const override { return {}; }
  int64_t linkProbes() const override { return 1; }
  Status probeLinks(const std::string&) override { return Status::ok(); }
  Result<std::vector<wire::WorkerReady>> startWorkers(std::vector<WorkerLaunch> launches,
                                                      std::chrono::milliseconds) override {
    stash_.clear();  // as the controller: what older workers left is moot
    wire_.clear();
    last_started_.clear();
    for (const auto& l : launches) last_started_.push_back(l.device);
    if (on_start && !on_start(launches)) {
      return unavailable("a device was lost while waiting for the workers to start");
    }
    std::vector<wire::WorkerReady> readies;
    for (const auto& l : launches) {
      ScriptedDevice& s = dev(l.device);
      decentralized::RingSetup setup;
      l.setup.UnpackTo(&setup);
      s.epoch = setup.ring_epoch();
      s.reduced = -1;
      wire::WorkerReady r;
      r.set_train_size(1024);
      r.set_test_size(128);
      readies.push_back(r);
    }
    return readies;
  }
  void send(int device, wire::AlgoMessage message) override {
    if (!alive(device)) return;  // a dead device's socket swallows it
    deviceTakes(device, message);
    if (on_algo) {
      on_algo(device, message);
    } else {
      answerAtOnce(device, message);
    }
  }
  void sendControl(int device, wire::Envelope env) override {
    if (!alive(device)) return;
    if (on_control) {
      on_control(device, env);
    } else if (env.has_fetch_state()) {
      answerState(device);
    }
  }
  Result<DeviceMessage> await(const std::function<bool(const DeviceMessage&)>& want,
                              std::chrono::milliseconds, const std::string& what) override {
    // As the controller: what arrived earlier and nobody took first, then a loss not yet taken,
    // then the wire, one message at a time (what nobody wants is kept).
    for (auto it = stash_.begin(); it != stash_.end(); ++it) {
      if (want(*it)) {
        DeviceMessage m = std::move(*it);
        stash_.erase(it);
        return m;
      }
    }
    for (;;) {
      if (!untaken_lost_.empty()) {
        return unavailable("device " + deviceName(untaken_lost_.front()) +
                           " was lost while waiting for " + what);
      }
      if (wire_.empty() && !(on_idle && on_idle())) {
        return Status(StatusCode::kTimeout, "nothing more comes: " + what);
      }
      DeviceMessage m = std::move(wire_.front());
      wire_.pop_front();
      if (on_arrival) on_arrival(m);
      if (want(m)) return m;
      stash_.push_back(std::move(m));
    }
  }
  // Called as each message comes off the wire (before the coordinator sees it).
  std::function<void(const DeviceMessage&)> on_arrival;
  // Called when the coordinator waits and the wire is empty: a slow device may finish now (true
  // when it put a reply on the wire).
  std::function<bool()> on_idle;
  void event(const std::string& kind, const std::string& detail, int, const EventFields&) override {
    events_.emplace_back(kind, detail);
  }
  void metric(const std::string&, double, int) override {}
  void setCapacity(int, double) override {}
  void planChanged(const StagePlan&, const std::vector<int>&, const std::vector<LayerInfo>&,
                   const std::vector<double>&, const std::string&) override {}
  void graphChanged(const GraphLayout&, const std::string&) override {}

  std::vector<int> last_started_;

 private:
  ExperimentConfig config_;
  std::vector<ScriptedDevice> devices_;
  std::vector<int> untaken_lost_;
  std::deque<DeviceMessage> stash_;
  std::deque<DeviceMessage> wire_;
  std::vector<std::pair<std::string, std::string>> events_;
  std::map<int, std::vector<int>> commits_;
};

bool isStep(const wire::AlgoMessage& m) { return bodyIs<decentralized::Step>(m); }

TEST(AllreduceProtocol, AStepDoneOfTheInterruptedAttemptDoesNotCountForTheRerun) {
  ScriptedRing ring(3);
  AllreduceCoordinator coordinator(ring);
  ASSERT_TRUE(coordinator.setup());
  ASSERT_EQ(coordinator.layoutDescription(), "ring dev0 dev1 dev2");

  // Iteration 7, first attempt: dev2 reports; dev0 has reduced too but its StepDone is slow on
  // the wire; dev1 is lost. Re-run: dev2 answers at once, dev0 only after it computed again.
  int steps_seen = 0;
  std::optional<decentralized::StepDone> dev0_late;
  ring.on_algo = [&](int d, const wire::AlgoMessage& m) {
    if (!isStep(m)) return ring.answerAtOnce(d, m);
    ++steps_seen;
    auto step = bodyAs<decentralized::Step>(m);
    if (steps_seen <= 3) {  // the first attempt: sent to dev0, dev1, dev2
      if (d == 0) {
        ring.dev(0).reduced = step->iteration();
        dev0_late.emplace();
        dev0_late->set_iteration(step->iteration());
        dev0_late->set_ring_epoch(ring.dev(0).epoch);
        dev0_late->set_samples(16);
      }
      if (d == 2) ring.reduced(2, step->iteration());
      return;
    }
    if (d == 2) ring.reduced(2, step->iteration());
  };
  // dev2's StepDone of the first attempt comes off the wire: dev1 is lost, and dev0's late
  // StepDone of that attempt is on its way behind the new ring's readies.
  bool lost_yet = false;
  ring.on_arrival = [&](const DeviceMessage& m) {
    if (lost_yet || m.device != 2) return;
    lost_yet = true;
    ring.lose(1);
    ring.reply(0, *dev0_late);
  };
  // dev0 finishes the re-run's reduction only when the controller waits with nothing else to
  // read: a controller that took the stale StepDone for it has committed by then.
  ring.on_idle = [&] {
    if (steps_seen <= 3 || ring.dev(0).reduced == 7 || ring.dev(0).committed == 7) return false;
    ring.reduced(0, 7);
    return true;
  };
  auto result = coordinator.trainStep(7);

  ASSERT_TRUE(result) << result.status().message();
  EXPECT_EQ(coordinator.layoutDescription(), "ring dev0 dev2");
  EXPECT_TRUE(ring.dev(0).refusals.empty()) << ring.dev(0).refusals.front();
  EXPECT_TRUE(ring.dev(2).refusals.empty()) << ring.dev(2).refusals.front();
  EXPECT_EQ(ring.commitsTo(0), std::vector<int>{7});
  EXPECT_EQ(ring.commitsTo(2), std::vector<int>{7});
  EXPECT_EQ(ring.dev(0).committed, 7) << "dev0 applied the re-run's average";
  EXPECT_EQ(ring.dev(2).committed, 7);
  ASSERT_EQ(result->devices.size(), 2u) << "the re-run's two reports, not the stale one";
}

// Iteration 1 loses device `lost` and the ring re-forms over the others (`layout`); then `lost`
// is up again (restarted), ready to rejoin.
void loseOneAndBringItBack(ScriptedRing& ring, AllreduceCoordinator& coordinator, int lost,
                           const std::string& layout) {
  ASSERT_TRUE(coordinator.setup());
  ring.lose(lost);
  ASSERT_TRUE(coordinator.trainStep(1));
  ASSERT_EQ(coordinator.layoutDescription(), layout);
  ring.dev(lost).alive = true;
}

TEST(AllreduceProtocol, ADeviceLostWhileTheModelIsGatheredForARejoinIsLeftOut) {
  ScriptedRing ring(3);
  AllreduceCoordinator coordinator(ring);
  ASSERT_NO_FATAL_FAILURE(loseOneAndBringItBack(ring, coordinator, 1, "ring dev0 dev2"));
  // While the survivors' models are gathered for dev1's rejoin, dev2 is lost.
  ring.on_control = [&](int d, const wire::Envelope& env) {
    if (!env.has_fetch_state()) return;
    if (d == 2) {
      ring.lose(2);
      return;
    }
    ring.answerState(d);
  };
  auto st = coordinator.deviceRejoined(1);
  ASSERT_TRUE(st) << st.message();
  EXPECT_EQ(coordinator.layoutDescription(), "ring dev0 dev1");
  EXPECT_EQ(ring.last_started_, (std::vector<int>{0, 1}));
  EXPECT_EQ(ring.events(std::string(events::kDeviceRejoined)).size(), 1u);
  ASSERT_EQ(ring.events(std::string(events::kRecovered)).size(), 2u)
      << "the re-form after dev1's loss, then the one over dev0 and dev1";
  EXPECT_NE(ring.events(std::string(events::kRecovered)).back().find("dev0, dev1"),
            std::string::npos)
      << ring.events(std::string(events::kRecovered)).back();
  // Training goes on over the new ring.
  ring.on_control = nullptr;
  auto step = coordinator.trainStep(2);
  ASSERT_TRUE(step) << step.status().message();
  EXPECT_EQ(ring.commitsTo(1), std::vector<int>{2});
}

TEST(AllreduceProtocol, ADeviceLostWhileTheRingRestartsForARejoinIsLeftOut) {
  ScriptedRing ring(4);
  AllreduceCoordinator coordinator(ring);
  ASSERT_NO_FATAL_FAILURE(loseOneAndBringItBack(ring, coordinator, 3, "ring dev0 dev1 dev2"));
  // The first start of the new ring loses dev2.
  bool failed_once = false;
  ring.on_start = [&](const std::vector<WorkerLaunch>&) {
    if (failed_once) return true;
    failed_once = true;
    ring.lose(2);
    return false;
  };
  auto st = coordinator.deviceRejoined(3);
  ASSERT_TRUE(st) << st.message();
  EXPECT_EQ(coordinator.layoutDescription(), "ring dev0 dev1 dev3");
  EXPECT_EQ(ring.last_started_, (std::vector<int>{0, 1, 3}));
  EXPECT_EQ(ring.events(std::string(events::kDeviceRejoined)).size(), 1u);
  auto step = coordinator.trainStep(2);
  ASSERT_TRUE(step) << step.status().message();
  EXPECT_EQ(step->devices.size(), 3u);
}

TEST(AllreduceProtocol, ARejoiningDeviceLostAgainIsNotTakenBack) {
  ScriptedRing ring(3);
  AllreduceCoordinator coordinator(ring);
  ASSERT_NO_FATAL_FAILURE(loseOneAndBringItBack(ring, coordinator, 1, "ring dev0 dev2"));
  // dev1 dies again while the others' models are gathered.
  ring.on_control = [&](int d, const wire::Envelope& env) {
    if (env.has_fetch_state() && ring.alive(1)) ring.lose(1);
    ring.answerState(d);
  };
  auto st = coordinator.deviceRejoined(1);
  ASSERT_TRUE(st) << st.message();
  EXPECT_EQ(coordinator.layoutDescription(), "ring dev0 dev2");
  EXPECT_TRUE(ring.events(std::string(events::kDeviceRejoined)).empty());
}

}  // namespace
}  // namespace edgerig
