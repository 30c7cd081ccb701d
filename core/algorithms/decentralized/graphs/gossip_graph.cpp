#include "core/algorithms/decentralized/graphs/gossip_graph.h"

#include <algorithm>
#include <numeric>
#include <set>

#include "core/data/random_stream.h"

namespace edgerig {
namespace {

// Random-regular draws that fail (a stub left with no partner, a disconnected graph) start over
// this many times before the connected circulant graph of the same degree is used instead.
constexpr int kDrawAttempts = 200;

using Adjacency = std::vector<std::set<int>>;  // by position 0..n-1

void connect(Adjacency& adj, int a, int b, bool both) {
  if (a == b) return;
  adj[a].insert(b);
  if (both) adj[b].insert(a);
}

void shuffle(std::vector<int>& v, RandomStream& rs) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rs.below(i)]);
}

// The distinct hop counts 2^0, 2^1, ... up to n − 1 (SGP: i in range(0, int(log2(n − 1)) + 1)).
std::vector<int> powersOfTwoBelow(int n) {
  std::vector<int> out;
  for (int64_t h = 1; h <= n - 1; h *= 2) out.push_back(static_cast<int>(h));
  return out;
}

// SGP's phone book: +2^k then −2^k for each k, as offsets mod n, each peer once.
std::vector<int> onePeerOffsets(int n) {
  std::vector<int> out;
  for (int h : powersOfTwoBelow(n)) {
    for (int offset : {h % n, (n - h % n) % n}) {
      if (offset != 0 && std::find(out.begin(), out.end(), offset) == out.end()) {
        out.push_back(offset);
      }
    }
  }
  return out;
}

bool connected(const Adjacency& adj) {
  const int n = static_cast<int>(adj.size());
  if (n == 0) return true;
  std::vector<bool> seen(n, false);
  std::vector<int> todo{0};
  seen[0] = true;
  int count = 1;
  while (!todo.empty()) {
    const int p = todo.back();
    todo.pop_back();
    for (int q : adj[p]) {
      if (!seen[q]) {
        seen[q] = true;
        ++count;
        todo.push_back(q);
      }
    }
  }
  return count == n;
}

// Offsets 1 .. d/2 both ways, and n/2 when d is odd (then n is even): connected and d-regular.
Adjacency circulant(int n, int d) {
  Adjacency adj(n);
  for (int p = 0; p < n; ++p) {
    for (int k = 1; k <= d / 2; ++k) connect(adj, p, (p + k) % n, true);
    if (d % 2 == 1) connect(adj, p, (p + n / 2) % n, true);
  }
  return adj;
}

// Pairs stubs at random, choosing only pairs that keep the graph simple (Steger–Wormald), and
// starts over when stuck or when the result is disconnected.
Adjacency randomRegular(int n, int d, RandomStream& rs) {
  if (d <= 0 || n <= 1) return Adjacency(n);
  for (int attempt = 0; attempt < kDrawAttempts; ++attempt) {
    Adjacency adj(n);
    std::vector<int> stubs;
    for (int p = 0; p < n; ++p) stubs.insert(stubs.end(), static_cast<size_t>(d), p);
    bool stuck = false;
    while (!stubs.empty() && !stuck) {
      auto suitable = [&](size_t i, size_t j) {
        return i != j && stubs[i] != stubs[j] && !adj[stubs[i]].count(stubs[j]);
      };
      size_t a = 0, b = 0;
      bool found = false;
      for (int tries = 0; tries < 64 && !found; ++tries) {
        a = rs.below(stubs.size());
        b = rs.below(stubs.size());
        found = suitable(a, b);
      }
      for (size_t i = 0; i < stubs.size() && !found; ++i) {
        for (size_t j = i + 1; j < stubs.size() && !found; ++j) {
          if (suitable(i, j)) a = i, b = j, found = true;
        }
      }
      if (!found) {
        stuck = true;
        break;
      }
      connect(adj, stubs[a], stubs[b], true);
      if (a < b) std::swap(a, b);  // erase the later index first
      stubs.erase(stubs.begin() + static_cast<std::ptrdiff_t>(a));
      stubs.erase(stubs.begin() + static_cast<std::ptrdiff_t>(b));
    }
    if (!stuck && connected(adj)) return adj;
  }
  return circulant(n, d);
}

Adjacency torus(int n) {
  int rows = 1;
  for (int r = 1; r * r <= n; ++r) {
    if (n % r == 0) rows = r;
  }
  const int cols = n / rows;
  Adjacency adj(n);
  for (int p = 0; p < n; ++p) {
    const int r = p / cols, c = p % cols;
    connect(adj, p, r * cols + (c + 1) % cols, true);
    connect(adj, p, ((r + 1) % rows) * cols + c, true);
  }
  return adj;
}

int64_t drawOf(const GraphSpec& spec, int64_t round) {
  return spec.redraw_every > 0 ? round / spec.redraw_every : 0;
}

}  // namespace

std::vector<std::string> undirectedGraphKinds() {
  return {kRingGraph, kTorusGraph, kCompleteGraph, kRandomRegularGraph};
}

std::vector<std::string> allGraphKinds() {
  auto out = undirectedGraphKinds();
  out.push_back(kExponentialGraph);
  out.push_back(kOnePeerExponentialGraph);
  return out;
}

const std::vector<int>& Digraph::outOf(int device) const {
  static const std::vector<int> kNone;
  auto it = out.find(device);
  return it == out.end() ? kNone : it->second;
}

std::vector<int> Digraph::inOf(int device) const {
  std::vector<int> in;
  for (const auto& [from, tos] : out) {
    if (std::find(tos.begin(), tos.end(), device) != tos.end()) in.push_back(from);
  }
  return in;
}

