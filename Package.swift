// swift-tools-version: 6.1
import PackageDescription

let package = Package(
  name: "SwiftTensor",
  products: [
    .library(name: "Tensor", targets: ["Tensor"]),
    .library(name: "Autograd", targets: ["Autograd"]),
  ],
  targets: [
    .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
    .target(name: "Tensor", dependencies: ["CZlib"]),
    .target(name: "Autograd", dependencies: ["Tensor"]),
    .executableTarget(name: "Tutorial", dependencies: ["Tensor"]),
    .executableTarget(name: "Benchmarks", dependencies: ["Autograd"]),
    .target(name: "TestSupport", dependencies: ["Tensor"], path: "Sources/TestSupport"),
    .testTarget(
      name: "TensorTests", dependencies: ["Tensor", "TestSupport"],
      exclude: ["Fixtures", "Interop"]),
    .testTarget(
      name: "AutogradTests", dependencies: ["Autograd", "TestSupport"],
      exclude: ["Fixtures"]),
  ]
)
