import CUDABackend
import DeviceParity
import Tensor
import Testing

@Suite struct DeviceParityTests {
  @Test(.enabled(if: CUDA.isAvailable, "needs a CUDA device"))
  func everyOpMatchesTheCPU() {
    for outcome in DeviceParity.run(on: .cuda(0)) {
      #expect(outcome.failure == nil, "\(outcome)")
    }
  }

  @Test(.enabled(if: CUDA.isAvailable, "needs a CUDA device"))
  func mixingDevicesStops() async {
    await #expect(processExitsWith: .failure) {
      _ = Tensor.ones(2) + (try! Tensor.ones(2).cuda())
    }
  }

  @Test(.enabled(if: CUDA.isAvailable, "needs a CUDA device"))
  func outOfMemoryThrowsAndTheProcessCarriesOn() throws {
    let huge = Tensor.empty(1).expand(1 << 40)
    #expect(throws: DeviceError.self) { try huge.contiguous().cuda() }
    #expect(try Tensor.ones(3).cuda().sum().item() == 3)
  }

  @Test func theCPUCasesAreConsistent() {
    // The parity cases themselves run on the CPU anywhere: each must produce a tensor.
    #expect(DeviceParity.cases.count > 100)
    for c in DeviceParity.run(on: .cpu) { #expect(c.failure == nil, "\(c)") }
  }
}
