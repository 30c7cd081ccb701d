#include "ui/run_session.h"

#include <QMetaObject>

namespace edgerig::ui {

RunSession::RunSession(QObject* parent) : QObject(parent) {}

RunSession::~RunSession() {
  if (controller_) controller_->requestStop();
  if (thread_.joinable()) thread_.join();
  // Any flush or end-of-run call still queued for this object dies with it.
}

Status RunSession::start(const ExperimentConfig& config, const QString& runs_root,
                         const ControllerOptions& base_options) {
  if (controller_) {
    return Status(StatusCode::kOutOfOrder,
                  "a run is in progress: stop it (and wait for it to finish) before starting "
                  "another");
  }
  if (thread_.joinable()) thread_.join();  // the previous run's thread has already returned
  ControllerOptions options = base_options;
  if (options.run_dir.empty()) {
    auto dir = makeRunDir(runs_root.toStdString(), config.name);
    if (!dir) return dir.status();
    options.run_dir = *dir;
  }
  config_ = config;
  run_dir_ = QString::fromStdString(options.run_dir);
  {
    std::lock_guard lock(inbox_mutex_);
    inbox_ = Inbox{};
  }
  controller_ = std::make_unique<Controller>(config, options, makeObserver());
  Controller* controller = controller_.get();
  thread_ = std::thread([this, controller] {
    RunSummary summary = controller->run();
    QMetaObject::invokeMethod(
        this, [this, summary = std::move(summary)] { onRunEnded(summary); }, Qt::QueuedConnection);
  });
  emit started(run_dir_);
  return Status::ok();
}

void RunSession::stop() {
  if (controller_) controller_->requestStop();
}

Status RunSession::injectFault(const FaultConfig& fault) {
  if (!controller_) return unavailable("no run in progress: start a run before injecting faults");
  controller_->injectFault(fault);
  return Status::ok();
}

Status RunSession::killLocalDevice(int device) {
  if (!controller_) return unavailable("no run in progress: start a run before killing a device");
  controller_->killLocalDevice(device);
  return Status::ok();
}

Status RunSession::restartLocalDevice(int device) {
  if (!controller_) return unavailable("no run in progress: local agents start with a run");
  controller_->restartLocalDevice(device);
  return Status::ok();
}

Status RunSession::pause() {
  if (!controller_) return unavailable("no run in progress to pause");
  controller_->pause();
  return Status::ok();
}

Status RunSession::resume() {
  if (!controller_) return unavailable("no run in progress to resume");
  controller_->resume();
  return Status::ok();
}

Status RunSession::switchAlgorithm(const AlgorithmConfig& next) {
  if (!controller_) {
    return unavailable("no run in progress: the algorithm chosen now applies to the next run");
  }
  controller_->switchAlgorithm(next);
  return Status::ok();
}

RunObserver RunSession::makeObserver() {
  RunObserver o;
  o.on_event = [this](const RunEvent& e) { deliver([&](Inbox& in) { in.events.push_back(e); }); };
  o.on_metrics = [this](const std::vector<MetricSample>& ms) {
    deliver([&](Inbox& in) { in.metrics.insert(in.metrics.end(), ms.begin(), ms.end()); });
  };
  o.on_devices = [this](const std::vector<DeviceStatus>& ds) {
    deliver([&](Inbox& in) {
      in.devices = ds;  // only the latest picture matters
      in.has_devices = true;
    });
  };
  o.on_progress = [this](const RunProgress& p) {
    deliver([&](Inbox& in) {
      in.progress = p;
      in.has_progress = true;
    });
  };
  o.on_links = [this](const std::vector<LinkTraffic>& ls) {
    deliver([&](Inbox& in) {
      in.links = ls;
      in.has_links = true;
    });
  };
  o.on_plan = [this](const PlanInfo& p) { deliver([&](Inbox& in) { in.plans.push_back(p); }); };
  o.on_graph = [this](const GraphInfo& g) { deliver([&](Inbox& in) { in.graphs.push_back(g); }); };
  o.on_shards = [this](const std::vector<ShardInfo>& s) {
    deliver([&](Inbox& in) {
      in.shards = s;
      in.has_shards = true;
    });
  };
  o.on_bandwidth = [this](const LinkBandwidthInfo& b) {
    deliver([&](Inbox& in) { in.bandwidth.push_back(b); });
  };
  return o;
}

template <typename Fill>
void RunSession::deliver(Fill&& fill) {
  bool post = false;
  {
    std::lock_guard lock(inbox_mutex_);
    fill(inbox_);
    post = !inbox_.flush_posted;
    inbox_.flush_posted = true;
  }
  if (post)
    QMetaObject::invokeMethod(
        this, [this] { flush(); }, Qt::QueuedConnection);
}

void RunSession::flush() {
  Inbox in;
  {
    std::lock_guard lock(inbox_mutex_);
    std::swap(in, inbox_);
  }
  // Devices before events: a device_lost event then finds its row already marked.
  if (in.has_devices) emit devicesChanged(in.devices);
  for (const auto& p : in.plans) emit planChanged(p);
  for (const auto& g : in.graphs) emit graphChanged(g);
  if (in.has_shards) emit shardsChanged(in.shards);
  if (in.has_links) emit linksChanged(in.links);
  for (const auto& b : in.bandwidth) emit bandwidthMeasured(b);
  if (!in.events.empty()) emit eventsArrived(in.events);
  if (!in.metrics.empty()) emit metricsArrived(in.metrics);
  if (in.has_progress) emit progressChanged(in.progress);
}

void RunSession::onRunEnded(const RunSummary& summary) {
  flush();  // whatever the controller published before run() returned comes first
  if (thread_.joinable()) thread_.join();
  controller_.reset();
  emit finished(summary);
}

}  // namespace edgerig::ui
