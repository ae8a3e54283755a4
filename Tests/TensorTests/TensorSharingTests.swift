import Foundation
import TestSupport
import Testing

@testable import Tensor

@Suite struct TensorSharingTests {
  @Test func tensorWritesAreSeenThroughItsBuffer() {
    // The tutorial: a = ones(5); b = a.numpy(); a.add_(1) changes b.
    let a = Tensor.ones(5)
    a.withUnsafeBufferPointer(as: Float.self) { b in
      a.add_(1)
      #expect(Array(b) == [2, 2, 2, 2, 2])
    }
    a.withUnsafeMutableBufferPointer(as: Float.self) { b in b[0] = 7 }
    #expect(a.toArray(Float.self) == [7, 2, 2, 2, 2])
  }

  @Test func bufferWritesAreSeenByTheTensor() {
    // The tutorial: a = np.ones(5); b = torch.from_numpy(a); np.add(a, 1, out=a) changes b.
    let buffer = UnsafeMutableBufferPointer<Double>.allocate(capacity: 5)
    buffer.initialize(repeating: 1)
    let b = Tensor(sharing: buffer, shape: [5], deallocator: .custom({ $0.deallocate() }))
    for i in buffer.indices { buffer[i] += 1 }
    #expect(b.dtype == .float64)
    #expect(b.toArray(Double.self) == [2, 2, 2, 2, 2])
    b.mul_(3)
    #expect(Array(buffer) == [6, 6, 6, 6, 6])
  }

  @Test func sharedMemoryIsReleasedByTheDeallocator() {
    final class Flag: @unchecked Sendable { var released = false }
    let flag = Flag()
    do {
      let buffer = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 3)
      buffer.initialize(repeating: 4)
      let t = Tensor(
        sharing: buffer, shape: [3],
        deallocator: .custom({ pointer in
          flag.released = true
          pointer.deallocate()
        }))
      #expect(t.sum().item() == 12)
      #expect(!flag.released)
    }
    #expect(flag.released)
  }

  @Test func viewsShareTheBufferToo() {
    let x = Tensor.arange(6).view(2, 3)
    x[1].withUnsafeBufferPointer(as: Int.self) { #expect(Array($0) == [3, 4, 5]) }
  }

  @Test func nonContiguousBufferAccessStops() async {
    await #expect(processExitsWith: .failure) {
      Tensor.zeros(2, 3).t().withUnsafeBufferPointer(as: Float.self) { _ in }
    }
  }

  @Test func wrongElementTypeStops() async {
    await #expect(processExitsWith: .failure) {
      Tensor.zeros(2).withUnsafeBufferPointer(as: Double.self) { _ in }
    }
  }

  @Test func sharedShapeMismatchStops() async {
    await #expect(processExitsWith: .failure) {
      let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: 4)
      _ = Tensor(sharing: buffer, shape: [5])
    }
  }
}
