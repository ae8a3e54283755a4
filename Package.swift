// swift-tools-version: 6.1
import PackageDescription

let package = Package(
  name: "SwiftTensor",
  products: [
    .library(name: "CUDABackend", targets: ["CUDABackend"]),
    .library(name: "Tensor", targets: ["Tensor"]),
    .library(name: "Autograd", targets: ["Autograd"]),
    .library(name: "NN", targets: ["NN"]),
    .library(name: "Optim", targets: ["Optim"]),
    .library(name: "Data", targets: ["Data"]),
    .library(name: "Distributed", targets: ["Distributed"]),
  ],
  traits: [
    .trait(name: "CUDA", description: "Build the CUDA backend (needs CUDA headers and libraries; see the README)"),
    .trait(name: "MPI", description: "Build the MPI process group (needs Open MPI: openmpi-bin, libopenmpi-dev)"),
  ],
  targets: [
    .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
    .target(name: "CKernels"),
    .target(name: "Tensor", dependencies: ["CZlib", "CKernels"]),
    .target(name: "Autograd", dependencies: ["Tensor"]),
    .systemLibrary(name: "CCUDA", path: "Sources/CCUDA"),
    .target(
      name: "CUDABackend",
      dependencies: ["Tensor", .target(name: "CCUDA", condition: .when(traits: ["CUDA"]))]),
    .target(name: "DeviceParity", dependencies: ["NN", "Optim", "CUDABackend", "ExampleSupport"]),
    .executableTarget(name: "CUDACheck", dependencies: ["DeviceParity", "ExampleSupport", "NN", "Optim"]),
    .executableTarget(name: "DistributedCheck", dependencies: ["Distributed", "Optim", "CUDABackend"]),
    .target(name: "NN", dependencies: ["Autograd"]),
    .target(name: "Optim", dependencies: ["Autograd"]),
    .target(name: "Data", dependencies: ["NN"]),
    .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c"),
    .systemLibrary(name: "CNCCL", path: "Sources/CNCCL"),
    .target(
      name: "Distributed",
      dependencies: [
        "NN", .target(name: "CMPI", condition: .when(traits: ["MPI"])), .target(name: "CNCCL", condition: .when(traits: ["CUDA"])),
      ]),
    .executableTarget(name: "Tutorial", dependencies: ["NN", "Optim", "CUDABackend"]),
    .executableTarget(name: "Benchmarks", dependencies: ["NN", "Optim", "Data", "ExampleSupport", "CKernels"]),
    .executableTarget(name: "UsageProbe", dependencies: ["NN"]),
    .target(name: "ExampleSupport", dependencies: ["NN", "Optim", "Data", "Distributed", "CUDABackend"]),
    .executableTarget(name: "Train", dependencies: ["ExampleSupport", "Data", "Distributed"]),
    .executableTarget(name: "FineTune", dependencies: ["ExampleSupport", "Data"]),
    .executableTarget(name: "GPT", dependencies: ["ExampleSupport"]),
    .executableTarget(name: "CharRNN", dependencies: ["ExampleSupport"]),
    .target(name: "TestSupport", dependencies: ["Tensor"], path: "Sources/TestSupport"),
    .testTarget(
      name: "TensorTests", dependencies: ["Tensor", "TestSupport"],
      exclude: ["Fixtures", "Interop"]),
    .testTarget(
      name: "NNTests", dependencies: ["NN", "Optim", "Data", "ExampleSupport", "TestSupport"],
      exclude: ["Fixtures", "GradGradFixtures"]),
    .testTarget(name: "CUDATests", dependencies: ["CUDABackend", "DeviceParity", "Autograd", "TestSupport"]),
    .testTarget(
      name: "DeviceTests", dependencies: ["NN", "Optim", "Data", "CUDABackend", "DeviceParity", "ExampleSupport", "TestSupport"]),
    .testTarget(name: "DataTests", dependencies: ["Data", "Optim", "TestSupport"]),
    .testTarget(name: "DistributedTests", dependencies: ["Distributed", "DistributedCheck", "TestSupport"]),
    .testTarget(
      name: "AutogradTests", dependencies: ["Autograd", "TestSupport"],
      exclude: ["Fixtures", "GradGradFixtures"]),
  ]
)
