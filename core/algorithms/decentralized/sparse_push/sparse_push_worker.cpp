#include "core/algorithms/decentralized/sparse_push/sparse_push_worker.h"

#include "core/algorithms/decentralized/sparse_push/sparse_share_check.h"

#include "core/algorithms/algo_message.h"
#include "core/data/random_stream.h"
#include "core/model/tensor_codec.h"

namespace edgerig {
namespace {

// random-k's stream, apart from the data's and the graph's drawn from the same seed.
constexpr uint64_t kRandomKStream = 0x72616e646b4bULL;  // "randkK"

}  // namespace

void encodeCompact(const SparseDelta& delta, decentralized::SparseShare& body) {
  const torch::Tensor offsets = delta.indices.to(torch::kInt32).contiguous();
  // The node rounded the values to float16 already: this conversion is exact.
  const torch::Tensor halves = delta.values.to(torch::kHalf).contiguous();
  const int64_t n = offsets.numel();
  body.set_gaps(encodeOffsetGaps(offsets.data_ptr<int32_t>(), n));
  body.set_halves(std::string(reinterpret_cast<const char*>(halves.data_ptr<at::Half>()),
                              static_cast<size_t>(n) * 2));
}

Result<SparseDelta> deltaOf(const wire::AlgoMessage& m, CheckedSparseShare& checked) {
  if (checked.compact) {
    const auto n = static_cast<int64_t>(checked.offsets.size());
    SparseDelta d;
    d.indices = torch::from_blob(checked.offsets.data(), {n}, torch::kInt32).clone();
    d.values = torch::from_blob(checked.halves.data(), {n}, torch::kHalf).to(torch::kFloat32);
    return d;
  }
  auto tensors = tensorsOf(m);  // owned: it may wait for its round
  if (!tensors) return tensors.status();
  return SparseDelta{(*tensors)[0], (*tensors)[1]};
}

SparsePushNode::Options sparsePushOptions(const AlgorithmParams& params, uint64_t seed,
                                          int device) {
  SparsePushNode::Options o;
  o.k = params.getDouble("k");
  o.gamma = params.getDouble("gamma");
  o.compression =
      params.getString("compression") == "random-k" ? Compression::kRandomK : Compression::kTopK;
  o.half_values = params.getString("encoding") == "compact";
  o.skew = params.getDouble("skewCompensation");
  o.seed = mixSeed(mixSeed(seed, kRandomKStream), static_cast<uint64_t>(device));
  return o;
}

Status SparsePushGossip::start(WorkerContext& ctx, ModelReplica& replica) {
  const SparsePushNode::Options options = sparsePushOptions(ctx.params(), ctx.seed(), ctx.device());
  compact_ = options.half_values;
  node_.emplace(options, replica.parameters());
  return Status::ok();
}

bool SparsePushGossip::isShare(const wire::AlgoMessage& m) const {
  return bodyIs<decentralized::SparseShare>(m);
}

Result<GossipStrategy::Incoming> SparsePushGossip::decode(const wire::AlgoMessage& m) const {
  // Everything the sender controls is checked on arrival, before the share waits for its round.
  auto checked = checkSparseShare(m, node_ ? node_->compressor().denseSize() : 0);
  if (!checked) return checked.status();
  auto delta = deltaOf(m, *checked);
  if (!delta) return delta.status();
  return incoming(m, checked->body, {delta->indices, delta->values});
}

Result<std::vector<GossipStrategy::Outgoing>> SparsePushGossip::share(
    const decentralized::GossipStep& step, int me, const MixingWeights& weights, WorkerContext& ctx,
    ModelReplica& replica, LocalStep& local) {
  node_->numeratorsOf(replica.parameters());
  sent_bytes_ = 0;
  dense_bytes_ = 0;
  // Compressing is compute: it is charged to the meter like the local step.
  std::vector<SparsePushNode::Message> shares;
  local.compute_s += timedCompute(
      ctx.meter(), [&] { shares = node_->share(step.iteration(), weights.outOf(me)); });
  std::vector<Outgoing> out;
  for (auto& share : shares) {
    decentralized::SparseShare body;
    body.set_iteration(step.iteration());
    body.set_graph_epoch(step.graph_epoch());
    body.set_weight(share.weight);
    Outgoing o;
    o.to = share.to;
    if (compact_) encodeCompact(share.delta, body);
    o.message = algoMessage(bridge::TrafficKind::kGossip, body);
    if (!compact_) {
      appendTensor(o.message, share.delta.indices);
      appendTensor(o.message, share.delta.values);
    }
    sent_bytes_ += static_cast<int64_t>(o.message.ByteSizeLong());
    dense_bytes_ += node_->compressor().denseSize() * 4;
    out.push_back(std::move(o));
  }
  return out;
}

Status SparsePushGossip::absorb(const Incoming& share, ModelReplica& /*replica*/) {
  SparseDelta delta;
  delta.indices = share.tensors[0];
  delta.values = share.tensors[1];
  return node_->absorb(share.from, delta, share.weight);
}

void SparsePushGossip::endRound(ModelReplica& replica) {
  node_->endRound();
  node_->debias(replica.parameters());
}

void SparsePushGossip::report(decentralized::GossipDone& done) const {
  done.set_weight(node_->weight());
  done.set_sent_bytes(sent_bytes_);
  done.set_dense_bytes(dense_bytes_);
}

}  // namespace edgerig
