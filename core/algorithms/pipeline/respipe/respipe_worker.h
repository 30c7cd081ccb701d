// The agent side of `respipe` (our design, docs/design.md): a pipeline stage that keeps replicas
// of its successors and routes around a late one. Every micro-batch carries its route (the device
// that ran each stage) and gradients go back along it. When stage k+1 has not acknowledged a
// micro-batch within the deadline τ, stage k runs k+1's layers on its replica and forwards the
// result to k+2; the gradients of k+1's parameters from that micro-batch go to k+1's owner, whose
// step therefore still has every micro-batch's share. A late result whose replacement was used
// is discarded and counted. After F consecutive misses stage k takes k+1's layers over for good,
// at the next iteration boundary, and tells the controller. Event-driven: deadlines are timers.
// Routing and the adaptive τ are in respipe_routing.cpp, replicas and take-over in
// respipe_replicas.cpp.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "core/algorithms/pipeline/common/pipeline_stage_worker.h"
#include "core/algorithms/pipeline/common/replica_store.h"
#include "core/model/model_state.h"

namespace edgerig {

class RespipeStageWorker : public PipelineStageWorker {
 public:
  static Result<std::unique_ptr<Worker>> create(WorkerContext& ctx, const wire::WorkerStart& start);

  Status onMessage(const wire::AlgoMessage& message) override;

 private:
  explicit RespipeStageWorker(WorkerContext& ctx) : PipelineStageWorker(ctx) {}
  Status initRespipe();

  // A micro-batch this stage ran (its own layers), and what it ran on its replica of the next
  // stage when it routed the micro-batch around it.
  struct MicroBatch {
    torch::Tensor input;  // requires grad on stages after the first
    torch::Tensor output;
    torch::Tensor labels;
    std::vector<int> route;  // route[s]: the device that ran stage s, up to this stage's last
    TimerHandle deadline;
    std::chrono::steady_clock::time_point sent;  // to the next stage, for the adaptive τ
    bool acked = false;
    bool routed = false;
    bool told = false;            // routed at once (the next stage bypassed, or lost)
    torch::Tensor replica_input;  // when routed (train): its backward runs on the replica
    torch::Tensor replica_output;
    bool own_backward_done = false;
  };
  struct Iteration {
    wire::StepMode mode = wire::STEP_MODE_TRAIN;
    int micro_batches = 0;
    int batch_size = 0;
    int forwards = 0;
    int backwards = 0;
    double loss_sum = 0;
    int64_t correct = 0;
    int64_t samples = 0;
    double compute_s = 0;
    std::set<int> seen;  // micro-batches whose input arrived (a second one is a late duplicate)
    std::map<int, MicroBatch> pending;
    int routed = 0;
    int replica_backwards = 0;
    ModelState replica_grad_sum;  // of the next stage's parameters, over routed micro-batches
  };

  Status onStep(const pipeline::Step& step);
  Status onActivations(const wire::AlgoMessage& m, const pipeline::Activations& act);
  Status onGradients(const wire::AlgoMessage& m, const pipeline::Gradients& g);
  Status onAck(const pipeline::ForwardAck& a);
  // Activations marked routed_around, from a predecessor that bypasses this stage: registered,
  // and with tensors queued as a probe that runProbe times and acknowledges.
  struct Waiting;
  Status onProbe(const wire::AlgoMessage& m, const pipeline::Activations& act);
  void runProbe(const Waiting& w);
  // A forward this stage is sent while its predecessor guards it with a deadline waits in
  // waiting_ and runs from a task of its own, one at a time, so that a RoutedAround that arrived
  // meanwhile is read first: a micro-batch already routed around this stage is not computed.
  bool defersForwards(wire::StepMode mode) const;
  void runWaiting();
  Status onReplicaGradients(const wire::AlgoMessage& m, const pipeline::ReplicaGradients& rg);
  Status onReplica(const wire::AlgoMessage& m, const pipeline::Replica& r);
  Status onFetchReplica(const pipeline::FetchReplica& f);
  // The controller says the next stage's device is gone: route around it without waiting for
  // deadlines, and take it over at the next flush (now, between iterations).
  void onSuccessorLost(int lost_stage);

  Status forward(int64_t iteration, int m, wire::StepMode mode, int micro_batches, int batch_size,
                 torch::Tensor input, const torch::Tensor& labels, std::vector<int> route);
  Status ownBackward(int64_t iteration, int m, const torch::Tensor& grad_output);
  Status replicaBackward(int64_t iteration, int m, const torch::Tensor& grad_output);
  // The deadline of micro-batch m passed without an acknowledgement: run the next stage's layers
  // on the replica and forward the result past it.
  void routeAround(int64_t iteration, int m);
  void finishIfDone(int64_t iteration);
  // After a training flush: replicas to the r stages before this one every T mini-batches, the
  // replica stepped when every micro-batch went through it, a take-over when due, held messages.
  void afterFlush(int64_t iteration, Iteration& st);
  void sendReplicas(int64_t mini_batches);
  void takeOver();
  // The replica of the next stage, loaded from the store (newest copy, when nothing routed is in
  // flight); false when the store does not hold its layers.
  bool ensureReplica();
  std::vector<std::string> layerNames(int first, int last) const;
  // Activations and steps of a later training iteration wait while an earlier one is unfinished
  // here: its step must come before their forward.
  bool mustHold(int64_t iteration, wire::StepMode mode) const;
  void replayHeld();

