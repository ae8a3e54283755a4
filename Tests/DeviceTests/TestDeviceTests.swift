import Autograd
import CUDABackend
import DeviceParity
import Tensor
import TestSupport
import Testing

/// Moves, device checks and memory statistics on the test device (`Device.test`), which
/// stands in for a GPU on machines without one. Only this suite allocates on `test:1`, so its
/// memory counts are exact.
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

  @Test func theAllocatorCountsBytesAndPeaks() throws {
    let before = TestDevice.memoryAllocated(1)
    TestDevice.resetPeakMemoryStats(1)
    do {
      let x = try Tensor.zeros(1000).to(.test(1))
      #expect(TestDevice.memoryAllocated(1) == before + 4000)
      let y = x * x
      #expect(TestDevice.memoryAllocated(1) == before + 8000)
      #expect(y.numel == 1000)
    }
    #expect(TestDevice.memoryAllocated(1) == before)
    #expect(TestDevice.maxMemoryAllocated(1) == before + 8000)
    let stats = TestDevice.memoryStats(1)
    #expect(stats.reservedBytes == before && stats.peakReservedBytes == before + 8000 && stats.outOfMemoryErrors == 0)
    TestDevice.resetPeakMemoryStats(1)
    #expect(TestDevice.maxMemoryAllocated(1) == before && TestDevice.memoryStats(1).peakReservedBytes == before)
  }

  /// Every op of the parity suite (the one the GPU check runs) gives the CPU's result.
  @Test func everyParityCaseMatchesTheCPU() {
    for outcome in DeviceParity.run(on: .test(0)) {
      #expect(outcome.failure == nil, "\(outcome)")
    }
  }
}
