// What a controller-side coordinator may do during a run: start workers, talk to devices, wait
// for their replies (the controller handles metrics, fault acks and lost devices on the way, and
// keeps every message nobody waited for), learn of lost devices, record events and metrics, and
// publish its layout. Implemented by the controller; algorithms never see sockets.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/experiment/experiment.h"
#include "core/model/layer_info.h"
#include "core/partition/stage_plan.h"
#include "core/runlog/run_log.h"
#include "device_bridge/status.h"
#include "edgerig.pb.h"

namespace edgerig {

struct DeviceMessage {
  int device = -1;
  wire::Envelope env;
};

// One device's part in a run, as a coordinator launches it (RunContext::startWorkers).
struct WorkerLaunch {
  int device = 0;
  google::protobuf::Any setup;  // the algorithm's own setup message, packed
  wire::ModelStateBlob initial_state;
  wire::ModelStateBlob initial_optimizer;
};

// A decentralized family's communication graph: who sends to whom in `round` and with what
// mixing weight (an undirected edge is listed both ways).
struct GraphEdge {
  int from = 0;
  int to = 0;
  double weight = 0;
};
struct GraphLayout {
  std::string kind;  // "ring", "exponential", ...
  int64_t round = 0;
  std::vector<GraphEdge> edges;
  // A round of a time-varying graph whose schedule was announced (a rotation, a scheduled
  // re-draw): graph.csv and the views follow it, but it is no graph_changed event, so that a
  // graph that rotates every round does not count as a re-plan every round.
  bool scheduled = false;
};

// Structured event fields ({"to", <the new algorithm>}, {"fault", "crash"}): what the GUI reads
// instead of parsing the detail's prose.
using EventFields = std::vector<std::pair<std::string, std::string>>;

class RunContext {
 public:
  virtual ~RunContext() = default;
  virtual const ExperimentConfig& config() const = 0;
  const AlgorithmParams& params() const { return config().algorithm.params; }

  virtual int numDevices() const = 0;
  virtual std::string deviceName(int i) const = 0;
  virtual std::string deviceAddress(int i) const = 0;
  // Not lost (a lost device stays lost until it is restarted).
  virtual bool alive(int i) const = 0;
  std::vector<int> aliveDevices() const {
    std::vector<int> out;
    for (int i = 0; i < numDevices(); ++i) {
      if (alive(i)) out.push_back(i);
    }
    return out;
  }
  // Devices lost since the coordinator last asked, each reported once. While some are not yet
  // taken, await() fails at once with kUnavailable: a coordinator that survives losses takes
  // them, adapts, and waits again; one that does not just returns the error.
  virtual std::vector<int> takeLost() = 0;
  // Bytes/s the link from → to carries, as the controller's bandwidth probe last measured it (a
  // short timed burst over the agents' real data link, so an emulated cap and a kernel rate limit
  // both show); <= 0: not measured (a lost device, a failed probe). The controller probes every
  // link before the coordinator starts and again when links change (a link fault applied or
  // cleared, a device restarted).
  virtual double linkBandwidth(int from, int to) const = 0;
  // The whole measured matrix, [from][to] in bytes/s (the diagonal and unmeasured links are 0).
  virtual std::vector<std::vector<double>> linkBandwidths() const = 0;
  // Probes finished so far: it grows when the links were measured again, so a coordinator that
  // plans on bandwidth can re-check its plan when it changes.
  virtual int64_t linkProbes() const = 0;
  // Measures every link between live devices now (about n-1 bursts' time; events link_probe and,
  // if a link changed, links_changed). A failed burst leaves that link unmeasured, not an error.
  virtual Status probeLinks(const std::string& why) = 0;

  // Sends WorkerStart to each launch's device (run settings, parameters and peers filled in,
  // a new generation: messages of older workers are dropped from now on), then waits for every
  // WorkerReady. The readies come back in launch order.
  virtual Result<std::vector<wire::WorkerReady>> startWorkers(
      std::vector<WorkerLaunch> launches, std::chrono::milliseconds timeout) = 0;
  // An algorithm message to a device (sender and generation stamped), or a control envelope
  // (ProfileRequest, FetchState).
  virtual void send(int device, wire::AlgoMessage message) = 0;
  virtual void sendControl(int device, wire::Envelope env) = 0;
  // Waits for a message for which `want` is true; first among those that arrived earlier and
  // nobody waited for. Fails on a lost device not yet taken (see takeLost), an agent's RunError,
  // a stop request, or after `timeout` (the message names `what`).
  virtual Result<DeviceMessage> await(const std::function<bool(const DeviceMessage&)>& want,
                                      std::chrono::milliseconds timeout,
                                      const std::string& what) = 0;

  virtual void event(const std::string& kind, const std::string& detail, int device = -1,
                     const EventFields& fields = {}) = 0;
  // A run-level (device -1) or per-device metric at the current iteration.
  virtual void metric(const std::string& name, double value, int device = -1) = 0;
  virtual void setCapacity(int device, double capacity) = 0;
  // The layout, for the run log and the views: a pipeline's stages (stage s runs on device
  // device_of_stage[s]; layer_time_s is the profiled reference time of each layer per mini-batch,
  // empty when not profiled), or a decentralized family's graph.
  virtual void planChanged(const StagePlan& plan, const std::vector<int>& device_of_stage,
                           const std::vector<LayerInfo>& layers,
                           const std::vector<double>& layer_time_s, const std::string& why) = 0;
  virtual void graphChanged(const GraphLayout& graph, const std::string& why) = 0;
};

}  // namespace edgerig
