// Turns the agents' periodic reports into run-log samples and live device status, and keeps
// the latest byte totals per link for the summary. Rates (samples/s, bytes/s per device and per
// link) are over the last RateWindow::kDefaultWindowS seconds, not over one report.
#pragma once

#include <map>
#include <tuple>
#include <vector>

#include "core/controller/rate_window.h"
#include "core/controller/run_types.h"
#include "edgerig.pb.h"

namespace edgerig {

class MetricsAggregator {
 public:
  void resize(int devices);
  DeviceStatus& device(int i) { return devices_[i]; }
  std::vector<DeviceStatus>& devices() { return devices_; }
  const std::vector<DeviceStatus>& devices() const { return devices_; }

  // Updates device i from a report and returns the samples to log.
  std::vector<MetricSample> onReport(int i, const wire::MetricsReport& r, double time_s,
                                     int64_t iteration, double rtt_ms);
  std::vector<LinkTraffic> links() const;
  // Device i's agent process was replaced: its counters start again from zero, and what the
  // old process counted is kept, so totals never go back.
  void deviceRestarted(int i);

 private:
  struct Counters {  // cumulative, as one agent process reports them
    uint64_t sent = 0, received = 0;
    double busy_s = 0, idle_s = 0;
    std::map<std::string, uint64_t> sent_by_kind;
  };
  struct Previous {
    double time_s = -1;
    Counters last;  // the current process's last report
    Counters base;  // what earlier processes of this device counted
    // Agents report samples/s over their report interval: summed back into a count (rate x
    // interval) so that it is windowed like the byte counters.
    double samples = 0;
    RateWindow samples_rate, sent_rate, received_rate;
  };
  std::vector<DeviceStatus> devices_;
  std::vector<Previous> previous_;
  struct Link {
    uint64_t base = 0;  // counted by earlier processes of the sender
    uint64_t raw = 0;   // the current process's count
    uint64_t bytes = 0;
    RateWindow rate;
  };
  std::map<std::tuple<std::string, std::string, std::string>, Link> link_bytes_;
};

}  // namespace edgerig
