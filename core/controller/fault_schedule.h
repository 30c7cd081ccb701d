// The experiment's fault schedule: faults due at a run time or an iteration, each applied
// once, in order; and the mapping of a fault to the command an agent understands.
#pragma once

#include <string>
#include <vector>

#include "core/experiment/experiment.h"
#include "edgerig.pb.h"

namespace edgerig {

class FaultSchedule {
 public:
  explicit FaultSchedule(std::vector<FaultConfig> faults);
  // Faults that became due (at_iteration <= iteration when at_iteration > 0, else
  // at_s <= time_s) and were not returned before.
  std::vector<FaultConfig> due(double time_s, int64_t iteration);
  size_t remaining() const;

 private:
  std::vector<FaultConfig> faults_;
  std::vector<bool> done_;
};

wire::FaultCommand toFaultCommand(const FaultConfig& f);
std::string describeFault(const FaultConfig& f);
// A device's list of applied faults ("slowdown x4, freeze 2 s") without the ones of `kind`.
std::string withoutFault(const std::string& faults, const std::string& kind);

}  // namespace edgerig
