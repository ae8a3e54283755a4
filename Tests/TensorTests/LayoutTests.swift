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
    #expect(Layout(shape: [3, 4], strides: [2, 1]).hasInternalOverlap)
    #expect(!Layout(shape: [3, 1], strides: [1, 0]).hasInternalOverlap)
  }

  @Test func storageSpanCoversAllElements() {
    let l = Layout(shape: [2, 3], strides: [1, 2], offset: 5)
    #expect(l.storageSpan.lower == 5 && l.storageSpan.upper == 11)
    #expect(l.storageIndex([1, 2]) == 10)
  }
}

@Suite struct StridedLoopTests {
  @Test func coalescesContiguousDimsIntoOneRow() {
    let loop = StridedLoop(shape: [2, 3, 4], layouts: [Layout(contiguous: [2, 3, 4]), Layout(contiguous: [2, 3, 4])])
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
