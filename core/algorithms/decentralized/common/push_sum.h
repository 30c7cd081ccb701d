// One device's side of a gossip exchange over a directed graph: push-sum (Kempe et al. 2003;
// SGP's PushSum). The device keeps numerators x and a weight u; z = x / u is the model it trains
// and evaluates. Each round it keeps w_ii of (x, u), sends w_ji·(x, u) to each out-neighbour j,
// and adds what arrives; the weight rides in the same share as the values, so any column-
// stochastic weights (directed, time-varying, non-regular graphs) average correctly. With
// doubly stochastic weights and u = 1 at the start of each round it is plain gossip averaging
// (dpsgd), and dividing by u renormalises a round that lost a share.
#pragma once

#include <torch/torch.h>

#include <utility>
#include <vector>

#include "device_bridge/status.h"

namespace edgerig {

class PushSumNode {
 public:
  struct Share {
    int to = 0;
    std::vector<torch::Tensor> values;  // w·x
    double weight = 0;                  // w·u
  };

  explicit PushSumNode(double weight = 1.0) : u_(weight) {}

  double weight() const { return u_; }
  void setWeight(double u) { u_ = u; }
  // x = z·u: the numerators of the model `z` (after a local step moved it).
  void numeratorsOf(const std::vector<torch::Tensor>& z);
  // This round's shares, one per (to, w) of `out`; x and u keep `self_weight` of themselves.
  std::vector<Share> share(double self_weight, const std::vector<std::pair<int, double>>& out);
  // Adds a share that arrived (values in the same order and shapes as x).
  Status absorb(const std::vector<torch::Tensor>& values, double weight);
  // z = x / u, written into the model's tensors in place.
  void debias(const std::vector<torch::Tensor>& z) const;
  const std::vector<torch::Tensor>& numerators() const { return x_; }

 private:
  std::vector<torch::Tensor> x_;
  double u_;
};

}  // namespace edgerig
