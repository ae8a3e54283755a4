import Distributed
import Foundation

/// Joins the job an `mpirun` launch started (`--distributed` in the examples): returns the
/// process group, shares the machine's cores among the ranks on it (as `torchrun` sets
/// `OMP_NUM_THREADS`; more threads than cores make the kernels' threads wait on each other),
/// and on ranks other than 0 sends standard output to /dev/null, so only rank 0 prints.
/// Stops with the reason when the build or the launch cannot form a group.
public func joinDistributedJob() -> ProcessGroup {
  do {
    let group = try ProcessGroup()
    let local = Int(ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"] ?? "") ?? group.worldSize
    Tensor.setNumThreads(max(1, ProcessInfo.processInfo.activeProcessorCount / max(local, 1)))
    if group.rank != 0 {
      let null = open("/dev/null", O_WRONLY)
      if null >= 0 { dup2(null, STDOUT_FILENO) }
    }
    return group
  } catch {
    print("--distributed: \(error)")
    exit(1)
  }
}
