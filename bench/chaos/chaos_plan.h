// The chaos soak's plan: which faults an algorithm promises to survive, and a fault schedule
// (the experiment's faults[]) drawn from a seed within those promises. Pure: no processes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/experiment/experiment.h"
#include "device_bridge/status.h"

namespace edgerig::chaos {

// What the soak may do to one algorithm without breaking a promise of its README row
// ("on a lost device") or docs/design.md.
struct AlgorithmChaos {
  std::string name;
  bool pipeline = false;
  std::string model;  // small enough to keep iterating: mlp, or lenet5 for a pipeline's stages
  // Survives a crash (SIGKILL) followed by a restart of the same device.
  bool crash_restart = true;
  // respipe: a lost first or last stage ends the run, so only middle devices crash.
  bool crash_middle_only = false;
  int min_alive = 2;  // never fewer devices up than this
  int max_down = 2;   // at most this many crashed at once (further capped by min_alive)
  // The event that shows the algorithm went on without a crashed device ("" when none is
  // promised before the restart: respipe routes around and takes over only after F misses).
  std::string after_loss;
  // The event that shows a restarted device is back in the algorithm ("" when the controller
  // restarts the algorithm from the gathered model and the device_restarted event says it all).
  std::string after_restart;
  std::string params_json;  // the algorithm object's own parameters, {"name": ...} added
};

// The fault-tolerant algorithms and what each survives; nullptr for another name.
const AlgorithmChaos* findAlgorithm(const std::string& name);
std::vector<std::string> algorithmNames();

struct ChaosOptions {
  std::string algorithm;
  double minutes = 30;
  uint64_t seed = 1;
  int devices = 4;
  double every_s = 10;
  // No fault before warmup_s (bring-up, link probe) nor after run_s - tail_s (a restart, and the
  // run's end, must fit after the last).
  double warmup_s = 20;
  double tail_s = 30;
  // A freeze shorter than the controller's loss timeout (3.5 s) must not lose the device.
  double max_freeze_s = 2.5;
  // By default no device crashes within kRestartWindow of another device's restart: a restart
  // gathers the model from the others, and allreduce's rejoin fails the run when one of them is
  // lost meanwhile (docs/benchmarks.md, "Chaos soak"). True draws crashes regardless.
  bool crash_during_restart = false;
};

// Around a restart at b: [b - before, b + after] (the agent starts, the links are probed, the
// model gathered; about 5 s on a loaded 2-core machine).
inline constexpr double kRestartWindowBefore = 3;
inline constexpr double kRestartWindowAfter = 15;

// The schedule, sorted by at_s: every fault at a run time (at_s), each crash paired with a restart
// of the same device 4–10 s later, each slowdown and link fault with a `clear` 5–15 s later; a
// device carries one fault at a time, so each clear ends exactly one; unless
// crash_during_restart, no crash (nor the restart it pairs with) falls in another device's restart
// window, nor another crash in its own. Deterministic from
// options.seed. Errors name the option that is impossible (too few devices, every_s <= 0, ...).
Result<std::vector<FaultConfig>> drawPlan(const ChaosOptions& options, const AlgorithmChaos& a);

// One line per fault ("  12.3 s  dev1  crash"), for printing the schedule drawn.
std::string describePlan(const std::vector<FaultConfig>& plan);

// The experiment JSON the bench runs: `devices` local agents, the algorithm's small model on
// synthetic data, training.maxSeconds = minutes, epochs enough never to end first, the plan.
std::string experimentJson(const ChaosOptions& options, const AlgorithmChaos& a,
                           const std::vector<FaultConfig>& plan);

}  // namespace edgerig::chaos
