import Data
import Foundation
import TestSupport
import Testing

@Suite struct TransformsTests {
  let image = (Tensor.arange(3 * 4 * 6).float() / 72).view(3, 4, 6)

  @Test func normalizePerChannel() {
    let out = Transforms.Normalize(mean: [0.5, 0, 1], std: [0.5, 2, 1])(Tensor.ones(3, 1, 2))
    #expect(out.flatten().toArray(Float.self) == [1, 1, 0.5, 0.5, 0, 0])
  }

  @Test func resizeKeepsTheAspectRatioWithOneSide() {
    let wide = Tensor.rand([3, 10, 20], generator: Generator(seed: 1))
    let resized = Transforms.Resize(5)(wide)
    #expect(resized.shape == [3, 5, 10])
    let reference = Functional.interpolate(wide.unsqueeze(0), size: [5, 10], mode: .bilinear, antialias: true)[0]
    #expect(resized.equal(reference))
    #expect(Transforms.Resize(5)(Tensor.zeros(1, 21, 10)).shape == [1, 10, 5])
    #expect(Transforms.Resize([4, 6], interpolation: .nearest)(Tensor.zeros(2, 3, 8, 8)).shape == [2, 3, 4, 6])
  }

  @Test func centerCropRoundsAsTorchvisionAndPads() {
    let crop = Transforms.CenterCrop((2, 3))(image)
    // top = round(2 / 2) = 1, left = round(3 / 2) = 2 (Python rounds half to even).
    #expect(crop.equal(image[TensorIndex.all, 1..<3, 2..<5]))
    let padded = Transforms.CenterCrop(6)(Tensor.ones(1, 2, 2))
    #expect(padded.shape == [1, 6, 6] && padded.sum().item() == 4 && padded[0, 2, 2].item() == 1)
  }

  @Test func randomCropDrawsItsCornerFromTheGenerator() {
    let crop = Transforms.RandomCrop(4, padding: 2, generator: Generator(seed: 3))
    let twin = Generator(seed: 3)
    let top = Int(Tensor.randint(0, 8 - 4 + 1, [1], generator: twin).item(Int64.self))
    let left = Int(Tensor.randint(0, 10 - 4 + 1, [1], generator: twin).item(Int64.self))
    let padded = Functional.pad(image, [2, 2, 2, 2])
    #expect(crop(image).equal(padded[TensorIndex.all, top..<(top + 4), left..<(left + 4)]))
    #expect(Transforms.RandomCrop((4, 6))(image).equal(image))
  }

  @Test func flipsWithItsProbability() {
    #expect(Transforms.RandomHorizontalFlip(p: 1)(image).equal(image.flip(2)))
    #expect(Transforms.RandomHorizontalFlip(p: 0)(image).equal(image))
    let g = Generator(seed: 9)
    let flips = (0..<200).filter { _ in !Transforms.RandomHorizontalFlip(generator: g)(image).equal(image) }.count
    #expect(flips > 70 && flips < 130)
  }

  @Test func randomResizedCropIsReproducible() {
    let big = Tensor.rand([3, 32, 40], generator: Generator(seed: 2))
    let a = Transforms.RandomResizedCrop(16, generator: Generator(seed: 5))(big)
    let b = Transforms.RandomResizedCrop(16, generator: Generator(seed: 5))(big)
    #expect(a.shape == [3, 16, 16] && a.equal(b))
    let (top, left, h, w) = Transforms.RandomResizedCrop(16, generator: Generator(seed: 5)).parameters(
      height: 32, width: 40)
    #expect(top >= 0 && left >= 0 && top + h <= 32 && left + w <= 40)
    let area = Double(h * w) / (32 * 40)
    #expect(area >= 0.07 && area <= 1.01)
    // The whole image at ratio 1 is a plain resize.
    let square = Tensor.rand([3, 20, 20], generator: Generator(seed: 4))
    #expect(
      Transforms.RandomResizedCrop(10, scale: (1, 1), ratio: (1, 1))(square).equal(Transforms.Resize([10, 10])(square)))
  }

  @Test func colorJitterBlendsAsTorchvision() {
    let g = Generator(seed: 8)
    let twin = Generator(seed: 8)
    let order = Tensor.randperm(4, generator: twin).toArray(Int64.self)
    let b = Tensor.empty([1], dtype: .float32).uniform_(from: 0.6, to: 1.4, generator: twin).item()
    let c = Tensor.empty([1], dtype: .float32).uniform_(from: 0.5, to: 1.5, generator: twin).item()
    let out = Transforms.ColorJitter(brightness: 0.4, contrast: 0.5, generator: g)(image)
    var expected = image
    for step in order {
      if step == 0 { expected = (expected * b).clamp(min: 0, max: 1) }
      if step == 1 {
        let grey = expected[0] * 0.2989 + expected[1] * 0.587 + expected[2] * 0.114
        expected = (expected * c + grey.mean() * (1 - c)).clamp(min: 0, max: 1)
      }
    }
    expectClose(out, expected, rtol: 1e-6, atol: 1e-6)
  }

  @Test func composeAppliesInOrder() {
    let pipeline = Transforms.Compose([
      Transforms.CenterCrop(2), Transforms.Normalize(mean: [0, 0, 0], std: [0.5, 0.5, 0.5]),
    ])
    #expect(pipeline(image).equal(Transforms.CenterCrop(2)(image) * 2))
  }
}
