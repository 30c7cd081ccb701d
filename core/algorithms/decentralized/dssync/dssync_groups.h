// dssync's grouping rule (**our design**, docs/design.md "dssync — our design"), pure functions
// of the measured link bandwidth, the members, the seed and the round, so a test can check them
// without a run.
//
// Sites: a link's speed is the slower of its two directions as the probe measured them. Sort the
// measured speeds; where two neighbours differ by the largest ratio (the slower one below
// `fast_link`: a link at least that fast is never a bottleneck, so loopback's noise at GB/s is
// none), and that ratio is at least `bottleneck_ratio`, every link at or below the gap is a
// bottleneck. Sites are the connected
// components of the graph of the other (fast) links. No such gap: one site.
//
// Groups of a round: an ordinary round splits each site, never crossing sites, into
// ceil(|site| / g) groups of balanced sizes: contiguous runs of the site's order (drawn from the
// seed), rotated by one place every `shuffle_every` rounds so the boundaries move and every
// site mixes. Every `bridge_every`-th round (when there is more than one site) is a bridge round:
// group p takes the device at place p + b·s of each site s's order (b: the bridge's number), so
// each bridge puts one device of every site together, and over max |site| bridges each pair of
// devices from different sites meets. g ≥ the member count: one group of every member, every
// round (exactly `allreduce`, the bottleneck notwithstanding).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace edgerig::dssync {

using Groups = std::vector<std::vector<int>>;  // device indices; each group in ring order

struct Sites {
  Groups sites;          // each ascending; ordered by their first device
  double threshold = 0;  // bytes/s: links at or below are bottlenecks (0: none)
};

// `bandwidth[from][to]` in bytes/s (<= 0: not measured; such a link counts as fast).
// `fast_link` in bytes/s (0: no such floor).
Sites findSites(const std::vector<int>& members, const std::vector<std::vector<double>>& bandwidth,
                double bottleneck_ratio, double fast_link = 0);

struct Schedule {
  int group_size = 4;         // g (>= 2: groups of one never mix)
  int64_t shuffle_every = 1;  // R: rounds between rotations of the sites' groups
  int64_t bridge_every = 4;   // every this many rounds a bridge round (>= 2)
  uint64_t seed = 1;
};

struct RoundGroups {
  Groups groups;
  bool bridge = false;
};

RoundGroups groupsOfRound(const Sites& sites, const Schedule& schedule, int64_t round);

// Rounds within which, from any round on, every member's model has reached every other member
// through the groups (transitively: i averaged with k, later k with j). The rule guarantees it
// (tests/core/algorithms/tst_dssync_groups.cpp checks it, and that with two equal sites each
// within g every pair of devices is in one group directly within bridge_every · |site| rounds).
int64_t mixingBound(const Sites& sites, const Schedule& schedule);

// "{0 1 2} {3 4}": for events and the layout description.
std::string describe(const Groups& groups);

}  // namespace edgerig::dssync
