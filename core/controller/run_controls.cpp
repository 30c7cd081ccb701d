// The run controls that act at iteration boundaries: pause, algorithm switch, restart of a
// local device (docs/design.md, "Run controls at iteration boundaries").
#include <utility>

#include "core/controller/controller_run.h"

namespace edgerig {

Result<std::unique_ptr<Coordinator>> Controller::Run::startCoordinator(
    const wire::ModelStateBlob* state) {
  auto coordinator = makeCoordinator(cfg_.algorithm, *this);
  if (!coordinator) return coordinator.status();
  if (state) (*coordinator)->startFrom(*state);
  if (auto st = (*coordinator)->setup(); !st) return st;
  return coordinator;
}

Status Controller::Run::boundary(RunProgress& progress) {
  // Restarts and switches wait for a boundary; their time is not training time.
  auto applyPending = [&]() -> Status {
    const auto s0 = Clock::now();
    while (!pending_restarts_.empty()) {
      const int d = pending_restarts_.front();
      pending_restarts_.erase(pending_restarts_.begin());
      if (auto st = restartDevice(d); !st) return st;
    }
    if (pending_switch_) {
      if (auto st = switchTo(*std::exchange(pending_switch_, std::nullopt)); !st) return st;
      progress.algorithm = cfg_.algorithm;
    }
    if (!owner_.paused_.load())
      paused_s_ += std::chrono::duration<double>(Clock::now() - s0).count();
    return Status::ok();
  };
  if (owner_.paused_.load()) {
    const auto p0 = Clock::now();
    event("run_paused", "paused at iteration " + std::to_string(iteration_));
    progress.paused = true;
    if (owner_.observer_.on_progress) owner_.observer_.on_progress(progress);
    while (owner_.paused_.load()) {
      if (auto st = pollControls(); !st) return st;
      if (auto st = applyPending(); !st) return st;
      if (auto in = pool_->next(kPumpSlice)) {
        if (auto st = handle(*in); !st) return st;
      }
    }
    const double held = std::chrono::duration<double>(Clock::now() - p0).count();
    paused_s_ += held;
    char buf[80];
    std::snprintf(buf, sizeof buf, "resumed after %.1f s", held);
    event("run_resumed", buf);
    progress.paused = false;
    if (owner_.observer_.on_progress) owner_.observer_.on_progress(progress);
  }
  return applyPending();
}

Status Controller::Run::switchTo(const AlgorithmConfig& next) {
  const AlgorithmConfig current = algorithmOf(cfg_);
  if (next == current) {
    event("switch_skipped", describeAlgorithm(next) + " is already running");
    return Status::ok();
  }
  ExperimentConfig candidate = cfg_;
  setAlgorithm(candidate, next);
  if (auto st = validateExperiment(candidate, knownNames()); !st) {
    // A bad choice in the GUI must not end a run: refuse it and carry on.
    event("error", "algorithm switch refused: " + st.message());
    return Status::ok();
  }
  const auto t0 = Clock::now();
  const int64_t train_size = coordinator_->trainSize();
  auto state = coordinator_->gatherState();
  if (!state) return state.status();
  const size_t tensors = state->tensors_size();
  cfg_ = candidate;
  auto coordinator = startCoordinator(&*state);
  if (!coordinator) {
    return Status(coordinator.status().code(), "switching to " + describeAlgorithm(next) + ": " +
                                                   coordinator.status().message());
  }
  if ((*coordinator)->trainSize() != train_size) {
    return internalError("switching to " + describeAlgorithm(next) + ": the training split has " +
                         std::to_string((*coordinator)->trainSize()) + " samples, was " +
                         std::to_string(train_size));
  }
  coordinator_ = std::move(coordinator).value();
  summary_.plan = coordinator_->planDescription();
  char buf[64];
  std::snprintf(buf, sizeof buf, " (%zu tensors carried over, %.1f s)", tensors,
                std::chrono::duration<double>(Clock::now() - t0).count());
  event("algorithm_switched",
        "from " + describeAlgorithm(current) + " to " + describeAlgorithm(next) + buf);
  for (int i = 0; i < pool_->size(); ++i) {
    auto& d = metrics_.device(i);
    if (d.state != DeviceState::kLost && d.stage >= 0) d.state = DeviceState::kTraining;
  }
  publishDevices(true);
  return Status::ok();
}

Status Controller::Run::restartDevice(int device) {
  if (!testbed_ || device < 0 || device >= static_cast<int>(testbed_->size())) {
    event("error", "restart refused: device " + std::to_string(device) +
                       " is not a local agent (only agents this controller started can be "
                       "restarted)");
    return Status::ok();
  }
  const auto t0 = Clock::now();
  // Gathered first, so the reboot loses no training.
  auto state = coordinator_->gatherState();
  if (!state) return state.status();
  const std::string name = pool_->name(device);
  event("fault_applied", "restart: local agent killed (SIGKILL) and started again", device);
  if (auto st = testbed_->restart(device); !st) return st;
  if (auto st = pool_->reconnect(device, testbed_->address(device)); !st) return st;
  metrics_.deviceRestarted(device);
  auto& d = metrics_.device(device);
  d.address = pool_->address(device);
  d.state = DeviceState::kReady;
  d.faults.clear();  // a new process has none; its profile (emulated hardware) comes back
  d.slowdown = 1;
  if (auto st = applyProfile(device); !st) return st;
  auto coordinator = startCoordinator(&*state);
  if (!coordinator) {
    return Status(coordinator.status().code(),
                  "resuming after restarting " + name + ": " + coordinator.status().message());
  }
  coordinator_ = std::move(coordinator).value();
  summary_.plan = coordinator_->planDescription();
  char buf[96];
  std::snprintf(buf, sizeof buf,
                "back at %s after %.1f s; training resumes from the gathered model",
                d.address.c_str(), std::chrono::duration<double>(Clock::now() - t0).count());
  event("device_restarted", buf, device);
  for (int i = 0; i < pool_->size(); ++i) {
    auto& m = metrics_.device(i);
    if (m.state != DeviceState::kLost && m.stage >= 0) {
      m.state = m.slowdown > 1 ? DeviceState::kSlow : DeviceState::kTraining;
    }
  }
  publishDevices(true);
  return Status::ok();
}

}  // namespace edgerig
