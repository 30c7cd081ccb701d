#include "core/data/shards.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/data/random_stream.h"

namespace edgerig {
namespace {

constexpr uint64_t kShardStream = 0x5eed5a4dULL;
constexpr int kMaxDirichletDraws = 100;

void shuffle(std::vector<int64_t>& v, RandomStream& rng) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.below(i)]);
}

// Cuts `items` into parts of sizes proportional to `weights` (largest remainders, so the sizes
// sum to items.size() exactly) and appends part d to out[d].
void cutByWeights(const std::vector<int64_t>& items, const std::vector<double>& weights,
                  std::vector<std::vector<int64_t>>& out) {
  const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  const size_t n = items.size();
  std::vector<size_t> sizes(weights.size());
  std::vector<std::pair<double, size_t>> remainders;
  size_t given = 0;
  for (size_t d = 0; d < weights.size(); ++d) {
    const double exact = total > 0 ? static_cast<double>(n) * weights[d] / total : 0.0;
    sizes[d] = static_cast<size_t>(std::floor(exact));
    given += sizes[d];
    remainders.emplace_back(exact - std::floor(exact), d);
  }
  // Ties go to the lower device index, so the cut does not depend on sort stability.
  std::sort(remainders.begin(), remainders.end(), [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  });
  for (size_t i = 0; given < n; ++i, ++given) ++sizes[remainders[i % remainders.size()].second];
  size_t at = 0;
  for (size_t d = 0; d < sizes.size(); ++d) {
    out[d].insert(out[d].end(), items.begin() + static_cast<std::ptrdiff_t>(at),
                  items.begin() + static_cast<std::ptrdiff_t>(at + sizes[d]));
    at += sizes[d];
  }
}

std::vector<std::vector<int64_t>> byClass(const std::vector<int64_t>& labels, int num_classes) {
  std::vector<std::vector<int64_t>> out(static_cast<size_t>(num_classes));
  for (size_t i = 0; i < labels.size(); ++i)
    out[static_cast<size_t>(labels[i])].push_back(static_cast<int64_t>(i));
  return out;
}

}  // namespace

double gammaDraw(RandomStream& rng, double shape) {
  if (shape < 1.0) {
    // Gamma(a) = Gamma(a + 1) · U^(1/a) (Marsaglia–Tsang's boost for a < 1).
    const double u = 1.0 - rng.uniform();  // (0, 1]
    return gammaDraw(rng, shape + 1.0) * std::pow(u, 1.0 / shape);
  }
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x = 0, v = 0;
    do {
      x = rng.normal();
      v = 1.0 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const double u = 1.0 - rng.uniform();
    if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
    if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
  }
}

std::vector<int64_t> classCounts(const std::vector<int64_t>& labels,
                                 const std::vector<int64_t>& shard, int num_classes) {
  std::vector<int64_t> counts(static_cast<size_t>(num_classes), 0);
  for (int64_t i : shard) ++counts[static_cast<size_t>(labels[static_cast<size_t>(i)])];
  return counts;
}

Result<std::vector<std::vector<int64_t>>> shardIndices(const std::vector<int64_t>& labels,
                                                       int num_classes, int devices,
                                                       const ShardSpec& spec, uint64_t seed) {
  if (devices < 1) return invalidArgument("shards: need at least one device");
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= num_classes) {
      return invalidArgument("shards: sample " + std::to_string(i) + " has label " +
                             std::to_string(labels[i]) + ", outside 0.." +
                             std::to_string(num_classes - 1));
    }
  }
  RandomStream rng(mixSeed(seed, kShardStream));
  const size_t k = static_cast<size_t>(devices);
  std::vector<std::vector<int64_t>> shards(k);
  if (spec.kind == "iid") {
    std::vector<int64_t> all(labels.size());
    std::iota(all.begin(), all.end(), 0);
    shuffle(all, rng);
    cutByWeights(all, std::vector<double>(k, 1.0), shards);
  } else if (spec.kind == "dirichlet") {
    if (!(spec.alpha > 0)) return invalidArgument("field dataset.alpha: must be above 0");
    const auto classes = byClass(labels, num_classes);
    bool fits = false;
    for (int draw = 0; draw < kMaxDirichletDraws && !fits; ++draw) {
      for (auto& s : shards) s.clear();
      for (const auto& members : classes) {
        std::vector<int64_t> items = members;
        shuffle(items, rng);
        std::vector<double> p(k);
        for (auto& x : p) x = gammaDraw(rng, spec.alpha);
        cutByWeights(items, p, shards);
      }
      fits = std::all_of(shards.begin(), shards.end(), [](const auto& s) {
        return static_cast<int64_t>(s.size()) >= kMinShardSize;
      });
    }
    if (!fits) {
      return invalidArgument("field dataset.alpha: with alpha " + std::to_string(spec.alpha) +
                             " some of the " + std::to_string(devices) +
                             " devices keep fewer than " + std::to_string(kMinShardSize) +
                             " samples in 100 draws; raise alpha or use fewer devices");
    }
  } else if (spec.kind == "classes") {
    const int per = spec.classes_per_device;
    if (per < 1 || per > num_classes) {
      return invalidArgument("field dataset.classesPerDevice: must be from 1 to " +
                             std::to_string(num_classes) + ", got " + std::to_string(per));
    }
    std::vector<int64_t> order(static_cast<size_t>(num_classes));
    std::iota(order.begin(), order.end(), 0);
    shuffle(order, rng);
    std::vector<std::vector<size_t>> holders(static_cast<size_t>(num_classes));
    for (size_t d = 0; d < k; ++d) {
      for (int j = 0; j < per; ++j) {
        const auto c = order[(d * static_cast<size_t>(per) + static_cast<size_t>(j)) %
                             static_cast<size_t>(num_classes)];
        holders[static_cast<size_t>(c)].push_back(d);
      }
    }
    const auto classes = byClass(labels, num_classes);
    for (size_t c = 0; c < classes.size(); ++c) {
      if (holders[c].empty()) continue;  // more classes than devices × k: some go unused
      std::vector<int64_t> items = classes[c];
      shuffle(items, rng);
      std::vector<std::vector<int64_t>> parts(holders[c].size());
      cutByWeights(items, std::vector<double>(holders[c].size(), 1.0), parts);
      for (size_t h = 0; h < parts.size(); ++h) {
        auto& s = shards[holders[c][h]];
        s.insert(s.end(), parts[h].begin(), parts[h].end());
      }
    }
  } else {
    return invalidArgument("field dataset.split: unknown split \"" + spec.kind +
                           "\"; one of iid, dirichlet, classes");
  }
  for (size_t d = 0; d < k; ++d) {
    if (static_cast<int64_t>(shards[d].size()) < kMinShardSize) {
      return invalidArgument("field dataset.split: device " + std::to_string(d) + "'s shard has " +
                             std::to_string(shards[d].size()) + " samples (" +
                             std::to_string(labels.size()) + " in all for " +
                             std::to_string(devices) + " devices); use a larger training set");
    }
    std::sort(shards[d].begin(), shards[d].end());
  }
  return shards;
}

}  // namespace edgerig
