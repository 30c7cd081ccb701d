// Mixing weights of a gossip round: w(to, from) is the fraction of `from`'s value that `to`
// receives (w(i, i): what i keeps). Metropolis–Hastings weights are doubly stochastic (every row
// and every column sums to 1) on an undirected graph: dpsgd. Push-sum's uniform weights split
// each sender's value evenly over itself and its out-neighbours, 1/(out-degree + 1): every
// column sums to 1, rows need not (SGP's UniformMixing).
#pragma once

#include <map>
#include <utility>
#include <vector>

#include "core/algorithms/decentralized/graphs/gossip_graph.h"

namespace edgerig {

class MixingWeights {
 public:
  double at(int to, int from) const;
  double self(int device) const { return at(device, device); }
  // (to, w(to, from)) for each out-neighbour of `from`, ascending; no self weight.
  std::vector<std::pair<int, double>> outOf(int from) const;
  // Σ_from w(to, from), and Σ_to w(to, from).
  double rowSum(int to) const;
  double columnSum(int from) const;
  const std::vector<int>& members() const { return members_; }

  void set(int to, int from, double w) { w_[{to, from}] = w; }
  void setMembers(std::vector<int> members) { members_ = std::move(members); }

 private:
  std::vector<int> members_;
  std::map<std::pair<int, int>, double> w_;  // (to, from) → weight
};

// w(i, j) = 1 / (1 + max(d_i, d_j)) on each edge, w(i, i) = 1 − Σ_j w(i, j). `g` must be
// symmetric (an undirected graph).
MixingWeights metropolisHastings(const Digraph& g);

// w(j, i) = 1 / (out-degree(i) + 1) for each out-neighbour j of i and for i itself.
MixingWeights pushSumUniform(const Digraph& g);

}  // namespace edgerig