int Digraph::edgeCount() const {
  int n = 0;
  for (const auto& [from, tos] : out) n += static_cast<int>(tos.size());
  return n;
}

bool Digraph::symmetric() const {
  for (const auto& [from, tos] : out) {
    for (int to : tos) {
      const auto& back = outOf(to);
      if (std::find(back.begin(), back.end(), from) == back.end()) return false;
    }
  }
  return true;
}

bool Digraph::stronglyConnected() const {
  if (members.size() <= 1) return true;
  // Every member reachable from the first, and the first from every member.
  for (bool forward : {true, false}) {
    std::set<int> seen{members.front()};
    std::vector<int> todo{members.front()};
    while (!todo.empty()) {
      const int d = todo.back();
      todo.pop_back();
      for (int next : forward ? outOf(d) : inOf(d)) {
        if (seen.insert(next).second) todo.push_back(next);
      }
    }
    if (seen.size() != members.size()) return false;
  }
  return true;
}

int regularDegree(int requested, int n) {
  int d = std::clamp(requested, 0, std::max(0, n - 1));
  if ((static_cast<int64_t>(n) * d) % 2 == 1) --d;
  return d;
}

Status checkGraph(const GraphSpec& spec, int n) {
  const auto kinds = allGraphKinds();
  if (std::find(kinds.begin(), kinds.end(), spec.kind) == kinds.end()) {
    return invalidArgument("field algorithm.graph: unknown graph \"" + spec.kind + "\"");
  }
  if (spec.redraw_every < 0) {
    return invalidArgument("field algorithm.redrawEvery: must be 0 (never) or more");
  }
  if (spec.kind == kRandomRegularGraph) {
    if (spec.degree < 1 || spec.degree > n - 1) {
      return invalidArgument("field algorithm.degree: a random-regular graph on " +
                             std::to_string(n) + " devices takes a degree from 1 to " +
                             std::to_string(n - 1) + ", got " + std::to_string(spec.degree));
    }
    if ((static_cast<int64_t>(n) * spec.degree) % 2 == 1) {
      return invalidArgument("field algorithm.degree: no " + std::to_string(spec.degree) +
                             "-regular graph exists on " + std::to_string(n) +
                             " devices (devices × degree must be even)");
    }
    if (spec.degree == 1 && n > 2) {
      return invalidArgument("field algorithm.degree: a 1-regular graph on " + std::to_string(n) +
                             " devices is disconnected; use 2 or more");
    }
  }
  return Status::ok();
}

Result<Digraph> graphAt(const GraphSpec& spec, const std::vector<int>& members, int64_t round) {
  const int n = static_cast<int>(members.size());
  if (!std::is_sorted(members.begin(), members.end()) ||
      std::adjacent_find(members.begin(), members.end()) != members.end()) {
    return invalidArgument("graph members must be distinct and ascending");
  }
  const int64_t draw = drawOf(spec, round);
  Adjacency adj(n);
  if (spec.kind == kRingGraph) {
    for (int p = 0; p < n; ++p) connect(adj, p, (p + 1) % n, true);
  } else if (spec.kind == kTorusGraph) {
    adj = torus(n);
  } else if (spec.kind == kCompleteGraph) {
    for (int p = 0; p < n; ++p) {
      for (int q = 0; q < n; ++q) connect(adj, p, q, false);
    }
  } else if (spec.kind == kRandomRegularGraph) {
    RandomStream rs(mixSeed(spec.seed, 2 * static_cast<uint64_t>(draw)));
    adj = randomRegular(n, regularDegree(spec.degree, n), rs);
  } else if (spec.kind == kExponentialGraph) {
    for (int p = 0; p < n; ++p) {
      for (int h : powersOfTwoBelow(n)) connect(adj, p, (p + h) % n, false);
    }
  } else if (spec.kind == kOnePeerExponentialGraph) {
    const auto offsets = onePeerOffsets(n);
    if (!offsets.empty()) {
      const int offset = offsets[static_cast<size_t>(round % static_cast<int64_t>(offsets.size()))];
      for (int p = 0; p < n; ++p) connect(adj, p, (p + offset) % n, false);
    }
  } else {
    return invalidArgument("unknown graph \"" + spec.kind + "\"");
  }
  // Position p is device members[label[p]]: the identity unless the graph is re-drawn.
  std::vector<int> label(n);
  std::iota(label.begin(), label.end(), 0);
  if (spec.redraw_every > 0) {
    RandomStream rs(mixSeed(spec.seed, 2 * static_cast<uint64_t>(draw) + 1));
    shuffle(label, rs);
  }
  Digraph g;
  g.members = members;
  for (int p = 0; p < n; ++p) {
    auto& tos = g.out[members[label[p]]];
    for (int q : adj[p]) tos.push_back(members[label[q]]);
    std::sort(tos.begin(), tos.end());
  }
  return g;
}

bool graphChangesAt(const GraphSpec& spec, int members, int64_t round) {
  if (round == 0) return true;
  if (spec.redraw_every > 0 && round % spec.redraw_every == 0) return true;
  return spec.kind == kOnePeerExponentialGraph && onePeerOffsets(members).size() > 1;
}

std::string describeGraph(const GraphSpec& spec, int members) {
  std::string s = spec.kind;
  if (spec.kind == kRandomRegularGraph) {
    s += " of degree " + std::to_string(regularDegree(spec.degree, members));
  }
  s += " over " + std::to_string(members) + " devices";
  if (spec.kind == kOnePeerExponentialGraph) {
    s += ", one peer per round (a cycle of " + std::to_string(onePeerOffsets(members).size()) + ")";
  }
  if (spec.redraw_every > 0) {
    s += ", re-drawn every " + std::to_string(spec.redraw_every) + " rounds";
  }
  return s;
}

}  // namespace edgerig
