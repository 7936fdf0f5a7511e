/// The off-diagonal sparsity pattern of H as a graph: an edge {i, k} for every listed pair, taken
/// both ways, without self-loops or repeats (compressed rows). Cost S P.
struct SymmetricGraph {
    let start: [Int]
    let adjacent: [Int]

    init(_ lists: NeighbourLists) {
        let s = lists.pixels
        // Row i of `both`: i's listed neighbours and the pixels that list i (pointers: these loops
        // are most of the ordering's time, and array writes would re-check uniqueness each time).
        var count = [Int](repeating: 0, count: s + 1)
        var both = [Int]()
        count.withUnsafeMutableBufferPointer { count in
            lists.start.withUnsafeBufferPointer { first in lists.column.withUnsafeBufferPointer { column in
                for i in 0..<s {
                    for j in first[i]..<first[i + 1] where column[j] != i {
                        count[i + 1] += 1
                        count[column[j] + 1] += 1
                    }
                }
                for i in 0..<s { count[i + 1] += count[i] }
                var offsets = Array(count)
                both = [Int](unsafeUninitializedCapacity: count[s]) { both, filled in
                    offsets.withUnsafeMutableBufferPointer { next in for i in 0..<s {
                        for j in first[i]..<first[i + 1] where column[j] != i {
                            let k = column[j]
                            both[next[i]] = k; next[i] += 1
                            both[next[k]] = i; next[k] += 1
                        }
                    } }
                    filled = count[s]
                }
            } }
        }
        // Repeats dropped (a mesh lists each edge from both ends): `seen[k] == i` once k is in row i.
        var start = [Int](repeating: 0, count: s + 1)
        var seen = [Int](repeating: -1, count: s)
        adjacent = [Int](unsafeUninitializedCapacity: both.count) { adjacent, filled in
            seen.withUnsafeMutableBufferPointer { seen in both.withUnsafeBufferPointer { both in
                for i in 0..<s {
                    for j in count[i]..<count[i + 1] where seen[both[j]] != i {
                        seen[both[j]] = i
                        adjacent[filled] = both[j]
                        filled += 1
                    }
                    start[i + 1] = filled
                }
            } }
        }
        self.start = start
    }

    var vertices: Int { start.count - 1 }
    func degree(_ v: Int) -> Int { start[v + 1] - start[v] }

    /// The vertices by increasing degree, ties by index (a counting sort). Cost S.
    func byDegree() -> [Int] {
        var first = [Int](repeating: 0, count: vertices + 1)
        for v in 0..<vertices { first[degree(v) + 1] += 1 }
        for d in 0..<vertices { first[d + 1] += first[d] }
        var sorted = [Int](repeating: 0, count: vertices)
        for v in 0..<vertices { sorted[first[degree(v)]] = v; first[degree(v)] += 1 }
        return sorted
    }
}

/// Reverse Cuthill-McKee (A. George, J. W. Liu, "Computer Solution of Large Sparse Positive
/// Definite Systems", 1981): `position[v]` for every vertex such that the edges stay close to the
/// diagonal, max |position[i] - position[k]| over edges (the band half-width) small.
///
/// Each connected component is numbered by breadth-first search from a pseudo-peripheral vertex
/// (one of near-maximal eccentricity, found from the component's lowest-degree vertex), each
/// vertex's unnumbered neighbours in increasing degree; also from the far end of that search, and
/// the narrower of the two kept (the bench.inversion sma mesh, S = 1500: 86 instead of 92, 13% less to
/// factor). The whole order is then reversed. Cost: (a few breadth-first searches) x (S + edges).
func reverseCuthillMcKee(_ g: SymmetricGraph) -> [Int] {
    let s = g.vertices
    var search = BreadthFirst(vertices: s)
    var numbered = [Bool](repeating: false, count: s)
    var order = [Int](repeating: 0, count: s)
    var other = [Int](repeating: 0, count: s)
    var local = [Int](repeating: 0, count: s)
    g.start.withUnsafeBufferPointer { start in g.adjacent.withUnsafeBufferPointer { adjacent in
        numbered.withUnsafeMutableBufferPointer { numbered in order.withUnsafeMutableBufferPointer { order in
        other.withUnsafeMutableBufferPointer { other in local.withUnsafeMutableBufferPointer { local in
            /// The component's half-width in the order `list[0..<n]`.
            func width(_ list: UnsafeMutablePointer<Int>, _ n: Int) -> Int {
                for j in 0..<n { local[list[j]] = j }
                var width = 0
                for j in 0..<n {
                    for e in start[list[j]]..<start[list[j] + 1] { width = max(width, abs(j - local[adjacent[e]])) }
                }
                return width
            }
            var placed = 0
            for root in g.byDegree() where !numbered[root] {
                let (first, far) = search.pseudoPeripheral(g, from: root)
                let n = cuthillMcKee(start, adjacent, from: first, numbered: numbered, into: order.baseAddress! + placed)
                if far != first {
                    for j in placed..<(placed + n) { numbered[order[j]] = false }
                    _ = cuthillMcKee(start, adjacent, from: far, numbered: numbered, into: other.baseAddress!)
                    if width(other.baseAddress!, n) < width(order.baseAddress! + placed, n) {
                        for j in 0..<n { order[placed + j] = other[j] }
                    }
                }
                placed += n
            }
        } }
        } }
    } }
    var position = [Int](repeating: 0, count: s)
    for j in 0..<s { position[order[j]] = s - 1 - j }
    return position
}

