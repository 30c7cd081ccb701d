#include "core/controller/controller.h"

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/catalog/catalog.h"
#include "core/controller/controller_run.h"
#include "core/controller/rate_window.h"
#include "core/runlog/event_kinds.h"
#include "core/runlog/run_log.h"
#include "device_bridge/auth.h"
#include "device_bridge/log.h"

namespace edgerig {

Controller::Controller(ExperimentConfig config, ControllerOptions options, RunObserver observer)
    : config_(std::move(config)), options_(std::move(options)), observer_(std::move(observer)) {
  fillAlgorithmDefaults(config_, knownNames());  // coordinators read every parameter
}

Controller::~Controller() = default;

void Controller::requestStop() { stop_.store(true); }

void Controller::injectFault(const FaultConfig& fault) {
  std::lock_guard lock(mu_);
  injected_.push_back(fault);
}

void Controller::killLocalDevice(int device) {
  std::lock_guard lock(mu_);
  kill_requests_.push_back(device);
}

void Controller::restartLocalDevice(int device) {
  std::lock_guard lock(mu_);
  restart_requests_.push_back(device);
}

void Controller::pause() { paused_.store(true); }

void Controller::resume() { paused_.store(false); }

void Controller::switchAlgorithm(const AlgorithmConfig& next) {
  std::lock_guard lock(mu_);
  switch_requests_.push_back(next);
}

RunSummary Controller::run() {
  Run r(*this);
  return r.execute();
}

void Controller::Run::publishDevices(bool force) {
  const double t = now();
  if (!force && t - last_devices_publish_ < 0.25) return;
  last_devices_publish_ = t;
  if (owner_.observer_.on_devices) owner_.observer_.on_devices(metrics_.devices());
  if (owner_.observer_.on_links) owner_.observer_.on_links(metrics_.links());
}

Status Controller::Run::pollControls() {
  if (owner_.stop_.load()) return Status(StatusCode::kAborted, "stopped on request");
  std::vector<FaultConfig> injected;
  std::vector<int> kills;
  std::vector<AlgorithmConfig> switches;
  {
    std::lock_guard lock(owner_.mu_);
    injected.swap(owner_.injected_);
    kills.swap(owner_.kill_requests_);
    switches.swap(owner_.switch_requests_);
    for (int d : owner_.restart_requests_) pending_restarts_.push_back(d);
    owner_.restart_requests_.clear();
  }
  if (!switches.empty()) {
    // Only the latest choice matters; it waits for the iteration boundary.
    pending_switch_ = switches.back();
    event(std::string(events::kSwitchRequested),
          "to " + describeAlgorithm(switches.back(), knownNames()) +
              " at the next iteration boundary",
          -1, {{std::string(events::fields::kTo), switches.back().name}});
  }
  for (int d : kills) {
    if (testbed_ && d >= 0 && d < static_cast<int>(testbed_->size())) {
      event(std::string(events::kFaultApplied), "local agent killed (SIGKILL)", d,
            {{std::string(events::fields::kFault), "crash"}});
      testbed_->kill(d);
    }
  }
  for (const auto& f : injected) {
    if (auto st = applyFault(f, "injected"); !st) return st;
  }
  if (schedule_) {
    for (const auto& f : schedule_->due(now(), iteration_)) {
      if (auto st = applyFault(f, "scheduled"); !st) return st;
    }
  }
  return Status::ok();
}

Status Controller::Run::applyFault(const FaultConfig& f, const std::string& source) {
  if (f.device < 0 || f.device >= pool_->size()) {
    return invalidArgument("fault on device " + std::to_string(f.device) + ": no such device");
  }
  const EventFields fields{{std::string(events::fields::kFault), f.kind}};
  if (f.kind == "crash" && testbed_ && f.device < static_cast<int>(testbed_->size())) {
    // A local crash is a real process death, not a polite exit.
    event(std::string(events::kFaultApplied), source + " crash (SIGKILL)", f.device, fields);
    testbed_->kill(f.device);
    return Status::ok();
  }
  if (f.kind == "restart") {
    pending_restarts_.push_back(f.device);  // at the next iteration boundary
    return Status::ok();
  }
  wire::Envelope env;
  *env.mutable_fault() = toFaultCommand(f);
  // A link fault on some links only: the agent matches its data links by the peers' names.
  std::string peers;
  for (int p : f.peers) {
    if (p < 0 || p >= pool_->size()) {
      return invalidArgument("fault on device " + std::to_string(f.device) + ": peer " +
                             std::to_string(p) + " is no device");
    }
    peers += (peers.empty() ? "" : ",") + pool_->name(p);
  }
  env.mutable_fault()->set_peer(peers);
  pool_->send(f.device, std::move(env));
  auto& d = metrics_.device(f.device);
  if (f.kind == "link" || f.kind == "clear") {
    // Measured again at the next iteration boundary (the agent applies the fault before it
    // reads the probe request that follows on the same session).
    links_changed_ = source + " " + f.kind + " fault on " + pool_->name(f.device);
  }
  if (f.kind == "clear") {
    d.faults.clear();
    event(std::string(events::kFaultCleared), source + " " + describeFault(f), f.device, fields);
  } else {
    d.faults += (d.faults.empty() ? "" : ", ") + describeFault(f);
    if (f.kind == "freeze") {
      d.state = DeviceState::kFrozen;
      frozen_until_[f.device] = now() + f.freeze_s;
    }
    event(std::string(events::kFaultApplied), source + " " + describeFault(f), f.device, fields);
  }
  publishDevices(true);
  return Status::ok();
}

Status Controller::Run::bringUpDevices() {
  const int local = cfg_.local_count;
  std::string token;
  if (!cfg_.token_file.empty()) {
    auto t = bridge::readTokenFile(cfg_.token_file);
    if (!t) return t.status();
    token = *t;
  } else if (!cfg_.remote.empty()) {
    return invalidArgument(
        "devices.remote is set but devices.token_file is not: remote agents "
        "need the pre-shared token their --token-file holds");
  } else {
    token = bridge::randomToken();
  }
  std::vector<DeviceEndpoint> endpoints;
  if (local > 0) {
    std::vector<LocalAgentSpec> specs;
    for (int i = 0; i < local; ++i) {
      LocalAgentSpec s;
      s.name = i < static_cast<int>(cfg_.profiles.size()) && !cfg_.profiles[i].name.empty()
                   ? cfg_.profiles[i].name
                   : "dev" + std::to_string(i);
      s.threads = cfg_.threads_per_agent;
      s.tls = cfg_.tls;
      specs.push_back(s);
    }
    const std::string binary =
        owner_.options_.agent_binary.empty() ? findAgentBinary() : owner_.options_.agent_binary;
    auto tb = LocalTestbed::spawn(binary, specs, token, log_->dir() + "/agents");
    if (!tb) return tb.status();
    testbed_ = std::move(tb).value();
    for (size_t i = 0; i < testbed_->size(); ++i) {
      endpoints.push_back({testbed_->name(i), testbed_->address(i), true});
    }
  }
  for (const auto& r : cfg_.remote) endpoints.push_back({"", r, false});
  bridge::SessionOptions so;
  so.local_name = "controller";
  so.heartbeat_interval = owner_.options_.heartbeat_interval;
  so.loss_timeout = owner_.options_.loss_timeout;
  so.protection = cfg_.tls ? wire::PROTECTION_TLS : wire::PROTECTION_MAC;
  pool_ = std::make_unique<DevicePool>(*io_, token, so);
  metrics_.resize(static_cast<int>(endpoints.size()));
  if (auto st = pool_->connectAll(endpoints); !st) return st;
  for (int i = 0; i < pool_->size(); ++i) {
    auto& d = metrics_.device(i);
    d.name = pool_->name(i);
    d.address = pool_->address(i);
    d.local = pool_->local(i);
    d.cores = pool_->cores(i);
    d.state = DeviceState::kReady;
    event(std::string(events::kDeviceJoined),
          (d.local ? "local agent at " : "remote agent at ") + d.address, i,
          {{std::string(events::fields::kAddress), d.address}});
  }
  publishDevices(true);
  return Status::ok();
}

Status Controller::Run::applyProfiles() {
  for (int i = 0; i < static_cast<int>(cfg_.profiles.size()) && i < pool_->size(); ++i) {
    if (auto st = applyProfile(i); !st) return st;
  }
  return Status::ok();
}

Status Controller::Run::applyProfile(int i) {
  if (i >= static_cast<int>(cfg_.profiles.size())) return Status::ok();
  const auto& p = cfg_.profiles[i];
  if (p.slowdown != 1.0) {
    FaultConfig f;
    f.device = i;
    f.kind = "slowdown";
    f.slowdown = p.slowdown;
    if (auto st = applyFault(f, "profile"); !st) return st;
  }
  if (p.delay_ms > 0 || p.jitter_ms > 0 || p.bandwidth_mbps > 0 || p.drop_probability > 0) {
    FaultConfig f;
    f.device = i;
    f.kind = "link";
    f.delay_ms = p.delay_ms;
    f.jitter_ms = p.jitter_ms;
    f.bandwidth_mbps = p.bandwidth_mbps;
    f.drop_probability = p.drop_probability;
    f.peers = p.peers;
    if (auto st = applyFault(f, "profile"); !st) return st;
  }
  return Status::ok();
}

void Controller::Run::announceLearningRate(int64_t iteration) {
  double lr = cfg_.learning_rate;
  for (const auto& step : cfg_.lr_schedule) {
    if (step.at_iteration > iteration) break;
    lr *= step.factor;
    if (step.at_iteration != iteration) continue;
    char buf[120];
    std::snprintf(buf, sizeof buf, "learning rate %g from iteration %lld (x %g)", lr,
                  static_cast<long long>(iteration), step.factor);
    char rate[32];
    std::snprintf(rate, sizeof rate, "%.9g", lr);
    event(std::string(events::kLearningRate), buf, -1,
          {{std::string(events::fields::kLearningRate), rate}});
  }
}

void Controller::Run::logStep(const StepResult& step) {
  // Per device, by device index: compute (emulated slowdown included), and the loss where more
  // than one device computes one (a decentralized run: every device has its own).
  int losses = 0;
  for (const auto& d : step.devices) losses += std::isnan(d.loss) ? 0 : 1;
  std::vector<MetricSample> rows;
  for (const auto& d : step.devices) {
    const std::string name = pool_->name(d.device);
    rows.push_back(MetricSample{now(), iteration_, name, "step_compute_s", d.compute_s});
    if (losses > 1 && !std::isnan(d.loss)) {
      rows.push_back(MetricSample{now(), iteration_, name, "train_loss", d.loss});
    }
  }
  log_->append(rows);
  if (owner_.observer_.on_metrics) owner_.observer_.on_metrics(rows);
}

RunSummary Controller::Run::execute() {
  summary_.experiment = cfg_.name;
  summary_.algorithm = cfg_.algorithm.name;
  summary_.model = cfg_.model;
  std::string dir = owner_.options_.run_dir;
  if (dir.empty()) {
    auto made = makeRunDir(owner_.options_.runs_root, cfg_.name);
    if (!made) return finish(made.status());
    dir = *made;
  }
  auto created = RunLog::create(dir, toJson(cfg_));
  if (!created) return finish(created.status());
  log_ = std::move(created).value();
  summary_.run_dir = log_->dir();
  t0_ = Clock::now();
  event(std::string(events::kRunStarted),
        cfg_.name + ": " + cfg_.algorithm.name + ", model " + cfg_.model + ", " + cfg_.dataset +
            ", " + std::to_string(cfg_.numDevices()) + " devices",
        -1, {{std::string(events::fields::kAlgorithm), cfg_.algorithm.name}});
  io_ = std::make_unique<bridge::IoThread>();
  if (auto st = bringUpDevices(); !st) return finish(st);
  if (auto st = applyProfiles(); !st) return finish(st);
  // The coordinator plans on measured links, so they are measured before it starts.
  if (auto st = probeLinks("run start"); !st) return finish(st);
  auto coordinator = startCoordinator(nullptr);
  if (!coordinator) return finish(coordinator.status());
  coordinator_ = std::move(coordinator).value();
  summary_.plan = coordinator_->layoutDescription();
  schedule_ = std::make_unique<FaultSchedule>(cfg_.faults);

  // The stop rule counts epochs as the running algorithm defines them (a switch may change how
  // many iterations an epoch takes): an iteration is 1/iterationsPerEpoch() of one.
  auto perEpoch = [&] { return std::max<int64_t>(1, coordinator_->iterationsPerEpoch()); };
  double epochs_done = 0;
  auto remaining = [&](int64_t done) {
    int64_t left = INT64_MAX;
    if (cfg_.epochs > 0) {
      left = static_cast<int64_t>(std::floor((cfg_.epochs - epochs_done) * perEpoch() + 1e-6));
    }
    if (cfg_.max_iterations > 0) left = std::min(left, cfg_.max_iterations - done);
    return std::max<int64_t>(left, done == 0 ? 1 : 0);  // at least one iteration
  };
  event(std::string(events::kTrainingStarted),
        std::to_string(remaining(0)) + " iterations of " + std::to_string(cfg_.batch_size) +
            " samples; " + describeAlgorithm(cfg_.algorithm, knownNames()) + "; " + summary_.plan,
        -1, {{std::string(events::fields::kIterations), std::to_string(remaining(0))}});
  for (auto& d : metrics_.devices()) {
    if (d.role_active && d.state != DeviceState::kLost) d.state = DeviceState::kTraining;
  }
  publishDevices(true);

  RunProgress progress;
  progress.total_iterations = remaining(0);
  progress.algorithm = cfg_.algorithm.name;
  const auto train_start = Clock::now();
  double eval_s = 0;
  int64_t samples_done = 0;
  // samples_per_s is the current rate (about the last 2 s of training time, so evaluations and
  // pauses do not show as dips); samples_per_s_average is since training started.
  RateWindow rate;
  rate.add(0, 0);
  auto evaluate = [&](int64_t n) -> Status {
    const auto e0 = Clock::now();
    auto r = coordinator_->evaluate(n);
    eval_s += std::chrono::duration<double>(Clock::now() - e0).count();
    if (!r) return r.status();
    metric("test_accuracy", r->accuracy);
    metric("test_loss", r->loss);
    for (const auto& d : r->devices) metric("test_accuracy", d.accuracy, d.device);
    progress.test_accuracy = r->accuracy;
    summary_.test_accuracy = r->accuracy;
    summary_.test_loss = r->loss;
    if (r->averaged_model_accuracy) summary_.averaged_model_accuracy = *r->averaged_model_accuracy;
    char buf[120];
    std::snprintf(buf, sizeof buf, "test accuracy %.4f, loss %.4f on %lld samples", r->accuracy,
                  r->loss, static_cast<long long>(r->samples));
    event(std::string(events::kEvaluation), buf);
    return Status::ok();
  };
  // maxSeconds limits training time, as the summary's training_s counts it: from the first
  // iteration, evaluations and pauses excluded. Counted from the run's start instead, a slow
  // bring-up (agents load LibTorch, remote devices connect) ate the budget, and a short limit
  // trained nothing at all.
  auto training_s = [&] {
    return std::chrono::duration<double>(Clock::now() - train_start).count() - eval_s - paused_s_;
  };
  for (int64_t it = 0; remaining(it) > 0; ++it) {
    iteration_ = it;
    if (cfg_.max_seconds > 0 && training_s() >= cfg_.max_seconds) {
      char buf[120];
      std::snprintf(buf, sizeof buf, "training.maxSeconds reached: %.1f s of training",
                    training_s());
      event(std::string(events::kStopRule), buf);
      break;
    }
    if (auto st = pollControls(); !st) return finish(st);
    if (auto st = boundary(progress); !st) return finish(st);
    if (auto st = reprobeIfLinksChanged(); !st) return finish(st);
    announceLearningRate(it);
    auto step = coordinator_->trainStep(it);
    if (!step) return finish(step.status());
    iteration_ = it + 1;
    epochs_done += 1.0 / static_cast<double>(perEpoch());
    samples_done += step->samples;
    const double train_s = training_s();
    logStep(*step);
    metric("train_loss", step->loss);
    metric("train_accuracy", step->accuracy);
    metric("epoch", epochs_done);
    progress.iteration = it + 1;
    progress.total_iterations = it + 1 + remaining(it + 1);
    progress.epoch = epochs_done;
    progress.elapsed_s = now();
    progress.train_loss = step->loss;
    progress.train_accuracy = step->accuracy;
    rate.add(train_s, static_cast<double>(samples_done));
    progress.samples_per_s = rate.rate();
    metric("samples_per_s", progress.samples_per_s);
    metric("samples_per_s_average", train_s > 0 ? samples_done / train_s : 0);
    summary_.train_loss = step->loss;
    if (owner_.observer_.on_progress) owner_.observer_.on_progress(progress);
    if (cfg_.eval_every > 0 && (it + 1) % cfg_.eval_every == 0 && remaining(it + 1) > 0) {
      if (auto st = evaluate(cfg_.eval_samples); !st) return finish(st);
      if (owner_.observer_.on_progress) owner_.observer_.on_progress(progress);
    }
  }
  summary_.training_s = training_s();
  summary_.algorithm = cfg_.algorithm.name;
  summary_.iterations = iteration_;
  summary_.epochs = epochs_done;
  summary_.samples_per_s = summary_.training_s > 0 ? samples_done / summary_.training_s : 0;
  if (auto st = evaluate(0); !st) return finish(st);
  if (owner_.observer_.on_progress) owner_.observer_.on_progress(progress);
  if (owner_.options_.save_model) {
    auto model = coordinator_->gatherState();
    if (!model) return finish(model.status());
    const std::string path = log_->dir() + "/" + kModelFile;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << model->SerializeAsString();
    out.close();
    if (!out) return finish(unavailable("cannot write " + path + ": check free space"));
  }
  return finish(Status::ok());
}

RunSummary Controller::Run::finish(const Status& st) {
  if (pool_) {
    // Drain the last metrics so the summary's byte counts are current.
    wire::Envelope stop;
    stop.mutable_stop_run()->set_reason(st ? "run finished" : st.message());
    pool_->broadcast(stop);
    const auto until = Clock::now() + std::chrono::milliseconds(400);
    while (Clock::now() < until) {
      if (auto in = pool_->next(std::chrono::milliseconds(50)); in && !in->closed) {
        if (in->env.has_metrics()) (void)handle(std::move(*in));
      }
    }
  }
  summary_.ok = st.isOk();
  summary_.stopped = !st && st.code() == StatusCode::kAborted && owner_.stop_.load();
  summary_.error = st.message();
  for (auto& d : metrics_.devices()) {
    d.role_active = false;
    if (d.state != DeviceState::kLost) d.state = DeviceState::kReady;
  }
  summary_.elapsed_s = now();
  summary_.devices = metrics_.devices();
  summary_.links = metrics_.links();
  if (log_) {
    if (st) {
      event(std::string(events::kRunFinished), "ok");
    } else if (summary_.stopped) {
      event(std::string(events::kRunStopped),
            "stopped on request after " + std::to_string(iteration_) + " iterations");
    } else {
      event(std::string(events::kRunFailed), st.message());
    }
  }
  publishDevices(true);
  if (pool_) pool_->closeAll();
  testbed_.reset();  // reaps the local agents
  if (io_) io_->stop();
  pool_.reset();
  return summary_;
}

}  // namespace edgerig
