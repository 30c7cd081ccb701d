// The run controls that act at iteration boundaries: pause, algorithm switch, restart of a
// local device (docs/design.md, "Run controls at iteration boundaries").
#include <utility>

#include "core/algorithms/registry.h"
#include "core/catalog/catalog.h"
#include "core/controller/controller_run.h"
#include "core/runlog/event_kinds.h"

namespace edgerig {

Result<std::unique_ptr<Coordinator>> Controller::Run::startCoordinator(
    const Coordinator::Handover* state) {
  auto coordinator = algorithmRegistry().makeCoordinator(cfg_.algorithm.name, *this);
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
      progress.algorithm = cfg_.algorithm.name;
    }
    if (!owner_.paused_.load())
      paused_s_ += std::chrono::duration<double>(Clock::now() - s0).count();
    return Status::ok();
  };
  if (owner_.paused_.load()) {
    const auto p0 = Clock::now();
    event(std::string(events::kRunPaused), "paused at iteration " + std::to_string(iteration_));
    progress.paused = true;
    if (owner_.observer_.on_progress) owner_.observer_.on_progress(progress);
    while (owner_.paused_.load()) {
      if (auto st = pollControls(); !st) return st;
      if (auto st = applyPending(); !st) return st;
      if (auto in = pool_->next(kPumpSlice)) {
        if (auto st = handle(std::move(*in)); !st) return st;
      }
    }
    const double held = std::chrono::duration<double>(Clock::now() - p0).count();
    paused_s_ += held;
    char buf[80];
    std::snprintf(buf, sizeof buf, "resumed after %.1f s", held);
    event(std::string(events::kRunResumed), buf);
    progress.paused = false;
    if (owner_.observer_.on_progress) owner_.observer_.on_progress(progress);
  }
  return applyPending();
}

Status Controller::Run::switchTo(const AlgorithmConfig& requested) {
  const AlgorithmConfig current = cfg_.algorithm;
  const ExperimentNames names = knownNames();
  ExperimentConfig filled = cfg_;
  filled.algorithm = requested;
  fillAlgorithmDefaults(filled, names);
  const AlgorithmConfig& next = filled.algorithm;
  if (next == current) {
    event(std::string(events::kSwitchSkipped),
          describeAlgorithm(next, names) + " is already running");
    return Status::ok();
  }
  ExperimentConfig candidate = filled;
  if (auto st = validateExperiment(candidate, names); !st) {
    // A bad choice in the GUI must not end a run: refuse it and carry on.
    event(std::string(events::kError), "algorithm switch refused: " + st.message());
    return Status::ok();
  }
  const auto t0 = Clock::now();
  auto state = coordinator_->gatherHandover();
  if (!state) return state.status();
  const size_t tensors = state->weights.tensors_size();
  const size_t momenta = state->optimizer.tensors_size();
  cfg_ = candidate;
  auto coordinator = startCoordinator(&*state);
  if (!coordinator) {
    return Status(coordinator.status().code(), "switching to " + describeAlgorithm(next, names) +
                                                   ": " + coordinator.status().message());
  }
  coordinator_ = std::move(coordinator).value();
  summary_.plan = coordinator_->layoutDescription();
  char buf[96];
  std::snprintf(buf, sizeof buf, " (%zu tensors and %zu momentum buffers carried over, %.1f s)",
                tensors, momenta, std::chrono::duration<double>(Clock::now() - t0).count());
  event(std::string(events::kAlgorithmSwitched),
        "from " + describeAlgorithm(current, names) + " to " + describeAlgorithm(next, names) + buf,
        -1,
        {{std::string(events::fields::kFrom), current.name},
         {std::string(events::fields::kTo), next.name}});
  for (auto& d : metrics_.devices()) {
    if (d.state != DeviceState::kLost && d.role_active) d.state = DeviceState::kTraining;
  }
  publishDevices(true);
  return Status::ok();
}

Status Controller::Run::restartDevice(int device) {
  if (!testbed_ || device < 0 || device >= static_cast<int>(testbed_->size())) {
    event(std::string(events::kError),
          "restart refused: device " + std::to_string(device) +
              " is not a local agent (only agents this controller started can be restarted)");
    return Status::ok();
  }
  const auto t0 = Clock::now();
  // A coordinator that takes a device back itself needs nothing gathered; otherwise the model
  // is gathered first, so the reboot loses no training.
  const bool in_place = coordinator_->rejoinsInPlace();
  std::optional<Coordinator::Handover> state;
  if (!in_place) {
    auto gathered = coordinator_->gatherHandover();
    if (!gathered) return gathered.status();
    state = std::move(gathered).value();
  }
  const std::string name = pool_->name(device);
  event(std::string(events::kFaultApplied),
        "restart: local agent killed (SIGKILL) and started again", device,
        {{std::string(events::fields::kFault), "restart"}});
  if (auto st = testbed_->restart(device); !st) return st;
  if (auto st = pool_->reconnect(device, testbed_->address(device)); !st) return st;
  metrics_.deviceRestarted(device);
  auto& d = metrics_.device(device);
  d.address = pool_->address(device);
  d.state = DeviceState::kReady;
  d.faults.clear();  // a new process has none; its profile (emulated hardware) comes back
  d.slowdown = 1;
  // It is back: no longer lost, and no longer a loss for the coordinator to take.
  lost_.erase(device);
  std::erase(untaken_lost_, device);
  if (auto st = applyProfile(device); !st) return st;
  wire::Envelope peers;
  for (int i = 0; i < pool_->size(); ++i)
    peers.mutable_peer_addresses()->add_peers(pool_->address(i));
  pool_->broadcast(peers);  // the others dial it at its new port
  if (auto st = probeLinks(name + " restarted"); !st) return st;
  if (in_place) {
    if (auto st = coordinator_->deviceRejoined(device); !st) {
      return Status(st.code(), "taking " + name + " back after its restart: " + st.message());
    }
  } else {
    auto coordinator = startCoordinator(&*state);
    if (!coordinator) {
      return Status(coordinator.status().code(),
                    "resuming after restarting " + name + ": " + coordinator.status().message());
    }
    coordinator_ = std::move(coordinator).value();
  }
  summary_.plan = coordinator_->layoutDescription();
  char buf[128];
  std::snprintf(
      buf, sizeof buf, "back at %s after %.1f s; %s", d.address.c_str(),
      std::chrono::duration<double>(Clock::now() - t0).count(),
      in_place ? "it rejoins with the current model" : "training resumes from the gathered model");
  event(std::string(events::kDeviceRestarted), buf, device,
        {{std::string(events::fields::kAddress), d.address}});
  for (auto& m : metrics_.devices()) {
    if (m.state != DeviceState::kLost && m.role_active) {
      m.state = m.slowdown > 1 ? DeviceState::kSlow : DeviceState::kTraining;
    }
  }
  publishDevices(true);
  return Status::ok();
}

}  // namespace edgerig
