import Autograd
import CUDABackend
import Data
import DeviceParity
import Foundation
import Tensor
import TestSupport
import Testing

/// Moves, device checks and memory statistics on the test device (`Device.test`), which
/// stands in for a GPU on machines without one.
@Suite struct TestDeviceTests {
  @Test func movesCopyTheValuesAndKeepTheDtype() throws {
    let x = Tensor([1, 2, 3, 4] as [Float]).view(2, 2)
    let y = try x.to(.test(0))
    #expect(y.device == .test(0) && y.dtype == .float32 && y.shape == [2, 2])
    #expect(y.storage !== x.storage)
    #expect(try y.cpu().toArray(Float.self) == [1, 2, 3, 4])
    #expect(try y.to(.test(0)) === y)
    #expect(try y.to(.test(1)).device == .test(1))
    #expect(try y.to(.test(1)).to(.cpu).toArray(Float.self) == [1, 2, 3, 4])
    // A transposed source arrives contiguous; a channels-last one stays channels-last.
    let transposed = try x.t().to(.test(0))
    #expect(transposed.isContiguous && transposed.toArray(Float.self) == [1, 3, 2, 4])
    let image = Tensor.arange(24).float().view(1, 2, 3, 4).contiguous(memoryFormat: .channelsLast)
    let movedImage = try image.to(.test(0))
    #expect(movedImage.isContiguous(memoryFormat: .channelsLast) && movedImage.stride() == image.stride())
    #expect(movedImage.toArray(Float.self) == image.toArray(Float.self))
    let int64 = try Tensor.arange(5).to(.test(0))
    #expect(int64.dtype == .int64 && int64.toArray(Int64.self) == [0, 1, 2, 3, 4])
  }

  @Test func opsRunOnTheDeviceAndStayThere() throws {
    let y = try Tensor([1, 2, 3, 4] as [Float]).to(.test(0))
    let z = (y * 2 + 1).sum()
    #expect(z.device == .test(0) && z.item() == 24)
    // A 0-d host tensor joins an op on any device, as in PyTorch.
    #expect((y + Tensor(1.0)).device == .test(0))
    #expect(y.matmul(y).device == .test(0) && y.matmul(y).item() == 30)
    #expect(y.nonzero().device == .test(0))
  }

  @Test func spellingsParseAsPyTorchsDo() {
    #expect(Device("cpu") == .cpu && Device("cuda") == .cuda(0) && Device("cuda:1") == .cuda(1))
    #expect(Device("test") == .test(0) && Device("test:1") == .test(1))
    #expect(Device("gpu") == nil && Device("cuda:") == nil && Device("cuda:-1") == nil && Device("cpu:1") == nil)
    #expect(Device.test(1).description == "test:1" && Device.test(1).type == "test")
  }

  @Test func aBadOrdinalThrowsWithTheReason() {
    do {
      _ = try Tensor.ones(2).to(.test(2))
      Issue.record("expected an error")
    } catch {
      #expect("\(error)" == "invalid device ordinal: test:2 requested, 2 test devices present (test:0 ... test:1)")
    }
  }

