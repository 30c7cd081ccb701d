#include "core/algorithms/decentralized/dssync/dssync_groups.h"

#include <algorithm>
#include <numeric>
#include <random>

namespace edgerig::dssync {
namespace {

int find(std::vector<int>& parent, int x) {
  while (parent[static_cast<size_t>(x)] != x) {
    parent[static_cast<size_t>(x)] = parent[static_cast<size_t>(parent[static_cast<size_t>(x)])];
    x = parent[static_cast<size_t>(x)];
  }
  return x;
}

double measured(const std::vector<std::vector<double>>& bw, int from, int to) {
  if (from < 0 || to < 0 || from >= static_cast<int>(bw.size())) return 0;
  const auto& row = bw[static_cast<size_t>(from)];
  return to < static_cast<int>(row.size()) ? row[static_cast<size_t>(to)] : 0;
}

// A site's order for the run: its devices shuffled from the seed (and the site's first device, so
// two sites do not share a stream).
std::vector<int> siteOrder(const std::vector<int>& site, uint64_t seed) {
  std::vector<int> order = site;
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(site.front()) + 1);
  for (size_t i = order.size(); i > 1; --i) {  // Fisher–Yates: the same order on every stdlib
    std::swap(order[i - 1], order[static_cast<size_t>(rng() % i)]);
  }
  return order;
}

bool multiSite(const Sites& sites) { return sites.sites.size() > 1; }

}  // namespace

Sites findSites(const std::vector<int>& members, const std::vector<std::vector<double>>& bandwidth,
                double bottleneck_ratio, double fast_link) {
  struct Link {
    int a, b;
    double speed;  // <= 0: not measured
  };
  std::vector<Link> links;
  std::vector<double> speeds;
  for (size_t i = 0; i < members.size(); ++i) {
    for (size_t j = i + 1; j < members.size(); ++j) {
      const double ab = measured(bandwidth, members[i], members[j]);
      const double ba = measured(bandwidth, members[j], members[i]);
      double speed = 0;
      if (ab > 0 && ba > 0) {
        speed = std::min(ab, ba);
      } else {
        speed = std::max(ab, ba);
      }
      links.push_back({static_cast<int>(i), static_cast<int>(j), speed});
      if (speed > 0) speeds.push_back(speed);
    }
  }
  Sites out;
  std::sort(speeds.begin(), speeds.end());
  double best = 0;
  for (size_t k = 0; k + 1 < speeds.size(); ++k) {
    if (fast_link > 0 && speeds[k] >= fast_link) break;
    const double ratio = speeds[k + 1] / speeds[k];
    if (ratio > best) {
      best = ratio;
      out.threshold = speeds[k];
    }
  }
  if (best < bottleneck_ratio) out.threshold = 0;
  std::vector<int> parent(members.size());
  std::iota(parent.begin(), parent.end(), 0);
  for (const Link& l : links) {
    if (out.threshold > 0 && l.speed > 0 && l.speed <= out.threshold) continue;  // a bottleneck
    parent[static_cast<size_t>(find(parent, l.a))] = find(parent, l.b);
  }
  std::vector<std::pair<int, int>> by_root;  // (member, root)
  for (size_t i = 0; i < members.size(); ++i) {
    by_root.emplace_back(members[i], find(parent, static_cast<int>(i)));
  }
  std::sort(by_root.begin(), by_root.end());
  std::vector<int> roots;
  for (const auto& [member, root] : by_root) {
    auto it = std::find(roots.begin(), roots.end(), root);
    if (it == roots.end()) {
      roots.push_back(root);
      out.sites.emplace_back();
      it = roots.end() - 1;
    }
    out.sites[static_cast<size_t>(it - roots.begin())].push_back(member);
  }
  return out;
}

