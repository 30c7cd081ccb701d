// The one list of event kinds a run folder's events.csv holds. The controller, algorithms, the
// GUI and the terminal report name kinds through these constants, never by string literal.
#pragma once

#include <string_view>

namespace edgerig::events {

// Run lifecycle.
inline constexpr std::string_view kRunStarted = "run_started";
inline constexpr std::string_view kTrainingStarted = "training_started";
inline constexpr std::string_view kRunFinished = "run_finished";
inline constexpr std::string_view kRunStopped = "run_stopped";
inline constexpr std::string_view kRunFailed = "run_failed";
inline constexpr std::string_view kRunPaused = "run_paused";
inline constexpr std::string_view kRunResumed = "run_resumed";
inline constexpr std::string_view kStopRule = "stop_rule";
inline constexpr std::string_view kError = "error";
inline constexpr std::string_view kEvaluation = "evaluation";
// A step of training.lrSchedule took effect (field `learning_rate`: the new rate).
inline constexpr std::string_view kLearningRate = "learning_rate";
// Devices.
inline constexpr std::string_view kDeviceJoined = "device_joined";
inline constexpr std::string_view kDeviceLost = "device_lost";
inline constexpr std::string_view kDeviceRestarted = "device_restarted";
inline constexpr std::string_view kDeviceRejoined = "device_rejoined";  // back in the algorithm
// Faults.
inline constexpr std::string_view kFaultApplied = "fault_applied";
inline constexpr std::string_view kFaultCleared = "fault_cleared";
// Layout and algorithms.
inline constexpr std::string_view kPlanChanged = "plan_changed";
inline constexpr std::string_view kGraphChanged = "graph_changed";
inline constexpr std::string_view kShardsAssigned = "shards_assigned";
inline constexpr std::string_view kSwitchRequested = "switch_requested";
inline constexpr std::string_view kSwitchSkipped = "switch_skipped";
inline constexpr std::string_view kAlgorithmSwitched = "algorithm_switched";
inline constexpr std::string_view kRecovered =
    "recovered";  // an algorithm went on without a device
// One phase of a pipeline's recovery, when it ended (fields `phase`, `seconds`): "detect" (from
// the interruption to the loss being known), "re-plan", "fetch" (every layer's weights),
// "commit" (the survivors restarted on the new plan); `recovered` follows the last.
inline constexpr std::string_view kRecoveryPhase = "recovery_phase";
// A pipeline re-partitioned to measured capacities: the decision (why, predicted gain), then the
// migration of the layers that moved (its time), or its abort (the old plan stays).
inline constexpr std::string_view kReplanned = "replanned";
inline constexpr std::string_view kMigrated = "migrated";
inline constexpr std::string_view kMigrationAborted = "migration_aborted";
// respipe: a stage took its successor's layers over for good (the plan shrank), and results that
// came too late (their replacement, run on a replica, had been used) were discarded.
inline constexpr std::string_view kTakeover = "takeover";
inline constexpr std::string_view kLateDiscarded = "late_discarded";
// respipe: a stage that kept missing its deadline is bypassed (its predecessor routes every
// micro-batch around it at once, probing it once an iteration), and let back in.
inline constexpr std::string_view kBypassed = "bypassed";
inline constexpr std::string_view kBypassEnded = "bypass_ended";
// The link bandwidth probe finished (a summary: links measured, slowest, time taken), and the
// measured matrix changed by more than the probe's noise since the previous one.
inline constexpr std::string_view kLinkProbe = "link_probe";
inline constexpr std::string_view kLinksChanged = "links_changed";

// Structured fields an event may carry (RunEvent::fields), so readers never parse the prose.
namespace fields {
inline constexpr std::string_view kFrom = "from";              // algorithm_switched: the old one
inline constexpr std::string_view kTo = "to";                  // algorithm_switched: the new one
inline constexpr std::string_view kAlgorithm = "algorithm";    // run_started
inline constexpr std::string_view kIterations = "iterations";  // training_started: planned
inline constexpr std::string_view kFault = "fault";            // fault_applied: its kind
inline constexpr std::string_view kAddress = "address";        // device_joined, device_restarted
inline constexpr std::string_view kDevices = "devices";        // recovered: who is left
inline constexpr std::string_view kSeconds = "seconds";        // how long something took

// replanned, migrated, migration_aborted:
inline constexpr std::string_view kReason = "reason";  // why it re-planned, aborted, took over
inline constexpr std::string_view kGain = "predicted_gain";    // old / new slowest step
inline constexpr std::string_view kCapacities = "capacities";  // per stage, as measured
inline constexpr std::string_view kCuts = "cuts";              // the new plan's cut points
inline constexpr std::string_view kIteration = "iteration";    // the boundary it happened at
inline constexpr std::string_view kLayersMoved = "layers_moved";
// recovered (a pipeline's): how long the loss took to show, each layer's source, the replay.
inline constexpr std::string_view kDetectionSeconds = "detection_s";
inline constexpr std::string_view kSources = "sources";
inline constexpr std::string_view kIterationsRetrained = "iterations_retrained";
inline constexpr std::string_view kPhase = "phase";  // recovery_phase: which
// takeover: the device that took over, the one it replaced, after how many missed deadlines;
// late_discarded: how many results; bypassed, bypass_ended: device (the predecessor), replaced
// (the stage's device), iteration.
inline constexpr std::string_view kDevice = "device";
inline constexpr std::string_view kReplaced = "replaced";
inline constexpr std::string_view kMisses = "misses";
inline constexpr std::string_view kCount = "count";
inline constexpr std::string_view kLearningRate = "learning_rate";  // learning_rate: the new rate
}  // namespace fields

}  // namespace edgerig::events
