#include "core/controller/metrics_aggregator.h"

#include <array>

#include "device_bridge/traffic_kind.h"

namespace edgerig {

const char* deviceStateName(DeviceState s) {
  switch (s) {
    case DeviceState::kConnecting:
      return "connecting";
    case DeviceState::kReady:
      return "ready";
    case DeviceState::kTraining:
      return "training";
    case DeviceState::kSlow:
      return "slow";
    case DeviceState::kFrozen:
      return "frozen";
    case DeviceState::kLost:
      return "lost";
  }
  return "?";
}

void MetricsAggregator::resize(int devices) {
  devices_.resize(devices);
  previous_.resize(devices);
  for (int i = 0; i < devices; ++i) devices_[i].index = i;
}

std::vector<MetricSample> MetricsAggregator::onReport(int i, const wire::MetricsReport& r,
                                                      double time_s, int64_t iteration,
                                                      double rtt_ms) {
  DeviceStatus& d = devices_[i];
  Previous& p = previous_[i];
  Counters now;
  now.busy_s = r.busy_s();
  now.idle_s = r.idle_s();
  for (const auto& t : r.traffic()) {
    now.sent += t.bytes_sent();
    now.received += t.bytes_received();
    now.sent_by_kind[t.kind()] += t.bytes_sent();
    Link& link = link_bytes_[{d.name, t.peer(), t.kind()}];
    link.raw = t.bytes_sent();
    link.bytes = link.base + link.raw;
    link.rate.add(time_s, static_cast<double>(link.bytes));  // a count that went down restarts
  }
  p.last = now;
  const uint64_t sent = p.base.sent + now.sent;
  const uint64_t received = p.base.received + now.received;
  p.sent_rate.add(time_s, static_cast<double>(sent));
  p.received_rate.add(time_s, static_cast<double>(received));
  d.bytes_out_per_s = p.sent_rate.rate();
  d.bytes_in_per_s = p.received_rate.rate();
  if (p.time_s >= 0 && time_s > p.time_s) p.samples += r.samples_per_s() * (time_s - p.time_s);
  p.samples_rate.add(time_s, p.samples);
  // The first report has no interval to window over: it shows what the agent measured.
  d.samples_per_s = p.samples_rate.ready() ? p.samples_rate.rate() : r.samples_per_s();
  p.time_s = time_s;
  std::map<std::string, uint64_t> sent_by_kind = p.base.sent_by_kind;
  for (const auto& [kind, bytes] : now.sent_by_kind) sent_by_kind[kind] += bytes;
  d.busy_s = p.base.busy_s + now.busy_s;
  d.idle_s = p.base.idle_s + now.idle_s;
  d.bytes_sent = sent;
  d.bytes_received = received;
  d.slowdown = r.slowdown();
  d.resident_mb = static_cast<double>(r.resident_bytes()) / (1024.0 * 1024.0);
  d.rtt_ms = rtt_ms;

  std::vector<MetricSample> out;
  auto add = [&](const char* metric, double v) {
    out.push_back(MetricSample{time_s, iteration, d.name, metric, v});
  };
  add("samples_per_s", d.samples_per_s);
  add("busy_s", d.busy_s);
  add("idle_s", d.idle_s);
  add("bytes_sent", static_cast<double>(sent));
  add("bytes_received", static_cast<double>(received));
  add("bytes_out_per_s", d.bytes_out_per_s);
  add("bytes_in_per_s", d.bytes_in_per_s);
  for (bridge::TrafficKind kind : bridge::kReportedTrafficKinds) {
    const std::string name(bridge::trafficKindName(kind));
    add(("bytes_sent_" + name).c_str(), static_cast<double>(sent_by_kind[name]));
  }
  add("rtt_ms", rtt_ms);
  add("slowdown", d.slowdown);
  add("resident_mb", d.resident_mb);
  return out;
}

void MetricsAggregator::deviceRestarted(int i) {
  Previous& p = previous_[i];
  p.base.sent += p.last.sent;
  p.base.received += p.last.received;
  p.base.busy_s += p.last.busy_s;
  p.base.idle_s += p.last.idle_s;
  for (const auto& [kind, bytes] : p.last.sent_by_kind) p.base.sent_by_kind[kind] += bytes;
  p.last = Counters{};
  for (auto& [key, link] : link_bytes_) {
    if (std::get<0>(key) != devices_[i].name) continue;
    link.base += link.raw;
    link.raw = 0;
  }
}

std::vector<LinkTraffic> MetricsAggregator::links() const {
  std::vector<LinkTraffic> out;
  for (const auto& [key, link] : link_bytes_) {
    if (link.bytes == 0) continue;
    out.push_back(LinkTraffic{std::get<0>(key), std::get<1>(key), std::get<2>(key), link.bytes,
                              link.rate.rate()});
  }
  return out;
}

}  // namespace edgerig
