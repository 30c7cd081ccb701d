#include "core/controller/fault_schedule.h"

#include <cstdio>

namespace edgerig {

FaultSchedule::FaultSchedule(std::vector<FaultConfig> faults)
    : faults_(std::move(faults)), done_(faults_.size(), false) {}

std::vector<FaultConfig> FaultSchedule::due(double time_s, int64_t iteration) {
  std::vector<FaultConfig> out;
  for (size_t i = 0; i < faults_.size(); ++i) {
    if (done_[i]) continue;
    const auto& f = faults_[i];
    const bool is_due = f.at_iteration > 0 ? iteration >= f.at_iteration : time_s >= f.at_s;
    if (is_due) {
      done_[i] = true;
      out.push_back(f);
    }
  }
  return out;
}

size_t FaultSchedule::remaining() const {
  size_t n = 0;
  for (bool d : done_) n += d ? 0 : 1;
  return n;
}

wire::FaultCommand toFaultCommand(const FaultConfig& f) {
  wire::FaultCommand c;
  if (f.kind == "slowdown") {
    c.set_kind(wire::FaultCommand::KIND_SLOWDOWN);
    c.set_slowdown(f.slowdown);
  } else if (f.kind == "link") {
    c.set_kind(wire::FaultCommand::KIND_LINK);
    c.set_delay_ms(f.delay_ms);
    c.set_jitter_ms(f.jitter_ms);
    c.set_bandwidth_mbps(f.bandwidth_mbps);
    c.set_drop_probability(f.drop_probability);
  } else if (f.kind == "freeze") {
    c.set_kind(wire::FaultCommand::KIND_FREEZE);
    c.set_freeze_s(f.freeze_s);
  } else if (f.kind == "crash") {
    c.set_kind(wire::FaultCommand::KIND_CRASH);
  } else if (f.kind == "clear") {
    c.set_kind(wire::FaultCommand::KIND_CLEAR);
  }
  return c;
}

std::string describeFault(const FaultConfig& f) {
  char buf[200];
  if (f.kind == "slowdown") {
    std::snprintf(buf, sizeof buf, "slowdown x%g", f.slowdown);
  } else if (f.kind == "link") {
    std::snprintf(buf, sizeof buf, "link delay %g ms jitter %g ms bandwidth %g Mbit/s drop %g",
                  f.delay_ms, f.jitter_ms, f.bandwidth_mbps, f.drop_probability);
    if (!f.peers.empty()) {
      std::string s = std::string(buf) + " to devices";
      for (int p : f.peers) s += " " + std::to_string(p);
      return s;
    }
  } else if (f.kind == "freeze") {
    std::snprintf(buf, sizeof buf, "freeze %g s", f.freeze_s);
  } else {
    std::snprintf(buf, sizeof buf, "%s", f.kind.c_str());
  }
  return buf;
}

std::string withoutFault(const std::string& faults, const std::string& kind) {
  std::string out;
  size_t start = 0;
  while (start <= faults.size()) {
    size_t end = faults.find(", ", start);
    if (end == std::string::npos) end = faults.size();
    const std::string item = faults.substr(start, end - start);
    // describeFault starts each entry with its kind, followed by a space or nothing.
    const bool same = item.compare(0, kind.size(), kind) == 0 &&
                      (item.size() == kind.size() || item[kind.size()] == ' ');
    if (!item.empty() && !same) out += (out.empty() ? "" : ", ") + item;
    start = end + 2;
  }
  return out;
}

}  // namespace edgerig
