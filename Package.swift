// swift-tools-version: 6.1
import PackageDescription

let package = Package(
  name: "SwiftTensor",
  products: [
    .library(name: "Tensor", targets: ["Tensor"])
  ],
  targets: [
    .target(name: "Tensor"),
    .executableTarget(name: "Tutorial", dependencies: ["Tensor"]),
    .target(name: "TestSupport", dependencies: ["Tensor"], path: "Sources/TestSupport"),
    .testTarget(
      name: "TensorTests", dependencies: ["Tensor", "TestSupport"],
      exclude: ["Fixtures"]),
  ]
)
