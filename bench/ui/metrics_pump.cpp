#include "bench/ui/metrics_pump.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "core/controller/device_pool.h"
#include "core/controller/local_testbed.h"
#include "core/controller/metrics_aggregator.h"
#include "device_bridge/auth.h"
#include "device_bridge/io_thread.h"

namespace edgerig::bench {
namespace {
using Clock = std::chrono::steady_clock;
constexpr auto kPumpSlice = std::chrono::milliseconds(50);  // as the controller's run loop
constexpr double kDevicesPeriodS = 0.25;                    // the controller's <= 4 Hz
}  // namespace

struct MetricsPump::Impl {
  PumpOptions options;
  RunObserver observer;
  // Declaration order is teardown order reversed: the pool's sessions close before the io
  // thread stops, and the agents are reaped last.
  std::unique_ptr<LocalTestbed> testbed;
  std::unique_ptr<bridge::IoThread> io;
  std::unique_ptr<DevicePool> pool;
  MetricsAggregator aggregator;  // pump thread only
  Clock::time_point t0 = Clock::now();
  double last_devices_s = -1;
  double next_event_s = -1;  // options.events_per_minute
  uint64_t events_sent = 0;
  std::atomic<bool> forwarding{false};
  std::atomic<bool> stop{false};
  mutable std::mutex counters_mutex;
  PumpCounters counters;
  std::thread thread;

  double now() const { return std::chrono::duration<double>(Clock::now() - t0).count(); }
  void run();
  void handle(const Incoming& in);
  void publishDevices(bool force);
  void event(int device, const std::string& kind, const std::string& detail);
};

MetricsPump::MetricsPump(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MetricsPump::~MetricsPump() {
  impl_->stop.store(true);
  if (impl_->thread.joinable()) impl_->thread.join();
  if (impl_->pool) impl_->pool->closeAll();
  impl_->pool.reset();
  impl_->io.reset();
  impl_->testbed.reset();  // SIGTERM, grace, SIGKILL, reap
}

Result<std::unique_ptr<MetricsPump>> MetricsPump::start(const PumpOptions& options,
                                                        RunObserver observer) {
  if (options.agents < 1 || options.hz < 1 || options.hz > 1000) {
    return invalidArgument("metrics pump: needs at least one agent and 1..1000 Hz, got " +
                           std::to_string(options.agents) + " agents at " +
                           std::to_string(options.hz) + " Hz");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->observer = std::move(observer);
  const std::string token = bridge::randomToken();
  std::vector<LocalAgentSpec> specs;
  for (int i = 0; i < options.agents; ++i) {
    LocalAgentSpec s;
    s.name = "dev" + std::to_string(i);
    s.metrics_interval_ms = 1000 / options.hz;
    specs.push_back(s);
  }
  const std::string binary =
      options.agent_binary.empty() ? findAgentBinary() : options.agent_binary;
  auto testbed = LocalTestbed::spawn(binary, specs, token, options.log_dir, options.start_timeout);
  if (!testbed) return testbed.status();
  impl->testbed = std::move(testbed).value();

  impl->io = std::make_unique<bridge::IoThread>();
  bridge::SessionOptions so;
  so.local_name = "bench-ui";
  impl->pool = std::make_unique<DevicePool>(*impl->io, token, so);
  std::vector<DeviceEndpoint> endpoints;
  for (size_t i = 0; i < impl->testbed->size(); ++i) {
    endpoints.push_back({impl->testbed->name(i), impl->testbed->address(i), true});
  }
  impl->aggregator.resize(static_cast<int>(endpoints.size()));
  if (auto st = impl->pool->connectAll(endpoints); !st) return st;
  for (int i = 0; i < impl->pool->size(); ++i) {
    auto& d = impl->aggregator.device(i);
    d.name = impl->pool->name(i);
    d.address = impl->pool->address(i);
    d.local = true;
    d.cores = impl->pool->cores(i);
    d.state = DeviceState::kReady;
  }
  impl->t0 = Clock::now();
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->run(); });
  return std::unique_ptr<MetricsPump>(new MetricsPump(std::move(impl)));
}

void MetricsPump::setForwarding(bool on) { impl_->forwarding.store(on); }

PumpCounters MetricsPump::counters() const {
  std::lock_guard lock(impl_->counters_mutex);
  return impl_->counters;
}

void MetricsPump::Impl::run() {
  bool announced = false;
  while (!stop.load()) {
    // A run announces its devices once, when the GUI starts listening (the run's start).
    if (!announced && forwarding.load()) {
      announced = true;
      for (int i = 0; i < pool->size(); ++i) {
        event(i, "device_joined", "local agent at " + pool->address(i));
      }
      publishDevices(true);
    }
    auto in = pool->next(kPumpSlice);
    if (in) handle(*in);
    if (options.events_per_minute > 0 && forwarding.load() && pool->size() > 0) {
      const double t = now();
      if (next_event_s < 0) next_event_s = t;
      if (t >= next_event_s) {
        next_event_s += 60.0 / options.events_per_minute;
        const int device = static_cast<int>(events_sent++ % static_cast<uint64_t>(pool->size()));
        if (observer.on_event) {
          observer.on_event(RunEvent{t, static_cast<int64_t>(t * options.hz), pool->name(device),
                                     "fault_applied", "injected link delay 20 ms jitter 5 ms"});
        }
      }
    }
  }
}

void MetricsPump::Impl::handle(const Incoming& in) {
  if (in.closed) {
    aggregator.device(in.device).state = DeviceState::kLost;
    {
      std::lock_guard lock(counters_mutex);
      ++counters.lost;
    }
    event(in.device, "device_lost",
          "device " + pool->name(in.device) + " lost: " + in.why.message());
    publishDevices(true);
    return;
  }
  if (in.env.body_case() != wire::Envelope::kMetrics) return;
  const double t = now();
  // Idle agents do not advance an iteration; a run does, and the plots' default x axis is the
  // iteration, so the pump advances one at the report rate to draw what a run draws.
  const auto iteration = static_cast<int64_t>(t * options.hz);
  const auto rtt = pool->rttMs(in.device);
  auto samples = aggregator.onReport(in.device, in.env.metrics(), t, iteration, rtt.value_or(0));
  auto& d = aggregator.device(in.device);
  if (d.state != DeviceState::kLost) {
    d.state = d.slowdown > 1.0 ? DeviceState::kSlow
              : d.stage >= 0   ? DeviceState::kTraining
                               : DeviceState::kReady;
  }
  const bool forward = forwarding.load();
  {
    std::lock_guard lock(counters_mutex);
    ++counters.reports;
    if (forward) counters.samples += samples.size();
  }
  if (!forward) return;
  if (observer.on_metrics) observer.on_metrics(samples);
  publishDevices(false);
}

void MetricsPump::Impl::publishDevices(bool force) {
  if (!forwarding.load()) return;
  const double t = now();
  if (!force && t - last_devices_s < kDevicesPeriodS) return;
  last_devices_s = t;
  if (observer.on_devices) observer.on_devices(aggregator.devices());
  if (observer.on_links) observer.on_links(aggregator.links());
  std::lock_guard lock(counters_mutex);
  ++counters.device_updates;
}

void MetricsPump::Impl::event(int device, const std::string& kind, const std::string& detail) {
  if (!forwarding.load() || !observer.on_event) return;
  observer.on_event(RunEvent{now(), 0, pool->name(device), kind, detail});
}

}  // namespace edgerig::bench