  // The device running stage s's layers now: its own, or the one that took it over (TakeOver).
  int runnerOf(int s) const;
  int stage() const { return stageSetup().stage(); }
  int numStages() const { return stageSetup().num_stages(); }
  int firstLayerOf(int s) const { return stageSetup().boundaries(s); }
  int lastLayerOf(int s) const { return stageSetup().boundaries(s + 1); }
  bool endsPipeline() const { return span_end_ == numStages() - 1; }

  // τ now: deadlineMs, or with deadlineAdapt the multiple of the next stage's median
  // acknowledgement time (our design, docs/design.md respipe 2).
  std::chrono::milliseconds currentDeadline() const;
  // A guarded micro-batch's outcome (missed its deadline or not): enough misses among the last
  // few make this stage bypass the next one (our design, docs/design.md respipe 2).
  void recordOutcome(bool missed);

  int redundancy_ = 1;
  int64_t refresh_every_ = 10;
  std::chrono::milliseconds deadline_{0};
  double deadline_adapt_ = 0;
  std::deque<double> ack_ms_;  // the next stage's last on-time acknowledgement times
  size_t on_time_run_ = 0;     // acknowledgements on time since the last miss
  int takeover_misses_ = 8;

  int span_end_ = 0;  // the last stage whose layers this device runs (its own, or taken over)
  std::map<int64_t, Iteration> iterations_;
  std::set<int64_t> finished_;  // recent iterations (a result arriving after is late)
  std::deque<wire::AlgoMessage> held_;
  bool replaying_ = false;

  struct Waiting {
    int from = -1;  // the sender, for the acknowledgement
    int64_t iteration = 0;
    int m = 0;
    wire::StepMode mode = wire::STEP_MODE_TRAIN;
    int micro_batches = 0;
    int batch_size = 0;
    torch::Tensor input, labels;
    std::vector<int> route;
    bool probe = false;  // from a predecessor that bypasses this stage: time it, nothing more
  };
  std::deque<Waiting> waiting_;
  bool waiting_scheduled_ = false;
  std::map<int64_t, std::set<int>> routed_away_;  // by the predecessor, per iteration
  int skipped_ = 0;  // forwards skipped since the last StepDone (already routed around)

  ReplicaStore store_;  // the layers of stages after this one, as their owners last sent them
  StageModule replica_{nullptr};
  std::unique_ptr<torch::optim::SGD> replica_optimizer_;
  int replica_stage_ = -1;
  int64_t replica_iteration_ = -1;  // mini-batches the loaded replica has seen
  int routed_in_flight_ = 0;        // routed micro-batches whose replica backward is pending
  int consecutive_misses_ = 0;
  std::deque<bool> outcomes_;  // the last guarded micro-batches: true = missed its deadline
  // The next stage keeps missing τ: every micro-batch is routed at once and also sent to it as
  // a probe, run there only to time its answer; iterations whose probes all come back within τ
  // end the bypass (one, or more after it flapped).
  bool bypass_ = false;
  struct Probe {
    std::chrono::steady_clock::time_point sent;
    int micro_batches = 0;
  };
  std::map<std::pair<int64_t, int>, Probe> probes_;  // (iteration, micro-batch): unanswered
  std::map<int64_t, int> probes_on_time_;            // per iteration; -1 once one of them was late
  int good_probe_iterations_ = 0;                    // in a row, every probe answered within τ
  int probe_iterations_needed_ = 1;                  // to end the bypass (doubles when it flaps)
  int64_t bypass_ended_at_ = -1;                     // the iteration of the last end
  int64_t bypass_started_at_ = 0;                    // the last iteration finished before it
  // The next stage's last answer within τ (a micro-batch's or a probe's): a bypass takes the
  // stage over ⌈F/M⌉·τ after it. Set when this stage (re)starts, so there is always one.
  std::chrono::steady_clock::time_point last_answer_ = std::chrono::steady_clock::now();
  bool bypassed_since_flush_ = false;  // reported in StepDone.bypassing
  bool takeover_due_ = false;
  bool successor_lost_ = false;  // told so: micro-batches go to the replica at once
  int discarded_ = 0;            // late results discarded since the last StepDone
  std::map<int, int> taken_by_;  // stage -> the device that took it over (told by that device)
};

}  // namespace edgerig
