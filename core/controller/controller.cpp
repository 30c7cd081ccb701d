#include "core/controller/controller.h"

#include <cmath>
#include <filesystem>

#include "core/algorithms/registry.h"
#include "core/controller/controller_run.h"
#include "core/data/sampler.h"
#include "core/model/layer_chain.h"
#include "core/runlog/run_log.h"
#include "device_bridge/auth.h"
#include "device_bridge/log.h"

namespace edgerig {
namespace {
auto log() { return bridge::logger("edgerig.controller"); }
}  // namespace

ExperimentNames knownNames() {
  ExperimentNames n;
  n.models = LayerChain::modelNames();
  n.algorithms = algorithmNames();
  return n;
}

Controller::Controller(ExperimentConfig config, ControllerOptions options, RunObserver observer)
    : config_(std::move(config)), options_(std::move(options)), observer_(std::move(observer)) {}

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

void Controller::Run::event(const std::string& kind, const std::string& detail, int device) {
  RunEvent e{now(), iteration_, device >= 0 ? pool_->name(device) : std::string(), kind, detail};
  if (log_) log_->append(e);
  // The observer shows events to the user; the log keeps them for whoever reads logs.
  const bool bad = kind == "run_failed" || kind == "error" || kind == "device_lost";
  log()->log(bad ? spdlog::level::warn : spdlog::level::debug, "{}{}: {}",
             e.device.empty() ? "" : e.device + ": ", kind, detail);
  if (owner_.observer_.on_event) owner_.observer_.on_event(e);
}

void Controller::Run::metric(const std::string& name, double value) {
  MetricSample m{now(), iteration_, "", name, value};
  if (log_) log_->append(m);
  if (owner_.observer_.on_metrics) owner_.observer_.on_metrics({m});
}

void Controller::Run::planChanged(const StagePlan& plan, const std::vector<int>& device_of_stage,
                                  const std::vector<LayerInfo>& layers,
                                  const std::vector<double>& layer_time_s, const std::string& why) {
  plan_text_ = plan.describe(layers);
  for (auto& d : metrics_.devices()) d.stage = -1;  // a device may hold no stage after a change
  for (int s = 0; s < plan.numStages(); ++s) {
    const int d = device_of_stage[s];
    std::string names;
    for (int l = plan.first(s); l < plan.last(s); ++l) {
      names += (names.empty() ? "" : " ") + layers[l].name;
    }
    PartitionRecord p{now(), iteration_, s, pool_->name(d), plan.first(s), plan.last(s), names};
    log_->append(p);
    auto& st = metrics_.device(d);
    st.stage = s;
    st.first_layer = plan.first(s);
    st.last_layer = plan.last(s);
  }
  event("plan_changed", why + ": " + plan_text_);
  if (owner_.observer_.on_plan) {
    PlanInfo info;
    info.algorithm = cfg_.algorithm;
    for (int s = 0; s < plan.numStages(); ++s) info.stage_first_layer.push_back(plan.first(s));
    info.device_of_stage = device_of_stage;
    info.layer_time_s = layer_time_s;
    info.why = why;
    owner_.observer_.on_plan(info);
  }
  publishDevices(true);
}

void Controller::Run::publishDevices(bool force) {
  const double t = now();
  if (!force && t - last_devices_publish_ < 0.25) return;
  last_devices_publish_ = t;
  if (owner_.observer_.on_devices) owner_.observer_.on_devices(metrics_.devices());
  if (owner_.observer_.on_links) owner_.observer_.on_links(metrics_.links());
}

Status Controller::Run::handle(const Incoming& in) {
  if (in.closed) {
    auto& d = metrics_.device(in.device);
    d.state = DeviceState::kLost;
    publishDevices(true);
    event("device_lost",
          "device " + pool_->name(in.device) + " (" + pool_->address(in.device) +
              ") lost: " + in.why.message(),
          in.device);
    return unavailable("device " + pool_->name(in.device) + " (" + pool_->address(in.device) +
                       ") was lost (" + in.why.message() + "); " + cfg_.algorithm +
                       " has no fault tolerance, so the run stops");
  }
  const auto& env = in.env;
  switch (env.body_case()) {
    case wire::Envelope::kMetrics: {
      auto rtt = pool_->rttMs(in.device);
      auto samples =
          metrics_.onReport(in.device, env.metrics(), now(), iteration_, rtt.value_or(0));
      auto& d = metrics_.device(in.device);
      bool frozen = false;
      if (auto fz = frozen_until_.find(in.device); fz != frozen_until_.end()) {
        frozen = now() < fz->second;
        if (!frozen) {  // the first report after the freeze: it is over
          frozen_until_.erase(fz);
          d.faults = withoutFault(d.faults, "freeze");
        }
      }
      if (d.state != DeviceState::kLost && !frozen) {
        d.state = d.slowdown > 1.0 ? DeviceState::kSlow
                  : d.stage >= 0   ? DeviceState::kTraining
                                   : DeviceState::kReady;
      }
      log_->append(samples);
      if (owner_.observer_.on_metrics) owner_.observer_.on_metrics(samples);
      publishDevices(false);
      return Status::ok();
    }
    case wire::Envelope::kFaultApplied:
      return Status::ok();  // logged when sent
    case wire::Envelope::kRunError:
      event("error", env.run_error().detail(), in.device);
      return internalError("device " + pool_->name(in.device) + ": " + env.run_error().detail());
    default:
      log()->debug("ignored message (case {}) from {}", static_cast<int>(env.body_case()),
                   pool_->name(in.device));
      return Status::ok();
  }
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
    event("switch_requested",
          "to " + describeAlgorithm(switches.back()) + " at the next iteration boundary");
  }
  for (int d : kills) {
    if (testbed_ && d >= 0 && d < static_cast<int>(testbed_->size())) {
      event("fault_applied", "local agent killed (SIGKILL)", d);
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

Result<DeviceMessage> Controller::Run::await(const std::function<bool(const DeviceMessage&)>& want,
                                             std::chrono::milliseconds timeout,
                                             const std::string& what) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (auto st = pollControls(); !st) return st;
    auto in = pool_->next(kPumpSlice);
    if (in) {
      if (!in->closed) {
        DeviceMessage m{in->device, in->env};
        if (want(m)) return m;
      }
      if (auto st = handle(*in); !st) return st;
    }
    if (Clock::now() > deadline) {
      return Status(
          StatusCode::kTimeout,
          "timed out after " + std::to_string(timeout.count() / 1000) + " s waiting for " + what);
    }
  }
}

Status Controller::Run::applyFault(const FaultConfig& f, const std::string& source) {
  if (f.device < 0 || f.device >= pool_->size()) {
    return invalidArgument("fault on device " + std::to_string(f.device) + ": no such device");
  }
  if (f.kind == "crash" && testbed_ && f.device < static_cast<int>(testbed_->size())) {
    // A local crash is a real process death, not a polite exit.
    event("fault_applied", source + " crash (SIGKILL)", f.device);
    testbed_->kill(f.device);
    return Status::ok();
  }
  if (f.kind == "restart") {
    pending_restarts_.push_back(f.device);  // at the next iteration boundary
    return Status::ok();
  }
  wire::Envelope env;
  *env.mutable_fault() = toFaultCommand(f);
  pool_->send(f.device, std::move(env));
  auto& d = metrics_.device(f.device);
  if (f.kind == "clear") {
    d.faults.clear();
    event("fault_cleared", source + " " + describeFault(f), f.device);
  } else {
    d.faults += (d.faults.empty() ? "" : ", ") + describeFault(f);
    if (f.kind == "freeze") {
      d.state = DeviceState::kFrozen;
      frozen_until_[f.device] = now() + f.freeze_s;
    }
    event("fault_applied", source + " " + describeFault(f), f.device);
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
    event("device_joined", (d.local ? "local agent at " : "remote agent at ") + d.address, i);
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
    if (auto st = applyFault(f, "profile"); !st) return st;
  }
  return Status::ok();
}

RunSummary Controller::Run::execute() {
  summary_.experiment = cfg_.name;
  summary_.algorithm = cfg_.algorithm;
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
  event("run_started", cfg_.name + ": " + cfg_.algorithm + ", model " + cfg_.model + ", " +
                           cfg_.dataset + ", " + std::to_string(cfg_.numDevices()) + " devices");
  io_ = std::make_unique<bridge::IoThread>();
  if (auto st = bringUpDevices(); !st) return finish(st);
  if (auto st = applyProfiles(); !st) return finish(st);
  auto coordinator = startCoordinator(nullptr);
  if (!coordinator) return finish(coordinator.status());
  coordinator_ = std::move(coordinator).value();
  summary_.plan = coordinator_->planDescription();
  schedule_ = std::make_unique<FaultSchedule>(cfg_.faults);

  EpochSampler sampler(coordinator_->trainSize(), cfg_.batch_size, cfg_.seed);
  int64_t total = static_cast<int64_t>(std::floor(cfg_.epochs * sampler.batchesPerEpoch()));
  if (cfg_.max_iterations > 0)
    total = cfg_.epochs > 0 ? std::min(total, cfg_.max_iterations) : cfg_.max_iterations;
  if (total < 1) total = 1;
  event("training_started",
        std::to_string(total) + " iterations of " + std::to_string(cfg_.batch_size) + " samples, " +
            std::to_string(cfg_.micro_batches) + " micro-batches; plan " + summary_.plan);
  for (int i = 0; i < pool_->size(); ++i) metrics_.device(i).state = DeviceState::kTraining;
  publishDevices(true);

  RunProgress progress;
  progress.total_iterations = total;
  progress.algorithm = cfg_.algorithm;
  const auto train_start = Clock::now();
  double eval_s = 0;
  int64_t samples_done = 0;
  auto evaluate = [&](int64_t n) -> Status {
    const auto e0 = Clock::now();
    auto r = coordinator_->evaluate(n);
    eval_s += std::chrono::duration<double>(Clock::now() - e0).count();
    if (!r) return r.status();
    metric("test_accuracy", r->accuracy);
    metric("test_loss", r->loss);
    progress.test_accuracy = r->accuracy;
    summary_.test_accuracy = r->accuracy;
    summary_.test_loss = r->loss;
    char buf[120];
    std::snprintf(buf, sizeof buf, "test accuracy %.4f, loss %.4f on %lld samples", r->accuracy,
                  r->loss, static_cast<long long>(r->samples));
    event("evaluation", buf);
    return Status::ok();
  };
  for (int64_t it = 0; it < total; ++it) {
    iteration_ = it;
    if (cfg_.max_seconds > 0 && now() > cfg_.max_seconds) {
      event("stop_rule", "max_seconds reached");
      break;
    }
    if (auto st = pollControls(); !st) return finish(st);
    if (auto st = boundary(progress); !st) return finish(st);
    auto step = coordinator_->trainStep(it, sampler.batch(it));
    if (!step) return finish(step.status());
    iteration_ = it + 1;
    samples_done += step->samples;
    const double train_s =
        std::chrono::duration<double>(Clock::now() - train_start).count() - eval_s - paused_s_;
    for (size_t st = 0; st < step->stage_compute_s.size(); ++st) {
      // Per-stage compute of this iteration, emulated slowdown included.
      MetricSample m{now(), iteration_, pool_->name(static_cast<int>(st)), "step_compute_s",
                     step->stage_compute_s[st]};
      log_->append(m);
      if (owner_.observer_.on_metrics) owner_.observer_.on_metrics({m});
    }
    metric("train_loss", step->loss);
    metric("train_accuracy", step->accuracy);
    metric("epoch", static_cast<double>(it + 1) / sampler.batchesPerEpoch());
    progress.iteration = it + 1;
    progress.epoch = static_cast<double>(it + 1) / sampler.batchesPerEpoch();
    progress.elapsed_s = now();
    progress.train_loss = step->loss;
    progress.train_accuracy = step->accuracy;
    progress.samples_per_s = train_s > 0 ? samples_done / train_s : 0;
    metric("samples_per_s", progress.samples_per_s);
    summary_.train_loss = step->loss;
    if (owner_.observer_.on_progress) owner_.observer_.on_progress(progress);
    if (cfg_.eval_every > 0 && (it + 1) % cfg_.eval_every == 0 && it + 1 < total) {
      if (auto st = evaluate(cfg_.eval_samples); !st) return finish(st);
      if (owner_.observer_.on_progress) owner_.observer_.on_progress(progress);
    }
  }
  summary_.training_s =
      std::chrono::duration<double>(Clock::now() - train_start).count() - eval_s - paused_s_;
  summary_.algorithm = cfg_.algorithm;
  summary_.iterations = iteration_;
  summary_.epochs = static_cast<double>(iteration_) / sampler.batchesPerEpoch();
  summary_.samples_per_s = summary_.training_s > 0 ? samples_done / summary_.training_s : 0;
  if (auto st = evaluate(0); !st) return finish(st);
  if (owner_.observer_.on_progress) owner_.observer_.on_progress(progress);
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
        if (in->env.has_metrics()) (void)handle(*in);
      }
    }
  }
  summary_.ok = st.isOk();
  summary_.stopped = !st && st.code() == StatusCode::kAborted && owner_.stop_.load();
  summary_.error = st.message();
  for (auto& d : metrics_.devices()) {
    if (d.state != DeviceState::kLost) d.state = DeviceState::kReady;
  }
  summary_.elapsed_s = now();
  summary_.devices = metrics_.devices();
  summary_.links = metrics_.links();
  if (log_) {
    if (st) {
      event("run_finished", "ok");
    } else if (summary_.stopped) {
      event("run_stopped",
            "stopped on request after " + std::to_string(iteration_) + " iterations");
    } else {
      event("run_failed", st.message());
    }
  }
  if (pool_) pool_->closeAll();
  testbed_.reset();  // reaps the local agents
  if (io_) io_->stop();
  pool_.reset();
  return summary_;
}

}  // namespace edgerig