/// Cuthill-McKee numbering of `first`'s component (its unnumbered vertices) into `order`, each
/// vertex's unnumbered neighbours by increasing (degree, index); marks them numbered and returns
/// how many. Cost: the component's vertices and edges.
private func cuthillMcKee(_ start: UnsafeBufferPointer<Int>, _ adjacent: UnsafeBufferPointer<Int>, from first: Int,
                          numbered: UnsafeMutableBufferPointer<Bool>, into order: UnsafeMutablePointer<Int>) -> Int {
    let degree = { (v: Int) in start[v + 1] - start[v] }
    numbered[first] = true
    order[0] = first
    var placed = 1
    var head = 0
    while head < placed {
        let v = order[head]
        head += 1
        let added = placed
        for j in start[v]..<start[v + 1] where !numbered[adjacent[j]] {
            let w = adjacent[j]
            numbered[w] = true
            // Insertion by (degree, index): a vertex has a handful of neighbours.
            var at = placed
            while at > added && (degree(order[at - 1]), order[at - 1]) > (degree(w), w) {
                order[at] = order[at - 1]
                at -= 1
            }
            order[at] = w
            placed += 1
        }
    }
    return placed
}

/// The largest |position[i] - position[k]| over the listed pairs (0 without any). Cost S P.
func bandHalfWidth(_ lists: NeighbourLists, position: [Int]) -> Int {
    var width = 0
    for i in 0..<lists.pixels {
        for j in lists.start[i]..<lists.start[i + 1] { width = max(width, abs(position[i] - position[lists.column[j]])) }
    }
    return width
}

/// Breadth-first searches that reuse one level array (reset only where a search went).
private struct BreadthFirst {
    var level: [Int]
    var queue: [Int] = []

    init(vertices: Int) { level = [Int](repeating: -1, count: vertices) }

    /// The levels of `root`'s component from `root`; returns its eccentricity (the last level)
    /// and leaves the component in `queue`, level by level.
    mutating func search(_ g: SymmetricGraph, from root: Int) -> Int {
        for v in queue { level[v] = -1 }
        queue.removeAll(keepingCapacity: true)
        queue.append(root)
        level[root] = 0
        var head = 0
        while head < queue.count {
            let v = queue[head]
            head += 1
            for j in g.start[v]..<g.start[v + 1] where level[g.adjacent[j]] < 0 {
                level[g.adjacent[j]] = level[v] + 1
                queue.append(g.adjacent[j])
            }
        }
        return level[queue[queue.count - 1]]
    }

    /// George and Liu's pseudo-peripheral vertex: move to the lowest-degree vertex of the last
    /// level while that lengthens the eccentricity (at most 16 moves: each search costs the
    /// component). Returns it and the last vertex tried from it (at the far end of its search).
    mutating func pseudoPeripheral(_ g: SymmetricGraph, from root: Int) -> (Int, far: Int) {
        var best = root
        var far = root
        var eccentricity = search(g, from: root)
        for _ in 0..<16 {
            var candidate = queue[queue.count - 1]
            for v in queue.reversed() {
                guard level[v] == eccentricity else { break }
                if g.degree(v) < g.degree(candidate) { candidate = v }
            }
            far = candidate
            let reach = search(g, from: candidate)
            guard reach > eccentricity else { break }
            best = candidate
            eccentricity = reach
        }
        return (best, far)
    }
}
