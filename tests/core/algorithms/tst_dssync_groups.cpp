// dssync's grouping rule, on bandwidth matrices as the probe reports them: the sites follow a
// bottleneck (a capped half-to-half crossing, one capped device, no cap at all, noise), ordinary
// groups never cross a bottleneck and are a partition of the members every round, bridge rounds
// come exactly every bridge_every rounds, every member's model reaches every other within
// mixingBound from any round on, and with two equal sites within g every pair meets directly
// within bridge_every · |site| rounds. g >= n is one group of everyone (allreduce).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "core/algorithms/decentralized/dssync/dssync_groups.h"

namespace edgerig::dssync {
namespace {

constexpr double kMbit = 1e6 / 8;

// n devices; links inside a half at 1–4 Gbit/s (noisy, seeded), links across at `cross` Mbit/s.
std::vector<std::vector<double>> halves(int n, int first_half, double cross, uint64_t seed = 3) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> fast(1000, 4000);
  std::vector<std::vector<double>> bw(static_cast<size_t>(n), std::vector<double>(n, 0));
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      if (i == j) continue;
      const bool across = (i < first_half) != (j < first_half);
      bw[i][j] = (across ? cross * (0.9 + 0.2 * (fast(rng) - 1000) / 3000) : fast(rng)) * kMbit;
    }
  }
  return bw;
}

std::vector<int> range(int n) {
  std::vector<int> v(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<size_t>(i)] = i;
  return v;
}

int siteOf(const Sites& s, int d) {
  for (size_t k = 0; k < s.sites.size(); ++k) {
    if (std::count(s.sites[k].begin(), s.sites[k].end(), d)) return static_cast<int>(k);
  }
  return -1;
}

// Checks `rounds` rounds from `from`: a partition of the members, ordinary groups inside a site
// and of at most g, bridges exactly every bridge_every rounds with one device per site.
void checkRounds(const Sites& sites, const Schedule& sch, int64_t from, int64_t rounds) {
  std::set<int> members;
  for (const auto& s : sites.sites) members.insert(s.begin(), s.end());
  for (int64_t r = from; r < from + rounds; ++r) {
    const RoundGroups rg = groupsOfRound(sites, sch, r);
    std::multiset<int> seen;
    for (const auto& g : rg.groups) seen.insert(g.begin(), g.end());
    ASSERT_EQ(seen, std::multiset<int>(members.begin(), members.end())) << "round " << r;
    const bool bridge_due = sites.sites.size() > 1 && (r + 1) % sch.bridge_every == 0;
    ASSERT_EQ(rg.bridge, bridge_due) << "round " << r;
    for (const auto& g : rg.groups) {
      std::set<int> site_ids;
      for (int d : g) site_ids.insert(siteOf(sites, d));
      if (rg.bridge) {
        EXPECT_EQ(site_ids.size(), g.size()) << "a bridge group has one device per site";
      } else {
        EXPECT_EQ(site_ids.size(), 1u)
            << "round " << r << ": " << describe(rg.groups) << " crosses a bottleneck";
        EXPECT_LE(static_cast<int>(g.size()), sch.group_size);
      }
    }
  }
}

// The first round by which every member's model has reached every other, starting at `from`.
int64_t roundsToMix(const Sites& sites, const Schedule& sch, int64_t from, int64_t limit) {
  std::vector<int> members;
  for (const auto& s : sites.sites) members.insert(members.end(), s.begin(), s.end());
  std::map<int, std::set<int>> has;
  for (int d : members) has[d] = {d};
  for (int64_t r = from; r < from + limit; ++r) {
    for (const auto& g : groupsOfRound(sites, sch, r).groups) {
      std::set<int> all;
      for (int d : g) all.insert(has[d].begin(), has[d].end());
      for (int d : g) has[d] = all;
    }
    bool mixed = true;
    for (int d : members) mixed = mixed && has[d].size() == members.size();
    if (mixed) return r - from + 1;
  }
  return limit + 1;
}

TEST(DssyncSites, FollowAMeasuredHalfToHalfBottleneck) {
  const Sites s = findSites(range(8), halves(8, 4, 20), 4.0);
  ASSERT_EQ(s.sites.size(), 2u) << describe(s.sites);
  EXPECT_EQ(s.sites[0], (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(s.sites[1], (std::vector<int>{4, 5, 6, 7}));
  EXPECT_GT(s.threshold, 18 * kMbit);
  EXPECT_LT(s.threshold, 1000 * kMbit);
}

TEST(DssyncSites, NoBottleneckIsOneSiteEvenWithNoisyLinks) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    const Sites s = findSites(range(6), halves(6, 3, 2500, seed), 4.0);
    EXPECT_EQ(s.sites.size(), 1u) << describe(s.sites);
    EXPECT_EQ(s.threshold, 0);
  }
  // Loopback under load: links at 8–16 Gbit/s, one dips to 1.5 Gbit/s. Above the 1 Gbit/s
  // floor it is no bottleneck; without the floor it would be.
  std::vector<std::vector<double>> bw(4, std::vector<double>(4, 0));
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) bw[i][j] = i == j ? 0 : (8000 + 1000 * (i + j)) * kMbit;
  }
  bw[1][2] = bw[2][1] = 1500 * kMbit;
  EXPECT_EQ(findSites(range(4), bw, 4.0, 1000 * kMbit).sites.size(), 1u);
  EXPECT_EQ(findSites(range(4), bw, 4.0, 0).threshold, bw[1][2]);
}

