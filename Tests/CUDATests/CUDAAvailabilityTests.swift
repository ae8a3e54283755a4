import CUDABackend
import Tensor
import Testing

@Suite struct CUDAAvailabilityTests {
  #if CUDA
    @Test(.enabled(if: !CUDA.isAvailable, "a CUDA device is present"))
    func withoutADeviceCUDAIsUnavailableAndSaysWhy() throws {
      #expect(CUDA.deviceCount == 0)
      #expect(CUDA.unavailableReason != nil)
      do {
        _ = try Tensor.ones(2).cuda()
        Issue.record("expected an error")
      } catch {
        // The runtime's own reason, e.g. cudaErrorInsufficientDriver or cudaErrorNoDevice.
        #expect("\(error)".contains("cuda"))
      }
    }
  #else
    @Test func withoutTheTraitCUDAIsUnavailable() {
      #expect(!CUDA.isAvailable)
      #expect(CUDA.deviceCount == 0)
      #expect(CUDA.memoryAllocated() == 0)
      #expect(CUDA.memoryStats() == MemoryStats() && CUDA.maxMemoryAllocated() == 0 && CUDA.maxMemoryReserved() == 0)
      do {
        _ = try Tensor.ones(2).cuda()
        Issue.record("expected an error")
      } catch {
        #expect("\(error)".contains("--traits CUDA"))
      }
      #expect(throws: DeviceError.self) { try Tensor.ones(2).to(.cuda(1)) }
    }
  #endif

  @Test func movingToTheCPUIsAlwaysPossible() throws {
    let x = Tensor.ones(2)
    #expect(try x.cpu() === x)
    #expect(try x.to(.cpu) === x)
  }
}
