import TestSupport
import Testing

@testable import Tensor

@Suite struct LayoutTests {
  @Test func contiguousStridesAreRowMajor() {
    #expect(Layout.contiguousStrides([2, 3, 4]) == [12, 4, 1])
    #expect(Layout.contiguousStrides([]) == [])
    #expect(Layout(contiguous: [2, 0, 3]).strides == [3, 3, 1])
  }

  @Test func contiguityIgnoresSizeOneDims() {
    #expect(Layout(shape: [1, 3], strides: [7, 1]).isContiguous)
    #expect(!Layout(shape: [3, 2], strides: [1, 3]).isContiguous)
    #expect(Layout(shape: [0, 2], strides: [5, 9]).isContiguous)
  }

  @Test func broadcastShapesFollowNumPy() throws {
    #expect(try Layout.broadcastShapes([3, 1, 4], [2, 4]).get() == [3, 2, 4])
    #expect(try Layout.broadcastShapes([], [5]).get() == [5])
    guard case .failure(let m) = Layout.broadcastShapes([3, 4], [2, 4]) else {
      Issue.record("expected a mismatch")
      return
    }
    #expect(m.sizeA == 3 && m.sizeB == 2 && m.dim == 0)
  }

  @Test func expandedUsesZeroStrides() {
    let l = Layout(contiguous: [3, 1]).expanded(to: [2, 3, 4])
    #expect(l?.strides == [0, 1, 0])
    #expect(Layout(contiguous: [3]).expanded(to: [4]) == nil)
  }

  @Test func viewStridesMatchPyTorchComputeStride() {
    // Contiguous: any regrouping works.
    #expect(Layout(contiguous: [4, 4]).viewStrides(for: [16]) == [1])
    #expect(Layout(contiguous: [4, 4]).viewStrides(for: [2, 8]) == [8, 1])
    // Transposed: splitting a dim works, merging across the transpose does not.
    let t = Layout(shape: [4, 6], strides: [1, 4])
    #expect(t.viewStrides(for: [24]) == nil)
    #expect(t.viewStrides(for: [2, 2, 6]) == [2, 1, 4])
    // Size-1 dims are free.
    #expect(Layout(shape: [3, 1, 2], strides: [2, 99, 1]).viewStrides(for: [6]) == [1])
  }

  @Test func overlapDetection() {
    #expect(Layout(shape: [3, 4], strides: [0, 1]).hasInternalOverlap)
    #expect(!Layout(shape: [3, 4], strides: [1, 3]).hasInternalOverlap)
    // Overlapping (element [0, 2] and [1, 0] share offset 2), but only a stride of 0 counts
    // as proof, as in PyTorch: the write goes through.
    #expect(!Layout(shape: [3, 4], strides: [2, 1]).hasInternalOverlap)
    #expect(!Layout(shape: [3, 1], strides: [1, 0]).hasInternalOverlap)
    // A strided slice that ends at the edge of its dim (a stride-2 1x1 convolution's input
    // over a 7x7 image) used to count as overlapping: its extent is stride * (size - 1) + 1.
    #expect(!Layout(shape: [1, 4, 4, 4], strides: [196, 49, 14, 2]).hasInternalOverlap)
    #expect(Layout(shape: [4, 3], strides: [3, 1]).isNonOverlappingAndDense)
    #expect(Layout(shape: [4, 3], strides: [1, 4]).isNonOverlappingAndDense)
    #expect(!Layout(shape: [4, 3], strides: [6, 2]).isNonOverlappingAndDense)
    #expect(!Layout(shape: [4, 3], strides: [1, 1]).isNonOverlappingAndDense)
  }

  /// The storage offsets a layout reaches, one per index, by walking every index.
  private func offsets(_ layout: Layout) -> [Int] {
    var result: [Int] = []
    var index = [Int](repeating: 0, count: layout.rank)
    guard layout.numel > 0 else { return [] }
    while true {
      result.append(layout.storageIndex(index))
      var d = layout.rank - 1
      while d >= 0 {
        index[d] += 1
        if index[d] < layout.shape[d] { break }
        index[d] = 0
        d -= 1
      }
      if d < 0 { return result }
    }
  }