  @Test func mixingDevicesStopsNamingBoth() async {
    let hostAndDevice = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Tensor.ones(2) + (try! Tensor.ones(2).to(.test(0)))
    }
    #expect(
      standardError(of: hostAndDevice).contains(
        "add: Expected all tensors to be on the same device, but found at least two devices, cpu and test:0!"))
    let twoDevices = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = (try! Tensor.ones(2, 2).to(.test(1))).matmul(try! Tensor.ones(2, 2).to(.test(0)))
    }
    #expect(standardError(of: twoDevices).contains("test:1 and test:0"))
  }

  /// Exact byte counts, in a process of its own (other tests allocate on the test devices
  /// concurrently): the child prints what differs and fails.
  @Test func theAllocatorCountsBytesAndPeaks() async {
    let result = await #expect(processExitsWith: .success, observing: [\.standardErrorContent]) {
      var failures: [String] = []
      func check(_ ok: Bool, _ what: String) { if !ok { failures.append(what) } }
      do {
        let x = try Tensor.zeros(1000).to(.test(1))
        check(TestDevice.memoryAllocated(1) == 4000, "allocated after one tensor: \(TestDevice.memoryAllocated(1))")
        let y = x * x
        check(TestDevice.memoryAllocated(1) == 8000, "allocated after two: \(TestDevice.memoryAllocated(1))")
        check(y.numel == 1000, "numel")
      }
      let stats = TestDevice.memoryStats(1)
      check(stats.allocatedBytes == 0 && stats.peakAllocatedBytes == 8000, "after freeing: \(stats)")
      check(
        stats.reservedBytes == 0 && stats.peakReservedBytes == 8000 && stats.outOfMemoryErrors == 0,
        "reserved: \(stats)")
      check(TestDevice.maxMemoryAllocated(1) == 8000, "max allocated")
      TestDevice.resetPeakMemoryStats(1)
      check(TestDevice.maxMemoryAllocated(1) == 0 && TestDevice.memoryStats(1).peakReservedBytes == 0, "after reset")
      if !failures.isEmpty {
        FileHandle.standardError.write(Data(failures.joined(separator: "\n").utf8))
        exit(1)
      }
    }
    #expect(standardError(of: result).isEmpty)
  }

  /// The GPU check's training comparisons (CPU vs device loss curves, float32 and autocast
  /// with a scaler) pass on the test device.
  @Test func theGPUChecksTrainingRunsPass() {
    let outcomes = DeviceParity.trainingRuns(on: .test(0))
    #expect(outcomes.count == 6)
    for outcome in outcomes { #expect(outcome.failure == nil, "\(outcome)") }
  }

  /// Every op of the parity suite (the one the GPU check runs) gives the CPU's result.
  @Test func everyParityCaseMatchesTheCPU() {
    for outcome in DeviceParity.run(on: .test(0)) {
      #expect(outcome.failure == nil, "\(outcome)")
    }
  }

  /// The GPU check's random-number checks (the device's Philox stream against the host
  /// reference, offsets, dropout's keep rate) pass on the test device, and the CUDA-only
  /// checks (streams, TF32) have nothing to run there.
  @Test func theGPUChecksRandomStreamChecksPass() {
    let outcomes = DeviceParity.randomStreams(on: .test(0))
    #expect(outcomes.count == 17)
    for outcome in outcomes { #expect(outcome.failure == nil, "\(outcome)") }
    #expect(DeviceParity.streamChecks(on: .test(0)).isEmpty && DeviceParity.tf32Check(on: .test(0)).isEmpty)
  }

  @Test func pinningCopiesIntoPinnedHostMemoryOnce() throws {
    let x = Tensor([1, 2, 3, 4] as [Float]).view(2, 2).t()
    #expect(!x.isPinned)
    let pinned = try x.pinMemory(device: .test(0))
    #expect(pinned.isPinned && pinned.device == .cpu && pinned.isContiguous && pinned.storage !== x.storage)
    #expect(pinned.toArray(Float.self) == [1, 3, 2, 4])
    #expect(try pinned.pinMemory(device: .test(0)) === pinned)
    #expect(try pinned.to(.test(0)).toArray(Float.self) == [1, 3, 2, 4])
    do {
      _ = try x.pinMemory(device: .cpu)
      Issue.record("expected an error")
    } catch {
      #expect("\(error)".contains("cpu has no pinned host memory"))
    }
  }
}

/// `DataLoader(pinMemory: true)` on the test device: every batch the built-in collation makes
/// is pinned, with the same values as an unpinned loader's, with and without workers.
@Suite struct PinnedDataLoadingTests {
  @Test(arguments: [0, 2])
  func batchesArePinnedForTheDevice(workers: Int) throws {
    let dataset = TensorDataset(Tensor.arange(40).float().view(10, 4), Tensor.arange(10))
    let plain = DataLoader(dataset, batchSize: 3, numWorkers: workers)
    let pinned = DataLoader(dataset, batchSize: 3, numWorkers: workers, pinMemory: true, pinMemoryDevice: .test(0))
    #expect(pinned.pinMemoryDevice == .test(0) && plain.pinMemoryDevice == nil)
    var count = 0
    for (a, b) in zip(plain, pinned) {
      #expect(b.allSatisfy { $0.isPinned && $0.device == .cpu } && a.allSatisfy { !$0.isPinned })
      #expect(zip(a, b).allSatisfy { $0.toArray(Double.self) == $1.toArray(Double.self) })
      #expect(try b[0].to(.test(0)).device == .test(0))
      count += 1
    }
    #expect(count == 4)
  }

  @Test func aDeviceThatCannotPinLeavesBatchesUnpinned() {
    let loader = DataLoader(TensorDataset(Tensor.ones(4, 2)), batchSize: 2, pinMemory: true, pinMemoryDevice: .cpu)
    #expect(loader.pinMemoryDevice == nil)
    #expect(loader.allSatisfy { $0.allSatisfy { !$0.isPinned } })
  }
}
