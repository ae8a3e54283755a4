import Foundation
import TestSupport
import Testing

@testable import Tensor

/// Misuse stops with PyTorch's message (checked on standard error), and input PyTorch
/// accepts is accepted.
@Suite struct MisuseMessageTests {
  @Test func catOfZeroDimensionalTensorsNamesThePosition() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Tensor.cat([Tensor.ones(2), Tensor(2.0)])
    }
    #expect(standardError(of: result).contains("zero-dimensional tensor (at position 1) cannot be concatenated"))
  }

  @Test func expandQuotesTheMismatchedSizes() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Tensor.ones(3, 1).expand(2, 3, 4, 5)
    }
    #expect(
      standardError(of: result).contains(
        "The expanded size of the tensor (4) must match the existing size (3) at non-singleton dimension 2.  Target sizes: [2, 3, 4, 5].  Tensor sizes: [3, 1]"
      ))
  }

  @Test func whereRejectsANonBooleanCondition() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Tensor.where(Tensor([1.0, 0.0] as [Float]), Tensor.ones(2), Tensor.zeros(2))
    }
    #expect(
      standardError(of: result).contains(
        "where expected condition to be a boolean tensor, but got a tensor with dtype Float"))
  }

  @Test func whereAcceptsAUInt8Condition() {
    let condition = Tensor([1, 0] as [UInt8])
    #expect(Tensor.where(condition, Tensor.ones(2), Tensor.zeros(2)) == Tensor([1, 0] as [Float]))
  }

  @Test func gatherAndScatterTakeInt32Indices() {
    let x = Tensor.arange(6).float().view(2, 3)
    let index = Tensor([0, 2, 1, 0] as [Int32], shape: [2, 2])
    #expect(x.gather(dim: 1, index: index) == Tensor([[0, 2], [4, 3]] as [[Float]]))
    #expect(
      x.clone().scatter_(dim: 1, index: index, src: Tensor.full([2, 2], 9.0))
        == Tensor([[9, 1, 9], [9, 9, 5]] as [[Float]]))
  }

  @Test func gatherRejectsInt16Indices() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Tensor.ones(2, 3).gather(dim: 1, index: Tensor([0, 1] as [Int16], shape: [2, 1]))
    }
    #expect(
      standardError(of: result).contains("gather(): Expected dtype int32/int64 for index"))
  }

  @Test func sharingAnEmptyBufferAllocatesNothingAndFreesNothing() {
    let calls = CallCounter()
    do {
      let empty = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
      let a = Tensor(sharing: empty, shape: [0], deallocator: .custom { _ in calls.increment() })
      let b = Tensor(sharing: empty, shape: [2, 0], deallocator: .custom { _ in calls.increment() })
      #expect(a.numel == 0 && b.shape == [2, 0])
      #expect(a.storage.data == Storage.emptyPlaceholder && b.storage.data == Storage.emptyPlaceholder)
    }
    #expect(calls.value == 0)
  }
}

/// Counts calls from `@Sendable` closures.
final class CallCounter: @unchecked Sendable {
  private let lock = NSLock()
  private var count = 0
  var value: Int { lock.withLock { count } }
  func increment() { lock.withLock { count += 1 } }
}
