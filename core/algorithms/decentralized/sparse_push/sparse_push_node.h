// One device's side of sparse-push: compressed push-sum in the manner of CHOCO-SGD (Koloskova et
// al., ICML 2019; epfml/ChocoSGD parallel_choco.py) over directed, time-varying graphs. The
// device keeps push-sum numerators x and weight u (z = x / u is its model) and, per directed
// edge it has used, a public copy of what crossed that edge: ẑ(i→j), held identically by both
// ends, of the model z_i, starting at the model every device starts from. A round sends q = C(z_i −
// ẑ(i→j)) (top-k or random-k per tensor) and w·u_i; both ends add q to their copy; then the
// consensus step on the numerators x_i += γ(Σ_in w_ij u_j ẑ(j→i) − Σ_out w_ji u_i ẑ(i→j)), u_i +=
// γ(Σ_in w_ij u_j − Σ_out w_ji u_i), each term computed from the same numbers at both ends.
// Column-stochastic weights keep Σx and Σu exactly; what C leaves out stays in z − ẑ (error
// feedback) and is sent later. The copies track z, not x: at consensus z stops moving while x = u·z
// keeps following u around a non-regular graph, so copies of x would never catch up. Per-edge
// copies, not CHOCO's one x̂_i per node, because on a time-varying graph a new neighbour never saw
// x̂_i. With k = 100 % and γ = 1 a round is exactly sgp's. Skew compensation (our design, see
// docs/design.md): x += s·h after the local step, h an average of past consensus changes.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "device_bridge/status.h"

namespace edgerig {

enum class Compression { kTopK, kRandomK };

// Entries of a flat model-sized vector: int32 offsets into it and float32 values.
struct SparseDelta {
  torch::Tensor indices;  // kInt32, ascending within each parameter tensor's slice
  torch::Tensor values;   // kFloat32, same length
};

// Keeps ceil(k·n) entries of each parameter tensor's slice of a flat vector.
class SparseCompressor {
 public:
  SparseCompressor(std::vector<int64_t> sizes, double k, Compression kind);
  // `draw` seeds random-k's choice (ignored by top-k).
  SparseDelta compress(const torch::Tensor& flat, uint64_t draw) const;
  int64_t keptPerMessage() const { return kept_; }
  int64_t denseSize() const { return total_; }

 private:
  std::vector<int64_t> sizes_;
  std::vector<int64_t> keep_;
  Compression kind_;
  int64_t kept_ = 0;
  int64_t total_ = 0;
};

// Adds `delta` into the flat vector `into` (checking its offsets).
Status scatterAdd(torch::Tensor& into, const SparseDelta& delta, double scale = 1.0);

class SparsePushNode {
 public:
  struct Options {
    double k = 0.01;  // fraction kept per tensor
    double gamma = 0.5;
    Compression compression = Compression::kTopK;
    double skew = 0;           // skew compensation strength s (0: off)
    double skew_memory = 0.9;  // β of h = β·h + (1 − β)·Δ
    uint64_t seed = 0;         // random-k's stream for this device
    // Values rounded to float16 (clamped to its range) before they enter a message and the copy,
    // for the compact encoding: both ends add exactly what the wire carries, and what rounding
    // left out stays in z − ẑ like any entry not sent.
    bool half_values = false;
    // Every copy starts at the model this node starts from, which must then be every device's
    // (the run's devices all start from one model). Off: at zero, as CHOCO's code does.
    bool copies_start_at_model = true;
  };
  struct Message {
    int to = 0;
    SparseDelta delta;
    double weight = 0;  // w·u: the push-sum weight's share, and the receiver's scale
  };

  // Starts from the model `z` (its parameter tensors, in order): x = z, u = 1, no copies yet.
  SparsePushNode(Options options, const std::vector<torch::Tensor>& z);

  double weight() const { return u_; }
  // x = (z + s·h)·u, after a local step moved z (h: skew compensation, 0 when off).
  void numeratorsOf(const std::vector<torch::Tensor>& z);
  // This round's messages, one per (to, w) of `out`, and the sender's half of the consensus step.
  std::vector<Message> share(int64_t round, const std::vector<std::pair<int, double>>& out);
  // The receiver's half: a message from `from` (of this round, or late).
  Status absorb(int from, const SparseDelta& delta, double weight);
  // The round is mixed: its consensus change of z enters h.
  void endRound();
  // z = x / u, written into the model's tensors in place.
  void debias(const std::vector<torch::Tensor>& z) const;

  const torch::Tensor& numerators() const { return x_; }
  const torch::Tensor& skewEstimate() const { return h_; }
  // What has not yet crossed the edge to `to`: z − ẑ(me→to).
  torch::Tensor residual(int to) const;
  const SparseCompressor& compressor() const { return compressor_; }

 private:
  Options options_;
  SparseCompressor compressor_;
  std::vector<int64_t> sizes_;
  torch::Tensor x_;
  torch::Tensor start_;  // the model every device starts from: every copy's first value
  double u_ = 1.0;
  std::map<int, torch::Tensor> sent_;      // ẑ(me→j)
  std::map<int, torch::Tensor> received_;  // ẑ(j→me)
  torch::Tensor h_;                        // skew estimate: an average of rounds' Δz from mixing
  torch::Tensor z_start_;                  // z when this round's shares left (undefined: none)
};

}  // namespace edgerig