RoundGroups groupsOfRound(const Sites& sites, const Schedule& schedule, int64_t round) {
  RoundGroups out;
  size_t members = 0;
  for (const auto& s : sites.sites) members += s.size();
  if (members == 0) return out;
  const int64_t g = std::max(1, schedule.group_size);
  if (g >= static_cast<int64_t>(members)) {  // exactly allreduce
    std::vector<int> all;
    for (const auto& s : sites.sites) all.insert(all.end(), s.begin(), s.end());
    std::sort(all.begin(), all.end());
    out.groups.push_back(std::move(all));
    return out;
  }
  std::vector<std::vector<int>> orders;
  size_t largest = 0;
  for (const auto& s : sites.sites) {
    orders.push_back(siteOrder(s, schedule.seed));
    largest = std::max(largest, s.size());
  }
  const int64_t bridge_every = std::max<int64_t>(2, schedule.bridge_every);
  const bool multi = multiSite(sites);
  if (multi && (round + 1) % bridge_every == 0) {
    out.bridge = true;
    const int64_t b = round / bridge_every;
    for (size_t p = 0; p < largest; ++p) {
      std::vector<int> group;
      for (size_t s = 0; s < orders.size(); ++s) {
        const auto& o = orders[s];
        if (p >= o.size()) continue;
        const int64_t n = static_cast<int64_t>(o.size());
        group.push_back(
            o[static_cast<size_t>((static_cast<int64_t>(p) + b * static_cast<int64_t>(s)) % n)]);
      }
      out.groups.push_back(std::move(group));
    }
    return out;
  }
  // The ordinary rounds so far (bridge rounds do not rotate the sites' groups).
  const int64_t ordinary = multi ? round - (round + 1) / bridge_every : round;
  const int64_t offset = ordinary / std::max<int64_t>(1, schedule.shuffle_every);
  for (const auto& o : orders) {
    const int64_t n = static_cast<int64_t>(o.size());
    const int64_t h = (n + g - 1) / g;
    if (h <= 1) {
      out.groups.push_back(o);
      continue;
    }
    std::vector<int> rotated(o.size());
    for (int64_t i = 0; i < n; ++i) {
      rotated[static_cast<size_t>(i)] = o[static_cast<size_t>((i + offset) % n)];
    }
    int64_t at = 0;
    for (int64_t k = 0; k < h; ++k) {
      const int64_t size = n / h + (k < n % h ? 1 : 0);
      out.groups.emplace_back(rotated.begin() + at, rotated.begin() + at + size);
      at += size;
    }
  }
  return out;
}

int64_t mixingBound(const Sites& sites, const Schedule& schedule) {
  size_t members = 0, largest = 0;
  for (const auto& s : sites.sites) {
    members += s.size();
    largest = std::max(largest, s.size());
  }
  const int64_t g = std::max(1, schedule.group_size);
  if (members <= 1 || g >= static_cast<int64_t>(members)) return 1;
  const int64_t r = std::max<int64_t>(1, schedule.shuffle_every);
  const int64_t s = static_cast<int64_t>(largest);
  // Inside a site the information's arc grows by a place at each rotation: a whole site within
  // |site| + 1 rotations of R ordinary rounds.
  const int64_t within = s <= g ? 1 : r * (s + 1);
  if (!multiSite(sites)) return within;
  // A site, then a bridge (one device of every site together), then each other site; bridge
  // rounds are one in bridge_every, so o ordinary rounds take at most o + o/(B-1) + 1 rounds.
  const int64_t b = std::max<int64_t>(2, schedule.bridge_every);
  const int64_t ordinary = 2 * within;
  return ordinary + (ordinary + b - 2) / (b - 1) + 1 + b;
}

std::string describe(const Groups& groups) {
  std::string s;
  for (const auto& group : groups) {
    if (!s.empty()) s += ' ';
    s += '{';
    for (size_t i = 0; i < group.size(); ++i) {
      if (i) s += ' ';
      s += std::to_string(group[i]);
    }
    s += '}';
  }
  return s;
}

}  // namespace edgerig::dssync