  @Test func overlapAnswersAgreeWithBruteForceOnRandomLayouts() {
    var rng = SeededGenerator(seed: 11)
    var proven = 0
    var dense = 0
    for _ in 0..<5000 {
      let rank = Int.random(in: 1...4, using: &rng)
      let shape = (0..<rank).map { _ in Int.random(in: 0...4, using: &rng) }
      var strides = (0..<rank).map { _ in Int.random(in: 0...12, using: &rng) }
      if Bool.random(using: &rng) {
        // Half of the cases start from a permuted or sliced contiguous layout.
        strides = Layout.contiguousStrides(shape).map { $0 * Int.random(in: 1...2, using: &rng) }
        strides.shuffle(using: &rng)
      }
      let layout = Layout(shape: shape, strides: strides, offset: Int.random(in: 0...3, using: &rng))
      let reached = offsets(layout)
      let overlaps = Set(reached).count < reached.count
      // Every overlap reported is real (a false report stopped valid in-place writes).
      if layout.hasInternalOverlap {
        #expect(overlaps, "\(shape) \(strides) reported as overlapping")
        proven += 1
      }
      // A stride of 0 on a dim longer than 1 is always reported.
      if zip(shape, strides).contains(where: { $0.0 > 1 && $0.1 == 0 }) && layout.numel > 0 {
        #expect(layout.hasInternalOverlap)
      }
      // Dense answers are exact: each element once, no gaps.
      let isDense = !overlaps && (reached.isEmpty || reached.max()! - reached.min()! + 1 == reached.count)
      #expect(layout.isNonOverlappingAndDense == isDense, "\(shape) \(strides)")
      if isDense { dense += 1 }
    }
    #expect(proven == 172 && dense == 2756, "\(proven) \(dense)")  // both kinds are exercised
  }

  @Test func inPlaceWritesThroughEdgeEndingSlicesGoAhead() {
    // The stride-2 slice of a 7x7 image that a stride-2 1x1 convolution reads: writable.
    let image = Tensor.arange(2 * 49).float().view(2, 1, 7, 7)
    let slice = image[0..., 0..., .stride(by: 2), .stride(by: 2)]
    slice.add_(Tensor.ones(2, 1, 4, 4))
    #expect(image[0, 0, 6, 6].item() == 49)
    #expect(image[1, 0, 6, 6].item() == 98)
    #expect(image[1, 0, 6, 5].item() == 96)
    // Disjoint interleaved slices of one tensor may be added into each other.
    let x = Tensor.arange(8).float()
    x[.stride(by: 2)].add_(x[1...][.stride(by: 2)])
    #expect(x == Tensor([1, 1, 5, 3, 9, 5, 13, 7] as [Float]))
  }

  @Test func storageSpanCoversAllElements() {
    let l = Layout(shape: [2, 3], strides: [1, 2], offset: 5)
    #expect(l.storageSpan.lower == 5 && l.storageSpan.upper == 11)
    #expect(l.storageIndex([1, 2]) == 10)
  }
}

@Suite struct StridedLoopTests {
  @Test func coalescesContiguousDimsIntoOneRow() {
    let loop = StridedLoop(
      shape: [2, 3, 4], layouts: [Layout(contiguous: [2, 3, 4]), Layout(contiguous: [2, 3, 4])])
    #expect(loop.shape == [24])
  }

  @Test func ordersDimsSoTheInnermostIsFastest() {
    let transposed = Layout(shape: [4, 3], strides: [1, 4])
    let loop = StridedLoop(shape: [4, 3], layouts: [transposed])
    #expect(loop.shape == [12])
  }

  @Test func visitsEveryElementOnceInParallel() {
    // Large enough to split over threads, with a broadcast operand and odd sizes.
    let a = Tensor.arange(70_001).double()
    let b = Tensor([2.0], dtype: .float64)
    let c = a * b
    #expect(c.sum().item() == Double(70_000 * 70_001))
    let wide = Tensor.ones(3, 40_003)
    #expect(wide.t().contiguous().sum().item() == 120_009)
  }
}
