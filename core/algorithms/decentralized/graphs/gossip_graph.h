// The communication graphs of gossip algorithms (dpsgd, sgp, ...): which device sends to which in
// each round. A graph is a pure function of its declaration, its members, the seed and the
// round, so the coordinator and every worker compute the same one without sending it; a lost
// device is dropped by computing the graph again over the survivors.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "device_bridge/status.h"

namespace edgerig {

// Graph kinds, as `algorithm.graph` names them.
inline constexpr const char* kRingGraph = "ring";                     // undirected, i ↔ i±1
inline constexpr const char* kTorusGraph = "torus";                   // undirected, 2-D wrap-around
inline constexpr const char* kCompleteGraph = "complete";             // undirected, everyone
inline constexpr const char* kRandomRegularGraph = "random-regular";  // undirected, degree d
inline constexpr const char* kExponentialGraph = "exponential";       // directed, i → i+2^k
// Time-varying: SGP's reference code (DynamicDirectedExponentialGraph, one peer per round): each
// device's peers are i+2^0, i−2^0, i+2^1, i−2^1, ... (duplicates dropped); in round t every
// device sends to the (t mod count)-th of them.
inline constexpr const char* kOnePeerExponentialGraph = "onepeer-exponential";

// The undirected kinds (dpsgd's choices) and all of them (push-sum's choices).
std::vector<std::string> undirectedGraphKinds();
std::vector<std::string> allGraphKinds();

struct GraphSpec {
  std::string kind = kRingGraph;
  int degree = 3;  // random-regular only
  // Every this many rounds the graph is re-drawn from the seed: a new random labelling of the
  // devices (random-regular: a new graph). 0: never (devices in index order; random-regular
  // drawn once).
  int64_t redraw_every = 0;
  uint64_t seed = 0;
};

// A directed graph over some devices (an undirected edge is there both ways; no self loops).
struct Digraph {
  std::vector<int> members;             // device indices, ascending
  std::map<int, std::vector<int>> out;  // device → the devices it sends to, ascending

  const std::vector<int>& outOf(int device) const;
  std::vector<int> inOf(int device) const;  // ascending
  int edgeCount() const;
  bool symmetric() const;
  // Every member reaches every other along directed edges.
  bool stronglyConnected() const;
  bool operator==(const Digraph&) const = default;
};

// The degree a random-regular graph gets on n devices: at most n − 1, and one less when n·d
// would be odd (no d-regular graph exists then).
int regularDegree(int requested, int n);

// Whether `spec` can be drawn on n devices (a known kind, a usable degree); the message names
// `algorithm.<field>`.
Status checkGraph(const GraphSpec& spec, int n);

// The graph of round `round` over `members` (ascending device indices).
Result<Digraph> graphAt(const GraphSpec& spec, const std::vector<int>& members, int64_t round);

// Whether the graph of `round` may differ from that of round − 1 (a rotation or a re-draw).
bool graphChangesAt(const GraphSpec& spec, int members, int64_t round);

// A one-line description: "onepeer-exponential over 8 devices, one peer per round".
std::string describeGraph(const GraphSpec& spec, int members);

}  // namespace edgerig
