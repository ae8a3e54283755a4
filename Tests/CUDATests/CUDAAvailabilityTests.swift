import CUDABackend
import Tensor
import TestSupport
import Testing

@Suite struct CUDAAvailabilityTests {
  /// The core finds the CUDA module's loader by its mangled name (it has no dependency on the
  /// module): the name it looks for is the type's.
  @Test func theCoreFindsTheCUDALoaderByItsMangledName() {
    #expect(_mangledTypeName(CUDADeviceLoader.self) == BackendRegistry.loaderNames["cuda"])
  }

  #if CUDA
    @Test(.enabled(if: !CUDA.isAvailable, "a CUDA device is present"))
    func withoutADeviceCUDAIsUnavailableAndSaysWhy() throws {
      #expect(CUDA.deviceCount == 0)
      #expect(CUDA.unavailableReason != nil)
      do {
        _ = try Tensor.ones(2).cuda()
        Issue.record("expected an error")
      } catch {
        // The runtime's own reason, e.g. cudaErrorInsufficientDriver or cudaErrorNoDevice: the
        // core loaded the CUDA module's backend (not "built without the CUDA trait").
        #expect("\(error)".contains("cuda") && !"\(error)".contains("--traits CUDA"), "\(error)")
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

  @Test(.enabled(if: !CUDA.isAvailable, "a CUDA device is present"))
  func streamsAndEventsNeedADevice() throws {
    #expect(throws: DeviceError.self) { try CUDA.Stream() }
    #expect(throws: DeviceError.self) { try CUDA.Event(enableTiming: true) }
    #expect(throws: DeviceError.self) { try Tensor.ones(2).to(.cuda(0), nonBlocking: true) }
    // The default stream is a value, and the current one unless a region sets another.
    #expect(CUDA.Stream.current(device: 0) == CUDA.Stream.defaultStream(device: 0))
    #expect(CUDA.Stream.defaultStream(device: 1) != CUDA.Stream.defaultStream(device: 0))
    #expect("\(CUDA.Stream.defaultStream(device: 1))" == "Stream(device: 1, default)")
    // Moves within the host never need a stream.
    #expect(try Tensor.ones(2).to(.cpu, nonBlocking: true).toArray(Float.self) == [1, 1])
  }

  @Test func tf32IsOffByDefaultAndFollowsTheMatmulPrecision() async {
    await #expect(processExitsWith: .success) {
      guard !CUDA.allowTF32, CUDA.float32MatmulPrecision == "highest" else { fatalError("TF32 on by default") }
      CUDA.setFloat32MatmulPrecision("high")
      guard CUDA.allowTF32, CUDA.float32MatmulPrecision == "high" else { fatalError("high did not allow TF32") }
      CUDA.allowTF32 = false
      guard CUDA.float32MatmulPrecision == "highest" else { fatalError("allowTF32 = false did not restore highest") }
    }
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      CUDA.setFloat32MatmulPrecision("fast")
    }
    #expect(
      standardError(of: result).contains(
        "setFloat32MatmulPrecision: expected \"highest\", \"high\" or \"medium\", got \"fast\""))
  }

  @Test func movingToTheCPUIsAlwaysPossible() throws {
    let x = Tensor.ones(2)
    #expect(try x.cpu() === x)
    #expect(try x.to(.cpu) === x)
  }
}
