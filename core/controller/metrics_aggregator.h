// Turns the agents' periodic reports into run-log samples and live device status, and keeps
// the latest byte totals per link for the summary.
#pragma once

#include <map>
#include <tuple>
#include <vector>

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
    uint64_t sent = 0;  // totals (base included) at the last report
    uint64_t received = 0;
    Counters last;  // the current process's last report
    Counters base;  // what earlier processes of this device counted
  };
  std::vector<DeviceStatus> devices_;
  std::vector<Previous> previous_;
  struct Link {
    uint64_t base = 0;  // counted by earlier processes of the sender
    uint64_t raw = 0;   // the current process's count
    uint64_t bytes = 0;
    double time_s = -1;
    double bytes_per_s = 0;
  };
  std::map<std::tuple<std::string, std::string, std::string>, Link> link_bytes_;
};

}  // namespace edgerig
