// One process's place in edgerig's ring all-reduce over bridge Sessions, for bench_ring_vs_gloo.
// It drives RingAllreduce the way AllreduceWorker and the agent runtime do: a chunk goes out as
// an AlgoMessage (kind gradient, RingChunk body, the values appended with appendTensor) on the
// session this process dialled to its right neighbour; a chunk comes in on the session the left
// neighbour dialled, on the io thread, and is handed to the calling ("trainer") thread, which
// reads it with tensorViewsOf and feeds it to the ring.
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "core/algorithms/decentralized/allreduce/ring_allreduce.h"
#include "device_bridge/io_thread.h"
#include "device_bridge/session.h"
#include "edgerig.pb.h"

namespace edgerig::bench {

// Where the calling thread's time went, summed over all-reduces (steady_clock around each part).
struct RingBreakdown {
  double wait_s = 0;    // blocked until the io thread handed over a chunk
  double decode_s = 0;  // bodyAs<RingChunk> and tensorViewsOf
  double reduce_s = 0;  // RingAllreduce's add_ / copy_ of received chunks (its own bookkeeping)
  double build_s = 0;   // algoMessage + appendTensor: the chunk copied into the message
  double send_s = 0;    // Session::send: encoding the frame and posting it to the io thread
  int64_t chunks_sent = 0;
};

class BridgeRing {
 public:
  // Listens on a loopback port of its own (port 0): the left neighbour dials it.
  static Result<std::unique_ptr<BridgeRing>> listen(int rank, int size);
  ~BridgeRing();
  BridgeRing(const BridgeRing&) = delete;
  BridgeRing& operator=(const BridgeRing&) = delete;

  uint16_t port() const { return listener_->port(); }
  // Dials the right neighbour at `right_port` and waits until the left one has dialled us.
  Status join(uint16_t right_port, std::chrono::milliseconds timeout);
  // One synchronous all-reduce (SUM, in place) of `buckets`: contiguous float32 views, all
  // processes passing the same layout. Returns when this process holds the sums.
  Status allreduce(std::vector<torch::Tensor> buckets);
  // Since the last call.
  RingBreakdown takeBreakdown() { return std::exchange(breakdown_, {}); }
  // Closes both sessions; call once every process is past its last all-reduce.
  void close();

 private:
  BridgeRing(int rank, int size);
  void onLeftSession(std::shared_ptr<bridge::Session> s);  // io thread
  void onSessionClosed(const Status& st);                  // io thread
  RingAllreduce& ringFor(int64_t iteration);
  void sendChunk(int64_t iteration, int bucket, int step, const torch::Tensor& values);
  Result<wire::AlgoMessage> nextMessage();

  const int rank_, size_;
  bridge::IoThread io_;
  std::unique_ptr<bridge::Listener> listener_;
  std::shared_ptr<bridge::Session> right_;  // dialled by us: we send on it
  int64_t next_iteration_ = 0;
  std::map<int64_t, RingAllreduce> rings_;  // the current iteration and any that came early
  RingBreakdown breakdown_;

  // Shared with the io thread.
  std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<bridge::Session> left_;  // dialled by the left neighbour: chunks arrive on it
  std::deque<wire::AlgoMessage> inbox_;
  std::optional<Status> lost_;  // a session closed while we were running
  bool closing_ = false;
};

}  // namespace edgerig::bench