TEST(DssyncSites, OneCappedDeviceIsASiteOfItsOwnAndUnequalHalvesWork) {
  // dev2 sends at 50 Mbit/s (a per-device cap): the slower direction counts.
  auto bw = halves(4, 4, 0);
  for (int j = 0; j < 4; ++j) {
    if (j != 2) bw[2][j] = 50 * kMbit;
  }
  const Sites s = findSites(range(4), bw, 4.0);
  ASSERT_EQ(s.sites.size(), 2u) << describe(s.sites);
  EXPECT_EQ(s.sites[0], (std::vector<int>{0, 1, 3}));
  EXPECT_EQ(s.sites[1], (std::vector<int>{2}));
  // Members only: a lost device's row is not read, and 5 + 2 sites split where the cap is.
  const Sites t = findSites({0, 1, 2, 3, 4, 6, 7}, halves(8, 5, 20), 4.0);
  ASSERT_EQ(t.sites.size(), 2u);
  EXPECT_EQ(t.sites[0], (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(t.sites[1], (std::vector<int>{6, 7}));
}

TEST(DssyncGroups, NeverCrossABottleneckOutsideBridgeRoundsAndPartitionEveryRound) {
  for (int n : {5, 8, 11}) {
    for (int first : {1, 3, n / 2}) {
      const Sites s = findSites(range(n), halves(n, first, 20), 4.0);
      ASSERT_EQ(s.sites.size(), 2u);
      for (int g : {2, 3, 4}) {
        for (int64_t every : {1, 3}) {
          for (int64_t bridge : {2, 4, 7}) {
            SCOPED_TRACE("n " + std::to_string(n) + " first " + std::to_string(first) + " g " +
                         std::to_string(g) + " R " + std::to_string(every) + " B " +
                         std::to_string(bridge));
            checkRounds(s, Schedule{g, every, bridge, 42}, 0, 60);
          }
        }
      }
    }
  }
}

TEST(DssyncGroups, EveryModelReachesEveryOtherWithinTheBound) {
  int checked = 0;
  for (int n : {4, 6, 8, 9, 13}) {
    for (int first : {1, 2, n / 2, n}) {
      const Sites s = findSites(range(n), halves(n, first, 20), 4.0);
      for (int g : {2, 3, 4}) {
        for (int64_t every : {1, 2, 5}) {
          for (int64_t bridge : {2, 3, 4, 9}) {
            for (uint64_t seed : {1u, 7u}) {
              const Schedule sch{g, every, bridge, seed};
              const int64_t bound = mixingBound(s, sch);
              for (int64_t from : {0, 1, 5, 17}) {
                const int64_t took = roundsToMix(s, sch, from, bound);
                EXPECT_LE(took, bound) << "n " << n << " sites " << describe(s.sites) << " g " << g
                                       << " R " << every << " B " << bridge << " from " << from;
                ++checked;
              }
            }
          }
        }
      }
    }
  }
  EXPECT_GT(checked, 1000);
}

TEST(DssyncGroups, TwoEqualSitesWithinGMeetPairwiseWithinBridgeEveryTimesTheSiteSize) {
  const Sites s = findSites(range(8), halves(8, 4, 20), 4.0);
  for (int64_t bridge : {2, 4, 5}) {
    const Schedule sch{4, 1, bridge, 9};
    std::set<std::pair<int, int>> met;
    for (int64_t r = 0; r < bridge * 4; ++r) {
      for (const auto& g : groupsOfRound(s, sch, r).groups) {
        for (int a : g) {
          for (int b : g) met.insert({a, b});
        }
      }
    }
    EXPECT_EQ(met.size(), 64u) << "every ordered pair of 8, B " << bridge;
  }
}

TEST(DssyncGroups, GAtLeastTheDeviceCountIsOneGroupOfEveryoneEveryRound) {
  const Sites s = findSites(range(8), halves(8, 4, 20), 4.0);
  for (int64_t r = 0; r < 12; ++r) {
    const RoundGroups rg = groupsOfRound(s, Schedule{8, 1, 2, 3}, r);
    ASSERT_EQ(rg.groups.size(), 1u);
    EXPECT_EQ(rg.groups[0], range(8));
    EXPECT_FALSE(rg.bridge);
  }
  EXPECT_EQ(mixingBound(s, Schedule{8, 1, 2, 3}), 1);
}

TEST(DssyncGroups, TheSameSeedGivesTheSameGroupsAndAnotherSeedOthers) {
  const Sites s = findSites(range(12), halves(12, 6, 20), 4.0);
  int differ = 0;
  for (int64_t r = 0; r < 8; ++r) {
    EXPECT_EQ(groupsOfRound(s, Schedule{3, 1, 4, 5}, r).groups,
              groupsOfRound(s, Schedule{3, 1, 4, 5}, r).groups);
    differ += groupsOfRound(s, Schedule{3, 1, 4, 5}, r).groups !=
              groupsOfRound(s, Schedule{3, 1, 4, 6}, r).groups;
  }
  EXPECT_GT(differ, 0);
}

}  // namespace
}  // namespace edgerig::dssync
