#include "core/algorithms/decentralized/graphs/mixing_weights.h"

#include <algorithm>

namespace edgerig {

double MixingWeights::at(int to, int from) const {
  auto it = w_.find({to, from});
  return it == w_.end() ? 0.0 : it->second;
}

std::vector<std::pair<int, double>> MixingWeights::outOf(int from) const {
  std::vector<std::pair<int, double>> out;
  for (const auto& [key, w] : w_) {
    if (key.second == from && key.first != from) out.emplace_back(key.first, w);
  }
  std::sort(out.begin(), out.end());
  return out;
}

double MixingWeights::rowSum(int to) const {
  double s = 0;
  for (const auto& [key, w] : w_) s += key.first == to ? w : 0.0;
  return s;
}

double MixingWeights::columnSum(int from) const {
  double s = 0;
  for (const auto& [key, w] : w_) s += key.second == from ? w : 0.0;
  return s;
}

MixingWeights metropolisHastings(const Digraph& g) {
  MixingWeights m;
  m.setMembers(g.members);
  for (int i : g.members) {
    const double di = static_cast<double>(g.outOf(i).size());
    double kept = 1.0;
    for (int j : g.outOf(i)) {
      const double dj = static_cast<double>(g.outOf(j).size());
      const double w = 1.0 / (1.0 + std::max(di, dj));
      m.set(i, j, w);
      kept -= w;
    }
    m.set(i, i, kept);
  }
  return m;
}

MixingWeights pushSumUniform(const Digraph& g) {
  MixingWeights m;
  m.setMembers(g.members);
  for (int i : g.members) {
    const double w = 1.0 / (static_cast<double>(g.outOf(i).size()) + 1.0);
    m.set(i, i, w);
    for (int j : g.outOf(i)) m.set(j, i, w);
  }
  return m;
}

}  // namespace edgerig
