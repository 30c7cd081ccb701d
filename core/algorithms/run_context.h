// What a controller-side coordinator may do during a run: talk to devices, wait for their
// replies (the controller handles metrics, fault acks and lost devices on the way), and
// record events and plans. Implemented by the controller; algorithms never see sockets.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "core/controller/experiment.h"
#include "core/model/layer_chain.h"
#include "core/partition/stage_plan.h"
#include "device_bridge/status.h"
#include "edgerig.pb.h"

namespace edgerig {

struct DeviceMessage {
  int device = -1;
  wire::Envelope env;
};

class RunContext {
 public:
  virtual ~RunContext() = default;
  virtual const ExperimentConfig& config() const = 0;
  virtual int numDevices() const = 0;
  virtual std::string deviceName(int i) const = 0;
  virtual std::string deviceAddress(int i) const = 0;
  virtual double deviceBandwidthBytesPerS(int i) const = 0;  // emulated link cap, <= 0 unlimited
  virtual void send(int device, wire::Envelope env) = 0;
  // Waits for a message for which `want` is true. Fails on a lost device, an agent's
  // RunError, a stop request, or after `timeout` (the message names `what`).
  virtual Result<DeviceMessage> await(const std::function<bool(const DeviceMessage&)>& want,
                                      std::chrono::milliseconds timeout,
                                      const std::string& what) = 0;
  virtual void event(const std::string& kind, const std::string& detail, int device = -1) = 0;
  virtual void setCapacity(int device, double capacity) = 0;
  // stage s runs on device device_of_stage[s]; layer_time_s is the profiled reference time
  // of each layer per mini-batch (empty when not profiled).
  virtual void planChanged(const StagePlan& plan, const std::vector<int>& device_of_stage,
                           const std::vector<LayerInfo>& layers,
                           const std::vector<double>& layer_time_s, const std::string& why) = 0;
};

}  // namespace edgerig
